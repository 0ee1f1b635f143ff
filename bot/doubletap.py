"""The double tap: many volunteers tap twice by habit, and the second tap lands on whatever the
card shows by then.

A tap edits its card in place, so the second tap of a double tap (120 to 250 ms later) presses
the button that the edited keyboard has where the first one was. Two defences:

- The layout (``bot/render.py``): a card that a registration-changing tap (or the cancel
  question) leads to never has a registration-changing button where that tap's button was.
- The guard, whatever the layout: when a tap edits a card, every registration-changing button
  that lands under that tap's finger carries the moment it was shown, signed in its callback
  data (``bot/callbacks.py``; nothing kept in memory, so a restart changes nothing). A tap on it
  within ``GUARD`` changes nothing and asks first (``bot/buttons.py``).

"Under the finger": the same row counted from the top (a keyboard as the Bot API gives it) or
from the bottom (Telegram's apps keep the newest message at the bottom of the screen, so a card
that grows or shrinks keeps its last row in place), with overlapping columns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import InlineKeyboardButton

from bot.actions import REGISTRY
from bot.callbacks import Callback

GUARD = timedelta(seconds=1.5)

Keyboard = Sequence[Sequence[InlineKeyboardButton]]


@dataclass(frozen=True)
class Spot:
    """Where a button sits: its row from the top and from the bottom, and its share of the
    row's width (buttons in a row are equally wide)."""

    row: int
    row_from_bottom: int
    left: float
    right: float

    def covers(self, keyboard: Keyboard, row: int, column: int) -> bool:
        rows = len(keyboard)
        if row != self.row and rows - 1 - row != self.row_from_bottom:
            return False
        width = len(keyboard[row])
        return column / width < self.right and (column + 1) / width > self.left


def spot_of(keyboard: Keyboard, callback_data: str | None) -> Spot | None:
    """Where the button with ``callback_data`` is on ``keyboard`` (None: not there)."""
    for row, buttons in enumerate(keyboard):
        for column, button in enumerate(buttons):
            if callback_data is not None and button.callback_data == callback_data:
                width = len(buttons)
                return Spot(row, len(keyboard) - 1 - row, column / width, (column + 1) / width)
    return None


def changes_registration(code: str) -> bool:
    """Buttons declared ``@action(..., changes_registration=True)``: register or join the
    waitlist, bring more or fewer people, cancel, claim an offered seat, let it go. Opening,
    asking "Afmelden?" or going back does not."""
    declared = REGISTRY.get(code)
    return declared is not None and declared.changes_registration


def action_of(callback_data: str) -> str:
    """The action of our callback data, without checking anything (``action[.shown]|…``)."""
    return callback_data.split("|", 1)[0].split(".", 1)[0]


def mark_under_finger(
    keyboard: Keyboard, spot: Spot, shown: Callable[[str], str]
) -> list[list[InlineKeyboardButton]]:
    """``keyboard`` with every registration-changing button under ``spot`` given ``shown(data)``
    (the same data, carrying the moment it was shown)."""
    marked: list[list[InlineKeyboardButton]] = []
    for row, buttons in enumerate(keyboard):
        new_row = []
        for column, button in enumerate(buttons):
            data = button.callback_data
            if (
                isinstance(data, str)
                and changes_registration(action_of(data))
                and spot.covers(keyboard, row, column)
            ):
                button = InlineKeyboardButton(button.text, callback_data=shown(data))
            new_row.append(button)
        marked.append(new_row)
    return marked


def too_soon(callback: Callback, now: datetime) -> bool:
    """A registration-changing tap on a button that appeared under the finger of the previous
    tap less than ``GUARD`` ago: most likely the second half of a double tap."""
    return (
        callback.shown_at is not None
        and changes_registration(callback.action)
        and now - callback.shown_at < GUARD
    )
