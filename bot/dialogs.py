"""The dialog engine: every flow that waits for typed input keeps its place here, in the database
(``models/dialogs``), at most one dialog per member.

A flow declares its steps once::

    IDEA = dialogs.register(
        dialogs.Flow(
            "idea",
            steps={
                "kind": dialogs.Step(ask=ask_kind, choose=choose_kind),  # buttons
                "title": dialogs.Step(ask=ask_title, take=take_title),  # typed
            },
            ended=N_("Je nieuwe idee is gestopt; er is niets opgeslagen."),
            expired=N_("Je nieuwe idee is gestopt omdat het een half uur stil was."),
            actions=dialogs.codes(on_kind, on_skip),  # its own buttons: they do not end it
            commands=frozenset({"idee", "idea"}),  # they restart it: it ends without a word
        )
    )

``ask(turn, dialog, notice)`` shows the step's question (``turn.show``: a button edits its
message, typed text gets a new one), with ``back_and_stop(turn, dialog)`` among its buttons and
``choice(turn, dialog, label, value)`` for each answer that is a button. ``take(turn, dialog,
text)`` gets what the member typed, ``choose(turn, dialog, value)`` the value of a pressed
``choice``; each either asks again with a notice (``ask``), moves on (``go``), or ends
(``finishing``: the flow's last write and the end of the dialog in one transaction). A button of
the flow's own (``actions``) can do the same (``current`` finds the dialog it belongs to).
``begin`` starts a flow; a dialog the member had ends with it. A step that also takes a photo
or a document says so with ``take_message(turn, dialog, message)``; at any other step such a
message goes on to the handlers after the engine's (a programme file to import, say).

What the engine does for every flow:

- typed text in a private chat goes to the active dialog's step (``on_typed``); without one it
  is an ordinary message (``fallback``); typed "stop"/"terug" and ``/stop``, ``/terug`` work as
  the buttons do;
- "◀ Terug" returns to the step before with the answers as they were then (at the first step:
  the flow's ``on_back_out``), "✖ Stop" ends the dialog (then the flow's ``on_stop``);
- any command, and any button of another flow, ends the active dialog with the flow's ``ended``
  word (``_watch``, called for every turn by ``bot.context.begin_turn``);
- a dialog left alone for the flow's ``idle`` time (30 minutes) is over: typed text then gets
  the flow's ``expired`` word and is taken as an ordinary message;
- a change made on a stale view (another instance, or another tap, moved the dialog on) is
  refused by the database: the member sees the question as it stands now.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, Message, MessageEntity, Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot import actions
from bot.actions import Token, Value, action
from bot.callbacks import InvalidCallback
from bot.context import Turn, begin_turn, watch_turns
from models.dialogs import operations as store
from models.dialogs.entities import Behind, DialogState
from models.dialogs.operations import IDLE, DialogChanged

Ask = Callable[[Turn, DialogState, str], Awaitable[None]]  # (turn, dialog, notice)
Take = Callable[[Turn, DialogState, str], Awaitable[None]]  # (turn, dialog, typed text)
Choose = Callable[[Turn, DialogState, str], Awaitable[None]]  # (turn, dialog, the button's value)
Leave = Callable[[Turn, DialogState], Awaitable[None]]  # (turn, the dialog that ended)
TakeMessage = Callable[[Turn, DialogState, Message], Awaitable[None]]  # a photo or document

# What people type instead of pressing a button (flows with ``typed_words``).
TYPED_STOP = {"stop", "stoppen", "cancel", "quit"}
TYPED_BACK = {"terug", "vorige", "back"}
STOP_COMMANDS = ["stop"]
BACK_COMMANDS = ["terug", "back"]
# Button actions of the engine (prefix D): DB|token|step back, DS|token|step stop,
# DV|token|step|value a choice at a step (``choice``).
BACK, STOP, CHOICE = "DB", "DS", "DV"


@dataclass(frozen=True)
class Step:
    ask: Ask
    # Typed text for this step; None: the step is answered with a button, and typed text gets
    # the question again.
    take: Take | None = None
    # A ``choice`` button of this step was pressed (its value); it only reaches this step while
    # the dialog is at it, so a button of an earlier question changes nothing.
    choose: Choose | None = None
    # A photo or document sent at this step (with its caption, if any); None: the message is
    # not for the dialog and goes on to the handlers after the engine's.
    take_message: TakeMessage | None = None


@dataclass(frozen=True)
class Flow:
    name: str
    steps: Mapping[str, Step]
    # msgid: said when a command or another flow's button ends the dialog; "": it ends without a
    # word (a question the member did not start, asked again where it is needed: onboarding's)
    ended: str
    expired: str  # msgid: said when typed text comes after the dialog lapsed
    actions: frozenset[str] = frozenset()  # the flow's own button actions: they don't end it
    commands: frozenset[str] = frozenset()  # commands that (re)start it: it ends without a word
    idle: timedelta = IDLE
    on_stop: Leave | None = None  # after "✖ Stop"; default: "Gestopt. Er is niets opgeslagen."
    on_back_out: Leave | None = None  # "◀ Terug" at the first step; default: as "✖ Stop"
    typed_words: bool = True  # typed "stop"/"terug" work as the buttons (not for a code)


FLOWS: dict[str, Flow] = {}


def codes(*handlers: actions.Handler) -> frozenset[str]:
    """The button codes of a flow's own ``@action`` handlers (``Flow.actions``)."""
    return frozenset(actions.code_of(handler) for handler in handlers)


def register(flow: Flow) -> Flow:
    if flow.name in FLOWS and FLOWS[flow.name] is not flow:
        raise ValueError(f"two dialog flows named {flow.name!r}")
    FLOWS[flow.name] = flow
    return flow


# --- for flows ----------------------------------------------------------------------------------


def current(turn: Turn, flow: Flow, step: str | None = None) -> DialogState | None:
    """The member's active dialog if it is of ``flow`` (and at ``step``, if given)."""
    dialog = turn.dialog
    if dialog is None or dialog.flow != flow.name or dialog.expired(turn.deps.clock()):
        return None
    return dialog if step is None or dialog.step == step else None


async def begin(
    turn: Turn,
    flow: Flow,
    step: str,
    answers: Mapping[str, Any] | None = None,
    *,
    back: Sequence[Behind] = (),
    ask: bool = True,
) -> DialogState:
    """Start ``flow`` at ``step`` (and ask its question); the member's earlier dialog ends."""
    async with turn.deps.database.transaction() as session:
        started = await store.start(
            session,
            member_id=turn.member.id,
            flow=flow.name,
            step=step,
            now=turn.deps.clock(),
            answers=answers,
            back=back,
            idle=flow.idle,
        )
    turn.dialog = started.dialog
    replaced = started.replaced
    ended = FLOWS[replaced.flow].ended if replaced is not None and replaced.flow in FLOWS else ""
    if replaced is not None and replaced.flow != flow.name and ended:
        await turn.say(turn.t(ended))  # e.g. begun on another instance
    if ask:
        await ask_again(turn, started.dialog)
    return started.dialog


async def go(
    turn: Turn,
    dialog: DialogState,
    step: str,
    answers: Mapping[str, Any] | None = None,
    *,
    remember: bool = True,
    ask: bool = True,
) -> DialogState | None:
    """Move on to ``step`` with ``answers`` added, and ask its question (``ask``: the flow shows
    it itself). ``remember``: "◀ Terug" there returns here. None if the dialog had moved on
    meanwhile (the member was shown where it stands now)."""
    try:
        async with turn.deps.database.transaction() as session:
            moved = await store.advance(
                session,
                dialog=dialog,
                step=step,
                now=turn.deps.clock(),
                answers=answers,
                remember=remember,
                idle=_flow(dialog).idle,
            )
    except DialogChanged:
        await _crossed(turn)
        return None
    turn.dialog = moved
    if ask:
        await ask_again(turn, moved)
    return moved


async def ask_again(turn: Turn, dialog: DialogState, notice: str = "") -> None:
    """The question of the dialog's step (again), with ``notice`` above it."""
    await _flow(dialog).steps[dialog.step].ask(turn, dialog, notice)


@asynccontextmanager
async def finishing(turn: Turn, dialog: DialogState | None) -> AsyncIterator[AsyncSession]:
    """A transaction that also ends ``dialog``: the flow's last write and the end are one
    commit. An error in the block changes neither (the dialog goes on); a dialog that moved on
    meanwhile raises ``DialogChanged`` before anything is written (``on_typed`` shows the
    member where it stands). ``dialog`` None (e.g. a flow's button pressed when no dialog of
    it was open): a plain transaction."""
    async with turn.deps.database.transaction() as session:
        if dialog is not None:
            await store.end(session, member_id=dialog.member_id, dialog=dialog)
        yield session
    if dialog is not None:
        turn.dialog = None


async def leave(turn: Turn) -> None:
    """End the member's dialog, whatever it is, without a word (a flow's own screen that is not
    a step, e.g. a menu)."""
    if turn.dialog is None:
        return
    async with turn.deps.database.transaction() as session:
        await store.end(session, member_id=turn.member.id)
    turn.dialog = None


def back_and_stop(turn: Turn, dialog: DialogState) -> list[InlineKeyboardButton]:
    """The generic "◀ Terug" and "✖ Stop" for the dialog's current step."""
    return [
        turn.button(turn.t("◀ Terug"), on_back_button, dialog.token, dialog.step),
        turn.button(turn.t("✖ Stop"), on_stop_button, dialog.token, dialog.step),
    ]


def stop_button(turn: Turn, dialog: DialogState, label: str = "") -> InlineKeyboardButton:
    """The generic "✖ Stop" alone (``label``: another word for it, e.g. "✖ Annuleren")."""
    return turn.button(label or turn.t("✖ Stop"), on_stop_button, dialog.token, dialog.step)


def choice(turn: Turn, dialog: DialogState, label: str, value: str) -> InlineKeyboardButton:
    """A button that answers the dialog's current step with ``value`` (its ``choose``)."""
    return turn.button(label, on_choice_button, dialog.token, dialog.step, value)


# --- the engine's handlers ----------------------------------------------------------------------


# Typed text no dialog waits for, with a notice to say first ("": none): the bot's fallback.
Otherwise = Callable[[Turn, str, str], Awaitable[None]]


def handlers(otherwise: Otherwise) -> list[BaseHandler[Any, Any, Any]]:
    """Typed text, a photo or document, and /stop, /terug. Add them after every other handler of
    typed text or of these commands that is not on the engine yet, and before the generic
    fallbacks and the handlers of documents (a photo or document a step does not take goes on
    to the handlers after these). ``otherwise`` answers typed text when no dialog is open (or
    it lapsed): passed in, because the features it shows (onboarding) declare flows here."""
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE

    async def on_typed_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await on_typed(update, context, otherwise)

    return [
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_typed_text),
        _MessageForDialog(private & (filters.PHOTO | filters.Document.ALL)),
        CommandHandler(STOP_COMMANDS, on_stop_command, filters=private),
        CommandHandler(BACK_COMMANDS, on_back_command, filters=private),
    ]


class _MessageForDialog(MessageHandler):  # type: ignore[type-arg]
    """A photo or document for the step the member is at (``Step.take_message``). python-telegram-
    bot runs one handler per group, so a message no step takes is handed on here to the first
    later handler of the group that wants it, as if this one had not matched."""

    def __init__(self, message_filter: filters.BaseFilter) -> None:
        super().__init__(message_filter, self._on_message)

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        turn = await begin_turn(update, context)
        dialog = _active(turn)
        step = _flow(dialog).steps.get(dialog.step) if dialog is not None else None
        take = step.take_message if step is not None else None
        if dialog is None or take is None:
            await self._pass_on(update, context)
            return
        try:
            await take(turn, dialog, update.message)
        except DialogChanged:
            await _crossed(turn)

    async def _pass_on(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        application = context.application
        handler_context: Any = context  # each handler is typed with the application's context
        for group in application.handlers.values():
            if self not in group:
                continue
            for handler in group[group.index(self) + 1 :]:
                check = handler.check_update(update)
                if check is not None and check is not False:
                    await handler.handle_update(update, application, check, handler_context)
                    return


async def on_typed(
    update: Update, context: ContextTypes.DEFAULT_TYPE, otherwise: Otherwise
) -> None:
    assert update.message is not None and update.message.text is not None
    turn = await begin_turn(update, context)
    text = update.message.text
    dialog = turn.dialog
    if dialog is None:
        await otherwise(turn, text, "")
        return
    flow = FLOWS.get(dialog.flow)
    step = flow.steps.get(dialog.step) if flow is not None else None
    if flow is None or step is None or dialog.expired(turn.deps.clock()):
        # Lapsed (or of a flow this version no longer has): the text is an ordinary message.
        await _end_quietly(turn)
        notice = turn.t(flow.expired) if flow is not None else ""
        await otherwise(turn, text, notice)
        return
    word = text.strip().casefold()
    if flow.typed_words and word in TYPED_STOP:
        await stop(turn, dialog)
        return
    if flow.typed_words and word in TYPED_BACK:
        await back(turn, dialog)
        return
    try:
        if step.take is None:
            await step.ask(turn, dialog, turn.t("Kies hieronder een van de knoppen."))
        else:
            await step.take(turn, dialog, text)
    except DialogChanged:
        await _crossed(turn)


async def on_stop_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    dialog = _active(turn)
    if dialog is None:
        await turn.say(turn.t("Er loopt nu niets om te stoppen."))
        return
    await stop(turn, dialog)


async def on_back_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    dialog = _active(turn)
    if dialog is None:
        await turn.say(turn.t("Er loopt nu niets om naar terug te gaan."))
        return
    await back(turn, dialog)


@action(BACK)
async def on_back_button(turn: Turn, token: Token, step: str) -> None:
    dialog = await _pressed(turn, token, step)
    if dialog is not None:
        await back(turn, dialog)


@action(STOP)
async def on_stop_button(turn: Turn, token: Token, step: str) -> None:
    dialog = await _pressed(turn, token, step)
    if dialog is not None:
        await stop(turn, dialog)


@action(CHOICE)
async def on_choice_button(turn: Turn, token: Token, step: str, value: Value) -> None:
    dialog = await _pressed(turn, token, step)
    if dialog is None:
        return
    choose = _flow(dialog).steps[dialog.step].choose
    if choose is None:
        raise InvalidCallback(f"{CHOICE}: step {dialog.step!r} has no choices")
    try:
        await choose(turn, dialog, value)
    except DialogChanged:
        await _crossed(turn)


# The engine's own buttons: pressing them never ends the dialog they belong to.
ENGINE_ACTIONS = frozenset({BACK, STOP, CHOICE})


async def back(turn: Turn, dialog: DialogState) -> None:
    """The step before, with the answers as they were; at the first step the flow decides."""
    flow = _flow(dialog)
    try:
        async with turn.deps.database.transaction() as session:
            previous = await store.go_back(
                session, dialog=dialog, now=turn.deps.clock(), idle=flow.idle
            )
            if previous is None:
                await store.end(session, member_id=dialog.member_id, dialog=dialog)
    except DialogChanged:
        await _crossed(turn)
        return
    turn.dialog = previous
    if previous is not None:
        await ask_again(turn, previous)
    elif flow.on_back_out is not None:
        await flow.on_back_out(turn, dialog)
    else:
        await _stopped(turn, flow, dialog)


async def stop(turn: Turn, dialog: DialogState) -> None:
    try:
        async with turn.deps.database.transaction() as session:
            await store.end(session, member_id=dialog.member_id, dialog=dialog)
    except DialogChanged:
        await _crossed(turn)
        return
    turn.dialog = None
    await _stopped(turn, _flow(dialog), dialog)


async def _stopped(turn: Turn, flow: Flow, dialog: DialogState) -> None:
    if flow.on_stop is not None:
        await flow.on_stop(turn, dialog)
        return
    await turn.toast()
    await turn.show(turn.t("Gestopt. Er is niets opgeslagen."))


async def _pressed(turn: Turn, token: str, step: str) -> DialogState | None:
    """The dialog a "Terug" or "Stop" button belongs to, if it is still at that button's step."""
    dialog = _active(turn)
    if dialog is None:
        # Said twice: the toast for the tap, and in place of the dead question, whose buttons
        # would otherwise keep inviting taps (after a stop, a lapse or a restart).
        gone = turn.t("Dit gesprek is al afgelopen; er is niets opgeslagen.")
        await turn.toast(gone)
        await turn.show(gone)
        return None
    if (dialog.token, dialog.step) != (token, step):
        await turn.toast(turn.t("Die knop hoort bij een eerdere vraag; kijk bij de laatste."))
        return None
    await turn.toast()
    return dialog


async def _crossed(turn: Turn) -> None:
    """The dialog moved on elsewhere (another instance, another tap): show where it stands."""
    async with turn.deps.database.read() as session:
        turn.dialog = await store.active_dialog(
            session, member_id=turn.member.id, now=turn.deps.clock()
        )
    await turn.toast()
    if turn.dialog is None or turn.dialog.flow not in FLOWS:
        await turn.say(turn.t("Dit gesprek is al afgelopen; er is niets opgeslagen."))
        return
    await ask_again(turn, turn.dialog, turn.t(DialogChanged.message))


def _active(turn: Turn) -> DialogState | None:
    dialog = turn.dialog
    if dialog is None or dialog.expired(turn.deps.clock()) or dialog.flow not in FLOWS:
        return None
    return dialog


def _flow(dialog: DialogState) -> Flow:
    return FLOWS[dialog.flow]


async def _end_quietly(turn: Turn) -> None:
    async with turn.deps.database.transaction() as session:
        await store.end(session, member_id=turn.member.id)
    turn.dialog = None


# --- another command or another flow's button ends the dialog ------------------------------------


def _command(message: Message | None) -> str | None:
    """The command a message starts with (lower case, without @bot), if any."""
    if message is None or not message.text or not message.entities:
        return None
    first = message.entities[0]
    if first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    return message.text[1 : first.length].split("@")[0].lower()


def _action(turn: Turn) -> str | None:
    query = turn.update.callback_query
    if query is None:
        return None
    try:
        return turn.deps.signer.decode(query.from_user.id, query.data).action
    except InvalidCallback:
        return None  # the button router refuses it; it changes nothing here either


async def _watch(turn: Turn) -> None:
    """Called for every turn (``bot.context.begin_turn``): a command, or a button of another
    flow, ends the member's dialog, with a word that it ended."""
    dialog = turn.dialog
    if dialog is None:
        return
    flow = FLOWS.get(dialog.flow)
    command = _command(turn.update.message)
    if command is not None:
        if command in STOP_COMMANDS or command in BACK_COMMANDS:
            return
        quietly = flow is not None and command in flow.commands
    else:
        action = _action(turn)
        own = ENGINE_ACTIONS | (flow.actions if flow is not None else frozenset())
        if action is None or action in own:
            return
        quietly = False
    if flow is None or dialog.expired(turn.deps.clock()):
        quietly = True
    await _end_quietly(turn)
    if not quietly and flow is not None and flow.ended:
        await turn.say(turn.t(flow.ended))


watch_turns(_watch)
