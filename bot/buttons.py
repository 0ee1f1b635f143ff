"""One entry for every inline button: check the signature, then call the feature's handler.

An old button, a button for an event that was cancelled or removed, or a forged one gets a clear
answer and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import ContextTypes

from bot import dialogs, errors
from bot.actions import REGISTRY
from bot.callbacks import Callback, InvalidCallback
from bot.context import Turn, begin_turn
from bot.handlers import (
    agenda,
    attendance,
    calendar,
    feedback,
    ideas,
    mine,
    onboarding,
    privacy,
    roles,
    settings,
)
from bot.handlers.broadcasts import ACTIONS as BROADCAST_ACTIONS
from bot.handlers.programme import ACTIONS as PROGRAMME_ACTIONS
from models.errors import DomainError

log = logging.getLogger(__name__)

# Features that declare their buttons with @action (bot/actions.py) where their handlers are:
# imported here, so every button is known wherever this router is.
DECLARING = (attendance, feedback, ideas, onboarding, roles)

Action = Callable[[Turn, Callback], Awaitable[None]]

ACTIONS: dict[str, Action] = {
    "ag": lambda turn, cb: agenda.show_agenda(turn, cb.int_arg(0)),
    "ev": lambda turn, cb: agenda.on_open(turn, cb.arg(0)),
    "rg": lambda turn, cb: agenda.on_register(turn, cb.arg(0), cb.int_arg(1)),
    "wl": lambda turn, cb: agenda.on_waitlist(turn, cb.arg(0)),
    "cq": lambda turn, cb: agenda.on_cancel_asked(turn, cb.arg(0)),
    "cx": lambda turn, cb: agenda.on_cancel(turn, cb.arg(0)),
    "ps": lambda turn, cb: agenda.on_party_size(turn, cb.arg(0), cb.int_arg(1)),
    "cl": lambda turn, cb: agenda.on_claim(turn, cb.arg(0)),
    "dc": lambda turn, cb: agenda.on_decline(turn, cb.arg(0)),
    "ic": lambda turn, cb: calendar.on_calendar_file(turn, cb.arg(0)),
    "zf": lambda turn, cb: calendar.show_feed(turn),
    "zn": lambda turn, cb: calendar.on_new_feed_link(turn),
    "my": lambda turn, cb: mine.show_mine(turn),
    "st": lambda turn, cb: settings.show_settings(turn),
    "rq": lambda turn, cb: settings.ask_reminders(turn),
    "rp": lambda turn, cb: settings.on_reminder_preference(turn, cb.arg(0)),
    "dg": lambda turn, cb: settings.on_digest(turn, cb.int_arg(0)),
    "pv": lambda turn, cb: privacy.show_privacy(turn),
    "dx": lambda turn, cb: privacy.send_my_data(turn),
    "fq": lambda turn, cb: privacy.ask_forget(turn),
    "fy": lambda turn, cb: privacy.on_forget_confirmed(turn),
    "fn": lambda turn, cb: privacy.on_forget_declined(turn),
}
# Features add their own buttons here, each under its own prefix (one upper-case letter):
# A organiser roles, series and programme files; E events by conversation; C attendance and
# participation; B broadcasts; I ideas and dialogue questions; D dialogs (back, stop).
FEATURE_ACTIONS: list[dict[str, Action]] = []
FEATURE_ACTIONS.append(PROGRAMME_ACTIONS)
FEATURE_ACTIONS.append(BROADCAST_ACTIONS)
FEATURE_ACTIONS.append(dialogs.ACTIONS)
for _feature in FEATURE_ACTIONS:
    ACTIONS.update(_feature)

# The card to show again after a refusal, so the member sees the state as it is now.
_SHOWS_EVENT = {"rg", "wl", "cq", "cx", "ps", "cl", "dc", "ic"}


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    turn = await begin_turn(update, context)
    declared = None
    try:
        callback = turn.deps.signer.decode(query.from_user.id, query.data)
        declared = REGISTRY.get(callback.action)
        if declared is not None:
            await declared.run(turn, callback)
        elif callback.action in ACTIONS:  # not yet declared with @action
            await ACTIONS[callback.action](turn, callback)
        else:
            raise InvalidCallback(f"unknown button {callback.action!r}")
    except InvalidCallback as error:
        await errors.respond(turn, error)
    except DomainError as error:
        await errors.respond(turn, error)
        if declared.shows_event if declared is not None else callback.action in _SHOWS_EVENT:
            # The card as it is now, so the member sees why.
            await agenda.show_event(turn, callback.arg(0))
