"""An event's themes from its admin card ("🏷 Thema's"): a multi-select of the active themes
(✅/▫️), each tap saved at once (``set_event_themes``: organisers only, audited). Themes set
before publishing count for the alerts (``models/alerts``); changed later, they count for the
agenda and the digest."""

from __future__ import annotations

from bot.actions import EventCode, action
from bot.context import Buttons, Turn, escape
from bot.render import title
from models.events.operations import event_by_code
from models.organisers.authorisation import require_organiser
from models.themes import operations as themes


@action("EK")
async def show_event_themes(turn: Turn, code: EventCode) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
        event = await event_by_code(session, code)
        offered = await themes.active_themes(session)
        carried = {theme.id for theme in await themes.event_themes_of(session, event.id)}
    buttons = [
        turn.button(
            ("✅ " if theme.id in carried else "▫️ ") + theme.name, on_toggle, code, theme.id
        )
        for theme in offered
    ]
    rows: Buttons = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([turn.button(t("◀ Terug"), "EO", code)])  # the admin card
    await turn.toast()
    await turn.show(
        t(
            "<b>Thema's van {title}</b>\nWie een van deze thema's koos, hoort het meteen "
            "als de bijeenkomst gepubliceerd wordt.",
            title=escape(title(t, event)),
        ),
        rows,
    )


@action("EY")
async def on_toggle(turn: Turn, code: EventCode, theme_id: int) -> None:
    async with turn.deps.database.transaction() as session:
        event = await event_by_code(session, code)
        current = [theme.id for theme in await themes.event_themes_of(session, event.id)]
        wanted = [i for i in current if i != theme_id]
        if theme_id not in current:
            wanted.append(theme_id)
        await themes.set_event_themes(
            session,
            actor_id=turn.member.id,
            event_id=event.id,
            theme_ids=wanted,
            now=turn.deps.clock(),
        )
    await turn.toast(turn.t("Opgeslagen."))
    await show_event_themes(turn, code)
