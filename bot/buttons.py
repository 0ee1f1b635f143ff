"""One entry for every inline button: check the signature, then call the feature's handler.

An old button, a button for an event that was cancelled or removed, or a forged one gets a clear
answer and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import ContextTypes

from bot import dialogs, doubletap, errors
from bot.actions import REGISTRY
from bot.callbacks import Callback, InvalidCallback
from bot.context import Turn, begin_turn
from bot.handlers import agenda, calendar, feedback, mine, onboarding, privacy, settings
from bot.handlers.attendance import ACTIONS as ATTENDANCE_ACTIONS
from bot.handlers.ideas import ACTIONS as IDEAS_ACTIONS
from bot.handlers.roles import ACTIONS as ROLES_ACTIONS
from models.errors import DomainError, NotFound

log = logging.getLogger(__name__)

Action = Callable[[Turn, Callback], Awaitable[None]]

# Features whose buttons are declared with ``@action``: importing them registers the buttons.
DECLARING = (agenda, calendar, mine, privacy, settings)

# Buttons not yet declared with ``@action`` next to their handler (``bot/actions.py``).
ACTIONS: dict[str, Action] = {
    "np": lambda turn, cb: onboarding.on_network_page(turn, cb.int_arg(0), cb.arg(1)),
    "ns": lambda turn, cb: onboarding.on_network_chosen(turn, cb.int_arg(0), cb.arg(1)),
    "ao": lambda turn, cb: onboarding.on_other_affiliation(turn, cb.arg(0)),
    "af": lambda turn, cb: onboarding.on_affiliation_chosen(turn, cb.arg(0), cb.arg(1)),
    "lg": lambda turn, cb: onboarding.on_language(turn, cb.arg(0), cb.arg(1)),
    "ok": lambda turn, cb: feedback.on_acknowledged(turn, cb.arg(0)),
    "fb": lambda turn, cb: feedback.on_rating(turn, cb.arg(0), cb.int_arg(1)),
    "fr": lambda turn, cb: feedback.ask_rating(turn, cb.arg(0)),
}
# Features add their own buttons here, each under its own prefix (one upper-case letter):
# A organiser roles, series and programme files; E events by conversation; C attendance and
# participation; B broadcasts; I ideas and dialogue questions; D dialogs (back, stop).
FEATURE_ACTIONS: list[dict[str, Action]] = []
FEATURE_ACTIONS.append(ATTENDANCE_ACTIONS)
FEATURE_ACTIONS.append(IDEAS_ACTIONS)
FEATURE_ACTIONS.append(ROLES_ACTIONS)
FEATURE_ACTIONS.append(dialogs.ACTIONS)
for _feature in FEATURE_ACTIONS:
    ACTIONS.update(_feature)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    turn = await begin_turn(update, context)
    declared = None
    try:
        callback = turn.deps.signer.decode(query.from_user.id, query.data)
        declared = REGISTRY.get(callback.action)
        if declared is None and callback.action not in ACTIONS:
            raise InvalidCallback(f"unknown button {callback.action!r}")
        if doubletap.too_soon(callback, turn.deps.clock()):
            await agenda.confirm_change(turn, callback)
        elif declared is not None:
            await declared.run(turn, callback)
        else:  # not yet declared with @action
            await ACTIONS[callback.action](turn, callback)
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
