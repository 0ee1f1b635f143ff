"""The optional step of /nieuw before the preview: which themes the event carries (✅/▫️), so
the members who chose them hear of it as soon as it is published.

A ``Question`` builds its screen without the database, so the flow puts the active themes in the
dialog's answers when it comes to this step (``offer``): ``theme_choices`` [[id, name], ...];
the chosen ones are ``theme_ids``.
"""

from __future__ import annotations

from typing import Any

from bot.context import Turn
from bot.handlers.programme.steps import Answer, Next, Question, Screen, choice, screen
from i18n.translate import N_
from models.dialogs.entities import DialogState
from models.errors import DomainError
from models.themes.operations import active_themes

STEP = "themes"
DONE = "done"


async def offer(turn: Turn) -> dict[str, Any]:
    """The answers this step needs: the themes to choose from, as they are now."""
    async with turn.deps.database.read() as session:
        offered = await active_themes(session)
    return {"theme_choices": [[theme.id, theme.name] for theme in offered]}


def _ask(turn: Turn, dialog: DialogState) -> Screen:
    t = turn.t
    chosen = set(dialog.answer("theme_ids") or [])
    buttons = [
        choice(turn, dialog, ("✅ " if theme_id in chosen else "▫️ ") + name, f"t{theme_id}")
        for theme_id, name in dialog.answer("theme_choices") or []
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([choice(turn, dialog, t("Verder ▶") if chosen else t("Overslaan"), DONE)])
    return screen(
        turn,
        dialog,
        t(
            "Over welke thema's gaat het? Wie een ervan koos, hoort het meteen als je "
            "publiceert. (Mag ook zonder.)"
        ),
        rows,
    )


async def _take(_turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    value = answer.choice or ""
    if value == DONE:
        return Next()
    offered = {int(theme_id) for theme_id, _name in dialog.answer("theme_choices") or []}
    if not value.startswith("t") or not value[1:].isdigit() or int(value[1:]) not in offered:
        raise DomainError(N_("Kies een van de knoppen."))
    theme_id = int(value[1:])
    chosen = list(dialog.answer("theme_ids") or [])
    chosen = [i for i in chosen if i != theme_id] if theme_id in chosen else [*chosen, theme_id]
    return Next({"theme_ids": chosen}, branch=STEP)  # the same question, with the new ticks


THEMES_QUESTION = Question(_ask, _take)
