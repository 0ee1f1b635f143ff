"""What the idea and the question flows share."""

from __future__ import annotations

from telegram import InlineKeyboardButton

from bot import dialogs
from bot.actions import action
from bot.context import Turn
from bot.handlers.home import main_menu
from models.dialogs.entities import DialogState


async def on_stop(turn: Turn, _dialog: DialogState | None = None) -> None:
    """ "✖ Stop" in either flow (``Flow.on_stop``), and on their screens that are no step."""
    await dialogs.leave(turn)
    await turn.toast()
    await turn.show(turn.t("Gestopt; er is niets opgeslagen."), main_menu(turn))


@action("IX")
async def on_stop_pressed(turn: Turn) -> None:
    """ "✖ Stop" on a screen of the flows that is not a dialog step (the dialogue, the theme)."""
    await on_stop(turn)


def stop_button(turn: Turn) -> InlineKeyboardButton:
    return turn.button(turn.t("✖ Stop"), on_stop_pressed)
