"""What the programme's dialogs share: how a question is asked and answered, what a draft looks
like while it is being typed, and where an answer leads.

Every programme flow is a dialog of the engine (``bot/dialogs.py``): its place and its answers
are in the database, so a restart or another instance continues where the organiser was. A step
here is a ``Question``: ``ask`` builds the screen (heading, question, buttons, "◀ Terug"/"✖ Stop"),
``take`` reads a typed answer or a pressed choice alike (``Answer``) and returns what it sets
(``Next``), or None when it ended the dialog itself (the last write and the end in one commit,
``dialogs.finishing``). Where ``Next`` leads is the flow's decision (``Rules.after``): the next
step of its order, back to a preview, a question about a whole series, or a write.

A refusal while answering (a moment in the past, a title too long, the domain refusing the
change) asks the same question again with the reason above it: nothing was changed. A member
who is not (or no longer) an organiser is told what the command is for instead.

A draft's moments are stored as ISO text in the dialog's answers (JSON); ``draft`` gives them
back as datetimes, ``stored`` turns values into what the answers can hold.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from telegram import InlineKeyboardButton, Update
from telegram.ext import ContextTypes

from bot import dialogs
from bot.actions import Handler, Token, action
from bot.context import Buttons, Turn, begin_turn
from bot.handlers.for_organisers import explain, is_organiser
from i18n.translate import N_
from models.dialogs.entities import DialogState
from models.dialogs.operations import DialogChanged
from models.errors import DomainError, NotAllowed
from models.events.entities import EventKind
from models.events.operations import EventDraft
from models.outbox.entities import OutboxMessage

# The flows (their names are stored with each dialog).
NEW_EVENT = "new_event"
PROPOSAL = "proposal"
SERIES = "series"
EDIT = "edit_event"
CANCEL = "cancel_event"
REJECT = "reject_proposal"

# Said when a programme dialog lapsed after 30 minutes of silence and the organiser types again.
EXPIRED = N_(
    "Dit gesprek is gestopt omdat het een half uur stil was. Er is niets opgeslagen of "
    "gewijzigd. Begin gerust opnieuw met /nieuw of /programma."
)
# Steps that branch off another one and then continue where it would have.
BRANCH_OF = {"link": "place", "release": "fairshare"}
_MOMENTS = ("starts_at", "ends_at", "registration_deadline", "fair_share_until", "original_start")

Screen = tuple[str, Buttons]
CommandCallback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Answer:
    text: str = ""  # typed
    choice: str | None = None  # a button's value


@dataclass(frozen=True)
class Next:
    """What a step's answer sets; ``branch``: the step that branches off it (else the flow's
    next one)."""

    changes: Mapping[str, Any] = field(default_factory=dict)
    branch: str | None = None


@dataclass(frozen=True)
class Question:
    ask: Callable[[Turn, DialogState], Screen]
    take: Callable[[Turn, DialogState, Answer], Awaitable[Next | None]]


def _never(_dialog: DialogState) -> bool:
    return False


@dataclass(frozen=True)
class Rules:
    """How one flow goes on: its heading, where an answer leads, and whether its questions show
    the value being changed ("Nu: …")."""

    header: Callable[[Turn, DialogState], str]
    after: Callable[[Turn, DialogState, Next], Awaitable[None]]
    shows_now: Callable[[DialogState], bool] = _never


RULES: dict[str, Rules] = {}


def programme_flow(
    name: str,
    rules: Rules,
    questions: Mapping[str, Question],
    *,
    ended: str,
    actions: Sequence[str] = (),
    commands: Sequence[str] = (),
    on_stop: dialogs.Leave | None = None,
) -> dialogs.Flow:
    """Register a programme flow with the dialog engine."""
    RULES[name] = rules
    return dialogs.register(
        dialogs.Flow(
            name,
            steps={step: _step(question) for step, question in questions.items()},
            ended=ended,
            expired=EXPIRED,
            actions=frozenset(actions),
            commands=frozenset(commands),
            on_stop=on_stop,
        )
    )


def _step(question: Question) -> dialogs.Step:
    async def ask(turn: Turn, dialog: DialogState, notice: str) -> None:
        text, rows = question.ask(turn, dialog)
        await turn.show(f"{notice}\n\n{text}" if notice else text, rows)

    async def take(turn: Turn, dialog: DialogState, text: str) -> None:
        await _answer(turn, dialog, question, Answer(text=text.strip()))

    async def choose(turn: Turn, dialog: DialogState, value: str) -> None:
        await _answer(turn, dialog, question, Answer(choice=value))

    return dialogs.Step(ask, take, choose)


async def _answer(turn: Turn, dialog: DialogState, question: Question, answer: Answer) -> None:
    try:
        following = await question.take(turn, dialog, answer)
        if following is not None:
            await RULES[dialog.flow].after(turn, dialog, following)
    except DialogChanged:
        raise  # the engine shows where the dialog stands now
    except NotAllowed:
        await dialogs.leave(turn)
        await explain(turn, "programma")
    except DomainError as error:
        # The reason, and the same question again; nothing was changed.
        await dialogs.ask_again(turn, dialog, f"⚠️ {turn.refusal(error)}")


def in_order(order: Sequence[str]) -> Callable[[Turn, DialogState, Next], Awaitable[None]]:
    """``Rules.after`` for a flow that goes through ``order`` (with its branches)."""

    async def after(turn: Turn, dialog: DialogState, following: Next) -> None:
        step = following.branch or next_step(order, dialog.step)
        await dialogs.go(turn, dialog, step, stored(following.changes))

    return after


def next_step(order: Sequence[str], step: str) -> str:
    return order[order.index(BRANCH_OF.get(step, step)) + 1]


# --- the draft in the dialog's answers ----------------------------------------------------------


def draft(dialog: DialogState) -> dict[str, Any]:
    """The dialog's answers, moments as datetimes and the kind as an ``EventKind``."""
    values = dict(dialog.answers)
    for key in _MOMENTS:
        if isinstance(values.get(key), str):
            values[key] = datetime.fromisoformat(values[key])
    if isinstance(values.get("kind"), str):
        values["kind"] = EventKind(values["kind"])
    return values


def event_draft(values: dict[str, Any], *, kind: EventKind | None = None) -> EventDraft:
    """What was answered so far (``draft``) as the domain's draft."""
    starts_at = values["starts_at"]
    return EventDraft(
        kind=kind or values.get("kind") or EventKind.MASTERCLASS,
        title=values["title"],
        starts_at=starts_at,
        ends_at=values.get("ends_at") or starts_at + timedelta(hours=2),
        description=values.get("description") or "",
        speakers=values.get("speakers") or "",
        location=values.get("location"),
        online_url=values.get("online_url"),
        capacity=values.get("capacity"),
        registration_deadline=values.get("registration_deadline"),
        fair_share_per_network=values.get("fair_share_per_network"),
        fair_share_until=values.get("fair_share_until"),
    )


def stored(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` as the dialog's answers keep them (JSON)."""
    return {key: _storable(value) for key, value in values.items()}


def _storable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


# --- screens ------------------------------------------------------------------------------------


def screen(turn: Turn, dialog: DialogState, question: str, rows: Buttons | None = None) -> Screen:
    """The flow's heading, the question, its buttons, and "◀ Terug"/"✖ Stop"."""
    text = f"{header(turn, dialog)}\n\n{question}"
    return text, [*(rows or []), dialogs.back_and_stop(turn, dialog)]


def header(turn: Turn, dialog: DialogState) -> str:
    return RULES[dialog.flow].header(turn, dialog)


def heading(msgid: str) -> Callable[[Turn, DialogState], str]:
    """``Rules.header`` for a flow whose heading is the same at every step."""
    return lambda turn, _dialog: turn.t(msgid)


def summary(turn: Turn, dialog: DialogState, intro: str, body: str, rows: Buttons) -> Screen:
    """The last question of a flow: what will be saved or sent (``body``), and the buttons."""
    text = "\n".join([header(turn, dialog), intro, "", body])
    return text, [*rows, dialogs.back_and_stop(turn, dialog)]


def now_line(turn: Turn, dialog: DialogState, value: str | None) -> str:
    """ "Nu: …" when a value is being changed (an event's card, or a new event's preview)."""
    if not RULES[dialog.flow].shows_now(dialog):
        return ""
    shown = value if value else turn.t("(leeg)")
    return "\n" + turn.t("Nu: {value}", value=shown)


def choice(turn: Turn, dialog: DialogState, label: str, value: str | int) -> InlineKeyboardButton:
    return dialogs.choice(turn, dialog, label, str(value))


def with_told(turn: Turn, notice: str, notifications: Sequence[OutboxMessage]) -> str:
    """``notice``, and how many registered people hear of the change."""
    people = len({n.member_id for n in notifications if n.member_id is not None})
    if not people:
        return notice
    told = turn.t.plural(
        "{n} persoon die zich heeft aangemeld krijgt hiervan bericht.",
        "{n} mensen die zich hebben aangemeld krijgen hiervan bericht.",
        people,
    )
    return f"{notice} {told}"


# --- for organisers only ------------------------------------------------------------------------


def command(button: Callable[[Turn], Awaitable[None]]) -> CommandCallback:
    """The command that does what ``button`` (a button without arguments) does."""

    async def typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await button(await begin_turn(update, context))

    return typed


async def begin_for_organisers(turn: Turn, flow: dialogs.Flow, step: str, command: str) -> None:
    """Start ``flow`` for an organiser; a member hears what ``command`` is for instead."""
    if not await is_organiser(turn):
        await explain(turn, command)
        return
    await turn.toast()
    await dialogs.begin(turn, flow, step)


def for_organisers(command: str = "programma") -> Callable[[Handler], Handler]:
    """A button of organisers: a member who presses one (a forwarded or forged one) hears what
    ``command`` is for and what they can do instead, not a bare refusal. Who is an organiser is
    the domain's decision (``NotAllowed``)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(turn: Turn, *args: Any) -> None:
            try:
                await handler(turn, *args)
            except NotAllowed:
                await explain(turn, command)

        return guarded

    return decorate


# Buttons of the programme's conversations before they were dialogs (kept in one process's
# memory): after the update that brought the engine, such a conversation is gone.
@action("EV")
async def on_old_choice(turn: Turn, _conversation: Token, _step: str, _value: str) -> None:
    await _old_conversation(turn)


@action("EB")
async def on_old_back(turn: Turn, _conversation: Token, _step: str) -> None:
    await _old_conversation(turn)


@action("ES")
async def on_old_stop(turn: Turn, _conversation: Token, _step: str) -> None:
    await _old_conversation(turn)


async def _old_conversation(turn: Turn) -> None:
    await turn.toast()
    await turn.show(
        turn.t(
            "Dit gesprek is al afgelopen; er is niets opgeslagen. "
            "Begin opnieuw met /nieuw of kijk in /programma."
        )
    )
