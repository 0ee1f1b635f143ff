"""One registry from exception to the member's reply, as Starlette's exception handlers are.

Handlers do not catch the domain's refusals: a ``DomainError`` raised anywhere below a command,
a typed answer or a button reaches ``respond`` (from ``bot.buttons`` for buttons, from the
application's error handler for everything else), which looks up the first registered class in
the exception's MRO. A refusal is a friendly sentence in the member's language (a toast on a
button, a message otherwise) and changed nothing: the domain raised it before its transaction
committed. Anything unregistered is a bug: it is logged with the update id, and the member hears
that something went wrong on our side, never the details.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.callbacks import InvalidCallback
from bot.context import Turn, begin_turn, deps_of
from i18n.translate import language_from_telegram, translator
from models.errors import DomainError

log = logging.getLogger(__name__)

Responder = Callable[[Turn, Any], Awaitable[None]]
_RESPONDERS: dict[type[BaseException], Responder] = {}


def responds_to(kind: type[BaseException]) -> Callable[[Responder], Responder]:
    """Register the reply to ``kind`` (and its subclasses without a reply of their own)."""

    def register(responder: Responder) -> Responder:
        _RESPONDERS[kind] = responder
        return responder

    return register


def responder_for(error: BaseException) -> Responder | None:
    for kind in type(error).__mro__:
        if kind in _RESPONDERS:
            return _RESPONDERS[kind]
    return None


async def respond(turn: Turn, error: BaseException) -> bool:
    """Answer ``error`` as registered; False when nothing is registered for it."""
    responder = responder_for(error)
    if responder is None:
        return False
    await responder(turn, error)
    return True


@responds_to(DomainError)
async def refusal(turn: Turn, error: DomainError) -> None:
    text = turn.refusal(error)
    if turn.update.callback_query is not None:
        await turn.toast(text)
    else:
        await turn.say(text)


@responds_to(InvalidCallback)
async def stale_button(turn: Turn, error: InvalidCallback) -> None:
    log.info("refused callback from %s: %s", turn.user_id, error)
    query = turn.update.callback_query
    if query is not None and not turn.answered:
        turn.answered = True
        await query.answer(
            turn.t("Deze knop werkt niet (meer). Stuur /agenda voor de actuele stand."),
            show_alert=True,
        )


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The application's error handler: a registered reply, else log and say sorry."""
    update_id = update.update_id if isinstance(update, Update) else None
    error = context.error
    if isinstance(error, Forbidden):
        log.info("update %s: member blocked the bot", update_id)
        return
    if (
        error is not None
        and isinstance(update, Update)
        and update.effective_user is not None
        and update.effective_chat is not None
        and responder_for(error) is not None
    ):
        try:
            await respond(await begin_turn(update, context), error)
            return
        except Exception:  # answering failed too: fall through to the apology
            log.exception("update %s: could not answer %r", update_id, error)
    log.error("update %s failed", update_id, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    await _apologise(update, context, update_id)


async def _apologise(
    update: Update, context: ContextTypes.DEFAULT_TYPE, update_id: int | None
) -> None:
    deps = deps_of(context)
    user = update.effective_user
    t = translator(
        language_from_telegram(user.language_code if user else None, deps.default_language)
    )
    if update.callback_query is not None:
        # No spinning button. Telegram refuses a second answer (the handler may have answered
        # before it failed), and that must not keep the member from hearing what happened.
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()
    assert update.effective_chat is not None
    try:
        await context.bot.send_message(
            update.effective_chat.id,
            t(
                "Sorry, er ging iets mis aan onze kant. Probeer het zo nog eens; "
                "lukt het dan nog niet, dan kijken wij ernaar."
            ),
            parse_mode=ParseMode.HTML,
        )
    except TelegramError:
        log.warning("update %s: could not tell the member about the error", update_id)
