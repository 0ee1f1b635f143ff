"""One entry for every inline button: check the signature, then call the feature's handler.

An old button, a button for an event that was cancelled or removed, or a forged one gets a clear
answer and changes nothing.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot import dialogs, doubletap, errors
from bot.actions import find
from bot.callbacks import InvalidCallback
from bot.context import Turn, begin_turn
from bot.handlers import (
    agenda,
    attendance,
    broadcasts,
    calendar,
    feedback,
    home,
    ideas,
    mine,
    onboarding,
    privacy,
    programme,
    roles,
    settings,
)
from models.errors import DomainError, NotFound

log = logging.getLogger(__name__)

# Every feature declares its buttons with @action (bot/actions.py) where their handlers are;
# importing them here makes every button known wherever this router is.
DECLARING = (
    agenda,
    attendance,
    broadcasts,
    calendar,
    dialogs,
    feedback,
    home,
    ideas,
    mine,
    onboarding,
    privacy,
    programme,
    roles,
    settings,
)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    turn = await begin_turn(update, context)
    declared = None
    try:
        callback = turn.deps.signer.decode(query.from_user.id, query.data)
        declared = find(callback.action)
        if doubletap.too_soon(callback, turn.deps.clock()):
            await agenda.confirm_change(turn, callback)
        else:
            await declared.run(turn, callback)
    except InvalidCallback as error:
        await errors.respond(turn, error)
    except DomainError as error:
        await errors.respond(turn, error)
        if declared is not None and declared.shows_event:
            await _show_event_again(turn, callback.arg(0))


async def _show_event_again(turn: Turn, code: str) -> None:
    """After a refusal: the card as it is now, so the member sees why. An event that is gone
    (or hidden) leaves the reason in its card's place, not buttons that no longer work."""
    try:
        await agenda.show_event(turn, code)
    except NotFound as gone:
        await turn.show(turn.refusal(gone))
