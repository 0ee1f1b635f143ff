"""What every step of composing a broadcast shares: where the member's dialog is, stopping, and
how a draft and its audience are described."""

from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import dialogs
from bot.actions import action
from bot.context import Turn, escape
from bot.render import short, title
from i18n.translate import Translator
from models.broadcasts import operations as ops
from models.broadcasts import queries
from models.broadcasts.entities import Broadcast, BroadcastStatus
from models.dialogs.entities import DialogState
from models.events.entities import Event
from models.themes.entities import Theme

FLOW = "broadcast"  # the dialog flow (``compose.COMPOSE``)


def composing(turn: Turn, broadcast_id: int | None = None) -> DialogState | None:
    """The member's broadcast dialog (on draft ``broadcast_id``, if given), if any."""
    dialog = dialogs.current(turn, dialogs.FLOWS[FLOW])
    if dialog is None or broadcast_id is None:
        return dialog
    return dialog if dialog.answer("broadcast") in (None, broadcast_id) else None


async def at(turn: Turn, broadcast_id: int, step: str, **answers: Any) -> DialogState | None:
    """The member's broadcast dialog on draft ``broadcast_id``, moved to ``step`` (the caller
    shows the step). Every button carries its draft, so a button from before a restart, or of
    another draft, begins the dialog there afresh. None: the dialog moved on meanwhile."""
    wanted = {"broadcast": broadcast_id, **answers}
    dialog = composing(turn, broadcast_id)
    if dialog is None:
        return await dialogs.begin(turn, dialogs.FLOWS[FLOW], step, wanted, ask=False)
    return await dialogs.go(turn, dialog, step, wanted, remember=False, ask=False)


async def to_step(
    turn: Turn, broadcast_id: int, step: str, notice: str = "", **answers: Any
) -> None:
    """Move the dialog on draft ``broadcast_id`` to ``step`` and ask it (above it ``notice``)."""
    dialog = await at(turn, broadcast_id, step, **answers)
    if dialog is not None:
        await dialogs.ask_again(turn, dialog, notice)


@action("Bk")
async def on_back_to_text(turn: Turn, broadcast_id: int) -> None:
    await turn.toast()
    await to_step(turn, broadcast_id, "text")


@action("Ba")
async def on_audience_menu(turn: Turn, broadcast_id: int) -> None:
    """ "Tekst houden ▶" at the text, and "◀ Terug" from a list or the preview."""
    await turn.toast()
    await to_step(turn, broadcast_id, "audience")


@action("Bx")
async def on_stop(turn: Turn, broadcast_id: int) -> None:
    """✖ Stop while composing (``broadcast_id`` 0: before there was a draft)."""
    if composing(turn) is not None:
        await dialogs.leave(turn)
    await stopped(turn, broadcast_id)


async def stopped(turn: Turn, broadcast_id: int | None) -> None:
    """✖ Stop while composing (the dialog has ended): the draft goes, nothing is sent."""
    if broadcast_id:
        async with turn.deps.database.transaction() as session:
            await ops.discard_draft(
                session, actor_id=turn.member.id, broadcast_id=broadcast_id, now=turn.deps.clock()
            )
    await turn.toast()
    await turn.show(turn.t("Gestopt. Er is niets verstuurd."))


async def change(turn: Turn, broadcast_id: int, **changes: Any) -> Broadcast:
    """Change the draft (``ops.update_draft``'s text, attachment or audience)."""
    async with turn.deps.database.transaction() as session:
        return await ops.update_draft(
            session,
            actor_id=turn.member.id,
            broadcast_id=broadcast_id,
            now=turn.deps.clock(),
            **changes,
        )


async def load(turn: Turn, broadcast_id: int) -> Broadcast:
    """The draft, refused once it was confirmed or stopped."""
    async with turn.deps.database.read() as session:
        draft = await ops.get_broadcast(session, actor_id=turn.member.id, broadcast_id=broadcast_id)
    if draft.status is not BroadcastStatus.DRAFT:
        raise ops.BroadcastNotDraft()
    return draft


def excerpt(broadcast: Broadcast) -> str:
    text = re.sub(r"<[^>]+>", "", broadcast.html)
    plain = " ".join(html.unescape(text).split())
    parts = []
    if broadcast.attachment_kind == "photo":
        parts.append("📷")
    elif broadcast.attachment_kind == "document":
        parts.append("📎")
    if plain:
        parts.append(escape(short(plain, 120)))
    return " ".join(parts) or "…"


async def describe_audience(session: AsyncSession, t: Translator, audience: dict[str, Any]) -> str:
    who = await _describe_kind(session, t, audience)
    theme_ids = audience.get("theme_ids") or []
    if not theme_ids:
        return who
    themes = (await session.scalars(select(Theme.name).where(Theme.id.in_(theme_ids)))).all()
    names = ", ".join(escape(name) for name in sorted(themes))
    return t("{who}, wie koos voor een van de thema's {themes}", who=who, themes=names)


async def _describe_kind(session: AsyncSession, t: Translator, audience: dict[str, Any]) -> str:
    kind = audience.get("kind")
    if kind == ops.EVERYONE:
        return t("iedereen")
    if kind == ops.NETWORKS:
        ids = audience.get("network_ids", [])
        names = await queries.network_names(session, ids)
        return t.plural(
            "{n} buurtnetwerk ({names})",
            "{n} buurtnetwerken ({names})",
            len(names),
            names=escape(", ".join(names)),
        )
    if kind == ops.INACTIVE:
        return t("wie zich in {year} nergens voor aanmeldde", year=audience.get("year", ""))
    if kind in ops.EVENT_AUDIENCES:
        event = await session.get(Event, audience.get("event_id"))
        name = (
            f"{escape(title(t, event))} ({t.moment_in_text(event.starts_at)})"
            if event
            else t("(weg)")
        )
        if kind == ops.REGISTRANTS:
            return t("wie zich aanmeldde voor {event}", event=name)
        if kind == ops.WAITLIST:
            return t("wie op de wachtlijst staat voor {event}", event=name)
        return t("wie er was bij {event}", event=name)
    return t("nog niet gekozen")
