"""Organisers make and keep the programme in the chat; board members propose exchange sessions.

- ``/nieuw``: a new event, step by step (kind, title, moment, end, place or link, seats,
  deadline, fair share, speakers, description), a preview, then publish or keep as a draft.
- ``/programma``: the coming events, drafts and proposals, each with an admin card: change any
  field, move, cancel (with a reason), publish, approve or reject a proposal, the attendees.
- ``/reeks``: a year of quarterly masterclasses or half-yearly dialogues in one go.
- ``/voorstel``: a board member proposes an exchange session for their own network.

Every decision is the domain's: ``models.events.operations`` (create, publish, update, cancel;
they authorise the organiser, write the audit log and the notices), ``models.events.proposals``
and ``models.events.series``. This module parses what people type (``buurtagenda.when``), asks
the next question, and shows what was committed.

How the conversations work. One python-telegram-bot ``ConversationHandler`` (``conversation()``)
holds all of them, so typed text during a conversation reaches it before the generic text
fallback (``bot/app.py`` registers it before the button router). It has a single state, ACTIVE:
which step we are at, the steps behind us (for "◀ Terug") and what was typed so far live
together in a ``Conversation`` in ``context.user_data``. "◀ Terug" and "✖ Stop" are buttons on
every step, and typed "terug"/"stop" (or /terug, /stop) work too. Going elsewhere leaves the
conversation: another command (``leave_on_command``), or the programme's own cards and lists;
typed text is then no longer taken as an answer but reaches the handlers after ours.

Why a half-typed draft may live in memory only. Nothing that matters lives only in memory, and a
draft that was neither published nor saved does not matter yet: nothing was promised to anyone
and nothing was committed; it exists only on the organiser's screen. If the service restarts or
the organiser walks away, they lose a few typed answers and are told so (a button of the old
conversation says it has ended; nothing was saved). Writing a DRAFT event after the first steps
instead would leave half-made events in everyone's /programma and need a "delete draft" the
domain does not have. Everything that is kept is committed in one transaction by the domain:
"Bewaren als concept" is the way to keep a draft.

The 30-minute timeout. PTB's ``conversation_timeout`` schedules a job on the ``JobQueue``: that
runs on the wall clock (APScheduler), not on the service's injectable clock, so it cannot be
tested with ``FrozenClock`` and does not survive a restart either; without a running JobQueue PTB
ignores the setting with a warning. So the conversation keeps the time of the last answer
(``Conversation.seen``) and every step first checks ``turn.deps.clock()``: after 30 minutes of
silence the next message or button ends the conversation with "nothing was saved" instead of
being taken as an answer. (It is not announced at the moment it expires: a message nobody asked
for, about nothing, would only be noise.)
"""

from __future__ import annotations

import math
import re
import secrets
import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram import Message as TelegramMessage
from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.callbacks import Callback, InvalidCallback
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.for_organisers import explain, is_organiser, organisers_only
from bot.render import KIND_ICONS, KIND_LABELS, event_text, kind_label, short, title
from buurtagenda import when
from buurtagenda.i18n import N_
from models.errors import DomainError, InvalidEvent, NotAllowed
from models.events.entities import Cadence, Event, EventKind, EventStatus
from models.events.limits import DESCRIPTION_MAX, LOCATION_MAX, REASON_MAX, SPEAKERS_MAX, TITLE_MAX
from models.events.operations import (
    EventDraft,
    cancel_event,
    create_event,
    event_by_code,
    publish_event,
    update_event,
)
from models.events.proposals import (
    NotANetworkMember,
    approve_proposal,
    propose_exchange_session,
    reject_proposal,
)
from models.events.queries import EventOverview, event_overview, programme_events
from models.events.series import (
    SeriesInvalid,
    create_series,
    series_dates,
    series_events,
    update_series,
)
from models.members.entities import Affiliation, Member
from models.organisers.authorisation import require_organiser
from models.outbox.entities import OutboxMessage

TIMEOUT = timedelta(minutes=30)
KEY = "programme_conversation"  # in context.user_data
ACTIVE = "active"
END = ConversationHandler.END
PER_PAGE = 6
SERIES_DURATION_MINUTES = 120

# What people type instead of pressing a button.
TYPED_STOP = {"stop", "stoppen", "cancel", "quit", "/stop"}
TYPED_BACK = {"terug", "vorige", "back", "/terug"}

# Button actions (prefix E). Entries of the conversation (``conversation()`` routes them):
#   EN new event · EZ new series · EW|code|field change a field · EX|code cancel · ER|code reject
# Inside a conversation (id: the conversation's): EV|id|step|value a choice · EB|id|step back ·
# ES|id|step stop.
# Plain buttons (``ACTIONS``, routed by ``bot.buttons``):
#   EP|page the programme · EO|code the admin card · EF|code which field · EU|code publish ·
#   EA|code approve a proposal.
ENTRY_PATTERN = r"^E[NZWXR]\|"
STEP_PATTERN = r"^E[VBS]\|"

NEXT = "→next"  # a step is done: go on with the flow's next step
DONE = "→done"  # the conversation is over (its last step said what happened)

STATUS_LABELS = {
    EventStatus.DRAFT: N_("📝 Concept"),
    EventStatus.PUBLISHED: N_("✅ Gepubliceerd"),
    EventStatus.PROPOSED: N_("💡 Voorstel, wacht op goedkeuring"),
    EventStatus.CANCELLED: N_("❌ Geannuleerd"),
}
# The fields of an event that can be changed from its card, with their button labels.
FIELD_LABELS = {
    "title": N_("Wijzig titel"),
    "moment": N_("Wijzig moment"),
    "end": N_("Wijzig einde"),
    "place": N_("Wijzig plaats of link"),
    "capacity": N_("Wijzig aantal plaatsen"),
    "deadline": N_("Wijzig aanmelddeadline"),
    "fairshare": N_("Wijzig plaatsen per netwerk"),
    "speakers": N_("Wijzig sprekers"),
    "description": N_("Wijzig beschrijving"),
}
# The step that asks for a field, and the draft keys it sets.
FIELD_STEP = {
    "kind": "kind",
    "title": "title",
    "moment": "start",
    "end": "end",
    "place": "place",
    "capacity": "capacity",
    "deadline": "deadline",
    "fairshare": "fairshare",
    "speakers": "speakers",
    "description": "description",
}
FIELD_KEYS = {
    "kind": ("kind",),
    "title": ("title",),
    "moment": ("starts_at", "ends_at", "registration_deadline", "fair_share_until"),
    "end": ("ends_at",),
    "place": ("location", "online_url"),
    "capacity": ("capacity",),
    "deadline": ("registration_deadline",),
    "fairshare": ("fair_share_per_network", "fair_share_until"),
    "speakers": ("speakers",),
    "description": ("description",),
}
ORDER = {
    "new": [
        "kind",
        "title",
        "start",
        "end",
        "place",
        "capacity",
        "deadline",
        "fairshare",
        "speakers",
        "description",
        "preview",
    ],
    "propose": ["title", "start", "place", "description", "send"],
    "series": ["series_kind", "series_year", "series_time", "series_place", "series_confirm"],
    "cancel": ["cancel_reason", "cancel_confirm"],
    "reject": ["reject_reason"],
}
# Steps that branch off another one and then continue where it would have.
BRANCH_OF = {"link": "place", "release": "fairshare"}
SERIES_KINDS = {
    "masterclass": (EventKind.MASTERCLASS, Cadence.QUARTERLY),
    "dialoog": (EventKind.DIALOOG, Cadence.HALF_YEARLY),
}
_BARE_LINK = re.compile(r"^[\w-]+(\.[\w-]+)+(/\S*)?$")


@dataclass
class Conversation:
    """One organiser's conversation: where we are and what was typed so far."""

    flow: str  # new, propose, series, edit, cancel, reject
    step: str
    seen: datetime  # the last answer: after TIMEOUT of silence the conversation is over
    # On every step button, so a button of an earlier conversation is recognised as such.
    id: str = field(default_factory=lambda: secrets.token_hex(2))
    trail: list[str] = field(default_factory=list)  # the steps behind us, for "Terug"
    draft: dict[str, Any] = field(default_factory=dict)  # EventDraft fields and the like
    code: str | None = None  # the event being changed (edit, cancel, reject)
    field_name: str | None = None  # the field being changed (edit)
    series_id: int | None = None  # the event's series, if any (edit)
    review: bool = False  # a new event after its preview: a change returns to the preview


@dataclass(frozen=True)
class Answer:
    text: str = ""  # typed
    choice: str | None = None  # a button's value


Screen = tuple[str, Buttons]
Action = Callable[[Turn, Callback], Awaitable[None]]


@dataclass(frozen=True)
class Step:
    ask: Callable[[Turn, Conversation], Screen]
    take: Callable[[Turn, Conversation, Answer], Awaitable[str]]


# --- the conversation handler ------------------------------------------------------------------


class _InConversation(filters.MessageFilter):
    """Typed text is an answer only while its sender has a conversation here. Otherwise it
    passes on to the handlers after ours (another feature waiting for text, the fallback)."""

    def __init__(self, user_data: Mapping[int, Mapping[Any, Any]]) -> None:
        super().__init__(name="in_programme_conversation")
        self._user_data = user_data

    def filter(self, message: TelegramMessage) -> bool:
        user = message.from_user
        stored = self._user_data.get(user.id) if user is not None else None
        return stored is not None and isinstance(stored.get(KEY), Conversation)


def conversation(application: Application) -> ConversationHandler[Any]:  # type: ignore[type-arg]
    """All conversations of this module; register it before the button router and the generic
    text handlers (``bot/app.py``)."""
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    typed = private & filters.TEXT & ~filters.COMMAND & _InConversation(application.user_data)
    with warnings.catch_warnings():
        # PTB warns that with per_message=False a button is tracked per chat, not per message:
        # that is what we want (a step's buttons and typed answers belong to one conversation).
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler(["nieuw", "new"], start_new, filters=private),
                CommandHandler(["voorstel", "propose"], start_proposal, filters=private),
                CommandHandler(["reeks", "series"], start_series, filters=private),
                CallbackQueryHandler(on_entry_button, pattern=ENTRY_PATTERN),
            ],
            states={
                ACTIVE: [
                    CallbackQueryHandler(on_step_button, pattern=STEP_PATTERN),
                    MessageHandler(typed, on_typed),
                ]
            },
            fallbacks=[
                CommandHandler(["stop"], on_stop_command, filters=private),
                CommandHandler(["terug"], on_back_command, filters=private),
            ],
            allow_reentry=True,  # /nieuw during another conversation starts afresh
        )


async def start_new(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    turn = await begin_turn(update, context)
    return await _begin_new(turn)


async def start_series(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    turn = await begin_turn(update, context)
    return await _begin_series(turn)


async def start_proposal(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    turn = await begin_turn(update, context)
    _forget(turn)
    member = turn.member
    if member.affiliation is not Affiliation.BUURTNETWERK or member.network_id is None:
        await turn.say(turn.refusal(NotANetworkMember()))
        return END
    return await _begin(turn, Conversation(flow="propose", step="title", seen=turn.deps.clock()))


async def on_entry_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """New event, new series, change a field, cancel, reject: buttons that start a conversation."""
    turn = await begin_turn(update, context)
    callback = await _decode(turn)
    if callback is None:
        return _unchanged(turn)
    if callback.action == "EN":
        return await _begin_new(turn)
    if callback.action == "EZ":
        return await _begin_series(turn)
    try:
        code = callback.arg(0)
        async with turn.deps.database.read() as session:
            await require_organiser(session, turn.member.id)
            event = await event_by_code(session, code)
        if event.is_cancelled:
            raise DomainError(
                N_("Deze bijeenkomst is geannuleerd; er valt niets meer te wijzigen.")
            )
        conversation = Conversation(
            flow="edit", step="", seen=turn.deps.clock(), code=code, draft=_draft_of(event)
        )
        conversation.series_id = event.series_id
        if callback.action == "EW":
            name = callback.arg(1)
            if name not in FIELD_LABELS:
                raise InvalidCallback(f"EW: unknown field {name!r}")
            conversation.field_name = name
            conversation.step = FIELD_STEP[name]
        elif callback.action == "EX":
            conversation.flow, conversation.step = "cancel", "cancel_reason"
        else:  # ER
            if event.status is not EventStatus.PROPOSED:
                raise DomainError(N_("Over dit voorstel is al besloten."))
            conversation.flow, conversation.step = "reject", "reject_reason"
    except NotAllowed:
        await _refuse_organiser_only(turn)
        return _unchanged(turn)
    except InvalidCallback:
        await _stale_button(turn)
        return _unchanged(turn)
    except DomainError as error:
        await turn.toast(turn.refusal(error))
        return _unchanged(turn)
    return await _begin(turn, conversation)


async def on_step_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    turn = await begin_turn(update, context)
    callback = await _decode(turn)
    if callback is None:
        return _unchanged(turn)
    conversation = await _current(turn)
    if conversation is None:
        return END
    if callback.args[:2] != (conversation.id, conversation.step):
        # A button of an earlier question or conversation: nothing happens, the last one counts.
        await turn.toast(turn.t("Die knop hoort bij een eerdere vraag; kijk bij de laatste."))
        return ACTIVE
    await turn.toast()
    if callback.action == "ES":
        return await _stop(turn, conversation)
    if callback.action == "EB":
        return await _back(turn, conversation)
    try:
        answer = Answer(choice=callback.arg(2))
    except InvalidCallback:
        await _stale_button(turn)
        return ACTIVE
    return await _advance(turn, conversation, answer)


def leave_on_command() -> MessageHandler[Any, Any]:
    """Another command leaves the conversation (``bot/app.py`` adds this in group -2, before
    everything): the command is then handled as always, and text typed after it is no longer
    taken as an answer here (it may be for the command: a broadcast, a check-in code)."""
    own = filters.Regex(r"^/(stop|terug)(@\w+)?(\s|$)")
    return MessageHandler(filters.ChatType.PRIVATE & filters.COMMAND & ~own, _leave)


async def _leave(_update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop(KEY, None)


async def on_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    assert update.message is not None and update.message.text is not None
    turn = await begin_turn(update, context)
    conversation = await _current(turn)
    if conversation is None:
        return END
    text = update.message.text.strip()
    if text.lower() in TYPED_STOP:
        return await _stop(turn, conversation)
    if text.lower() in TYPED_BACK:
        return await _back(turn, conversation)
    return await _advance(turn, conversation, Answer(text=text))


async def on_stop_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    turn = await begin_turn(update, context)
    conversation = _load(turn)
    if conversation is None:
        await turn.say(turn.t("Er loopt nu niets om te stoppen."))
        return END
    return await _stop(turn, conversation)


async def on_back_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    turn = await begin_turn(update, context)
    conversation = await _current(turn)
    if conversation is None:
        return END
    return await _back(turn, conversation)


# --- driving a conversation --------------------------------------------------------------------


async def _begin_new(turn: Turn) -> object:
    _forget(turn)
    if not await _is_organiser(turn):
        await _refuse_organiser_only(turn, "nieuw")
        return END
    return await _begin(turn, Conversation(flow="new", step="kind", seen=turn.deps.clock()))


async def _begin_series(turn: Turn) -> object:
    _forget(turn)
    if not await _is_organiser(turn):
        await _refuse_organiser_only(turn, "reeks")
        return END
    return await _begin(
        turn, Conversation(flow="series", step="series_kind", seen=turn.deps.clock())
    )


async def _begin(turn: Turn, conversation: Conversation) -> object:
    assert turn.context.user_data is not None
    turn.context.user_data[KEY] = conversation
    await turn.toast()
    await _ask(turn, conversation)
    return ACTIVE


def _unchanged(turn: Turn) -> object:
    """After a refused button: a conversation that was going on goes on."""
    return ACTIVE if _load(turn) is not None else END


async def _ask(turn: Turn, conversation: Conversation, notice: str = "") -> None:
    text, buttons = STEPS[conversation.step].ask(turn, conversation)
    if notice:
        text = f"{notice}\n\n{text}"
    await turn.show(text, buttons)


async def _advance(turn: Turn, conversation: Conversation, answer: Answer) -> object:
    step = STEPS[conversation.step]
    try:
        following = await step.take(turn, conversation, answer)
        if following == NEXT:
            following = await _after(turn, conversation)
    except NotAllowed:
        _forget(turn)
        await _refuse_organiser_only(turn)
        return END
    except DomainError as error:
        # The reason, and the same question again; nothing was changed.
        await _ask(turn, conversation, notice=f"⚠️ {turn.refusal(error)}")
        return ACTIVE
    if following == DONE:
        _forget(turn)
        return END
    if following != conversation.step:
        conversation.trail.append(conversation.step)
        conversation.step = following
    await _ask(turn, conversation)
    return ACTIVE


async def _after(turn: Turn, conversation: Conversation) -> str:
    """The step after the current one (its branches done)."""
    if conversation.flow == "edit":
        return await _commit_edit(turn, conversation)
    if conversation.flow == "new" and conversation.review:
        return "preview"
    order = ORDER[conversation.flow]
    current = BRANCH_OF.get(conversation.step, conversation.step)
    return order[order.index(current) + 1]


async def _back(turn: Turn, conversation: Conversation) -> object:
    if conversation.trail:
        conversation.step = conversation.trail.pop()
        await _ask(turn, conversation)
        return ACTIVE
    return await _stop(turn, conversation)


async def _stop(turn: Turn, conversation: Conversation) -> object:
    _forget(turn)
    if conversation.code is not None:
        await show_admin_card(turn, conversation.code, notice=turn.t("Niets gewijzigd."))
    else:
        await turn.show(turn.t("Gestopt. Er is niets opgeslagen."))
    return END


async def _current(turn: Turn) -> Conversation | None:
    """The conversation, if it is still going; after TIMEOUT of silence it ends here."""
    conversation = _load(turn)
    now = turn.deps.clock()
    if conversation is None:
        await turn.toast()
        await turn.show(
            turn.t(
                "Dit gesprek is al afgelopen; er is niets opgeslagen. "
                "Begin opnieuw met /nieuw of kijk in /programma."
            )
        )
        return None
    if now - conversation.seen > TIMEOUT:
        _forget(turn)
        await turn.toast()
        await turn.say(
            turn.t(
                "Dit gesprek is gestopt omdat het een half uur stil was. Er is niets opgeslagen "
                "of gewijzigd. Begin gerust opnieuw met /nieuw of /programma."
            )
        )
        return None
    conversation.seen = now
    return conversation


def _stored(context: ContextTypes.DEFAULT_TYPE) -> Conversation | None:
    found = (context.user_data or {}).get(KEY)
    return found if isinstance(found, Conversation) else None


def _load(turn: Turn) -> Conversation | None:
    return _stored(turn.context)


def _forget(turn: Turn) -> None:
    if turn.context.user_data is not None:
        turn.context.user_data.pop(KEY, None)


async def _decode(turn: Turn) -> Callback | None:
    query = turn.update.callback_query
    assert query is not None
    try:
        return turn.deps.signer.decode(query.from_user.id, query.data)
    except InvalidCallback:
        await _stale_button(turn)
        return None


async def _stale_button(turn: Turn) -> None:
    query = turn.update.callback_query
    if query is not None and not turn.answered:
        turn.answered = True
        await query.answer(
            turn.t("Deze knop werkt niet (meer). Stuur /agenda voor de actuele stand."),
            show_alert=True,
        )


async def _is_organiser(turn: Turn) -> bool:
    """Asked of the domain (``require_organiser``), not of the menu someone happens to have."""
    return await is_organiser(turn)


async def _refuse_organiser_only(turn: Turn, command: str = "programma") -> None:
    """What ``command`` is for and what a member can do instead (``for_organisers``)."""
    await explain(turn, command)


# --- screens: helpers --------------------------------------------------------------------------


def _nav(turn: Turn, conversation: Conversation) -> list[Any]:
    return [
        turn.button(turn.t("◀ Terug"), "EB", conversation.id, conversation.step),
        turn.button(turn.t("✖ Stop"), "ES", conversation.id, conversation.step),
    ]


def _choice(turn: Turn, conversation: Conversation, label: str, value: str | int) -> Any:
    return turn.button(label, "EV", conversation.id, conversation.step, value)


def _header(turn: Turn, conversation: Conversation) -> str:
    t = turn.t
    if conversation.flow == "new":
        order = ORDER["new"]
        heading = t("<b>Nieuwe bijeenkomst</b>")
        if conversation.review or conversation.step in ("preview", "pick_field"):
            return heading
        position = order.index(BRANCH_OF.get(conversation.step, conversation.step)) + 1
        return heading + " · " + t("stap {n} van {total}", n=position, total=len(order) - 1)
    if conversation.flow == "propose":
        return t("<b>Uitwisseling voorstellen</b>")
    if conversation.flow == "series":
        return t("<b>Reeks plannen</b>")
    event_title = escape(str(conversation.draft.get("title", "")))
    if conversation.flow == "cancel":
        return t("<b>Annuleren:</b> {title}", title=event_title)
    if conversation.flow == "reject":
        return t("<b>Voorstel afwijzen:</b> {title}", title=event_title)
    return t("<b>Wijzigen:</b> {title}", title=event_title)


def _now_line(turn: Turn, conversation: Conversation, value: str | None) -> str:
    """ "Nu: …" when a value is being changed (an event's card, or a new event's preview)."""
    if conversation.flow == "new" and not conversation.review:
        return ""
    if conversation.flow in ("propose", "series", "cancel", "reject"):
        return ""
    shown = value if value else turn.t("(leeg)")
    return "\n" + turn.t("Nu: {value}", value=shown)


def _screen(
    turn: Turn, conversation: Conversation, question: str, rows: Buttons | None = None
) -> Screen:
    text = f"{_header(turn, conversation)}\n\n{question}"
    return text, [*(rows or []), _nav(turn, conversation)]


def _moment_or_none(turn: Turn, value: Any) -> str | None:
    return turn.t.moment(value) if isinstance(value, datetime) else None


# --- the steps ---------------------------------------------------------------------------------


def _ask_kind(turn: Turn, c: Conversation) -> Screen:
    rows = [[_choice(turn, c, kind_label(turn.t, kind), kind.value)] for kind in EventKind]
    current = c.draft.get("kind")
    now = _now_line(turn, c, turn.t(KIND_LABELS[current]) if current else None)
    return _screen(turn, c, turn.t("Wat voor bijeenkomst wordt het?") + now, rows)


async def _take_kind(turn: Turn, c: Conversation, answer: Answer) -> str:
    try:
        c.draft["kind"] = EventKind(answer.choice or "")
    except ValueError:
        raise DomainError(N_("Kies een van de knoppen.")) from None
    return NEXT


def _ask_title(turn: Turn, c: Conversation) -> Screen:
    question = turn.t("Wat is de titel? Typ hem hieronder.")
    if c.flow == "propose":
        question = turn.t(
            "Leuk dat je een uitwisseling wilt organiseren! Wat is de titel? "
            "Typ hem hieronder, bijvoorbeeld <i>Zo pakten wij de speeltuin aan</i>."
        )
    current = c.draft.get("title")
    return _screen(turn, c, question + _now_line(turn, c, escape(current) if current else None))


async def _take_title(turn: Turn, c: Conversation, answer: Answer) -> str:
    text = " ".join(answer.text.split())
    if not text:
        raise InvalidEvent(N_("Een bijeenkomst heeft een titel nodig."))
    if len(text) > TITLE_MAX:
        raise InvalidEvent(
            N_("De titel is te lang (hoogstens {maximum} tekens)."), maximum=TITLE_MAX
        )
    c.draft["title"] = text
    return NEXT


def _ask_start(turn: Turn, c: Conversation) -> Screen:
    question = turn.t(
        "Wanneer begint het? Typ de datum en de tijd, bijvoorbeeld <i>12-3-2027 19:30</i>, "
        "<i>12 maart 19:30</i> of <i>volgende week donderdag 20:00</i>."
    )
    if c.flow == "edit":
        question = turn.t(
            "Naar welk moment gaat het? Typ de nieuwe datum en tijd, bijvoorbeeld "
            "<i>12 maart 19:30</i>. Het einde schuift mee; wie zich heeft aangemeld krijgt "
            "bericht."
        )
    now = _now_line(turn, c, _moment_or_none(turn, c.draft.get("starts_at")))
    return _screen(turn, c, question + now)


async def _take_start(turn: Turn, c: Conversation, answer: Answer) -> str:
    if not answer.text:
        raise when.MomentNotUnderstood()
    start = when.parse_moment(answer.text, now=turn.deps.clock(), tz=turn.t.tz)
    before = c.draft.get("starts_at")
    if isinstance(before, datetime):
        # Moving: the end, the deadline and the release of seats keep their distance.
        shift = start - before
        for key in ("ends_at", "registration_deadline", "fair_share_until"):
            value = c.draft.get(key)
            if isinstance(value, datetime):
                c.draft[key] = value + shift
    c.draft["starts_at"] = start
    if c.flow == "propose":
        c.draft["ends_at"] = start + timedelta(hours=2)  # organisers adjust it when approving
    return NEXT


def _ask_end(turn: Turn, c: Conversation) -> Screen:
    rows = [
        [
            _choice(turn, c, turn.t("1,5 uur"), 90),
            _choice(turn, c, turn.t("2 uur"), 120),
            _choice(turn, c, turn.t("3 uur"), 180),
        ]
    ]
    question = turn.t(
        "Hoe lang duurt het? Kies hieronder, of typ een eindtijd of duur, bijvoorbeeld "
        "<i>tot 21:30</i>, <i>1,5 uur</i> of <i>90 min</i>."
    )
    end = c.draft.get("ends_at")
    now = _now_line(turn, c, turn.t.time(end) if isinstance(end, datetime) else None)
    return _screen(turn, c, question + now, rows)


async def _take_end(turn: Turn, c: Conversation, answer: Answer) -> str:
    start = c.draft["starts_at"]
    if answer.choice is not None:
        minutes = _small_number(answer.choice)
        c.draft["ends_at"] = start + timedelta(minutes=minutes)
    else:
        c.draft["ends_at"] = when.parse_end(answer.text, start=start, tz=turn.t.tz)
    return NEXT


def _ask_place(turn: Turn, c: Conversation) -> Screen:
    rows = [
        [
            _choice(turn, c, turn.t("💻 Online"), "online"),
            _choice(turn, c, turn.t("Nog niet bekend"), "none"),
        ]
    ]
    question = turn.t(
        "Waar is het? Typ de plek met adres, bijvoorbeeld <i>Buurtcentrum Wyck, "
        "Rechtstraat 12</i>, of kies <b>Online</b>."
    )
    place = c.draft.get("location") or c.draft.get("online_url")
    return _screen(turn, c, question + _now_line(turn, c, escape(place) if place else None), rows)


async def _take_place(turn: Turn, c: Conversation, answer: Answer) -> str:
    if answer.choice == "online":
        return "link"
    if answer.choice == "none":
        c.draft["location"] = None
        c.draft["online_url"] = None
        return NEXT
    text = " ".join(answer.text.split())
    if not text:
        raise DomainError(N_("Typ de plek, of kies een van de knoppen."))
    if len(text) > LOCATION_MAX:
        raise DomainError(
            N_("Dat is te lang voor een plek (hoogstens {maximum} tekens)."), maximum=LOCATION_MAX
        )
    c.draft["location"] = text
    c.draft["online_url"] = None
    return NEXT


def _ask_link(turn: Turn, c: Conversation) -> Screen:
    question = turn.t(
        "Wat is de link om online mee te doen? Typ of plak hem hieronder, bijvoorbeeld "
        "<i>https://meet.jit.si/buurtnetwerken</i>."
    )
    link = c.draft.get("online_url")
    return _screen(turn, c, question + _now_line(turn, c, escape(link) if link else None))


async def _take_link(turn: Turn, c: Conversation, answer: Answer) -> str:
    link = answer.text.strip()
    if link and not link.startswith(("https://", "http://")) and _BARE_LINK.match(link):
        link = f"https://{link}"
    if not link.startswith(("https://", "http://")) or " " in link or len(link) > 500:
        raise InvalidEvent(N_("Een online link begint met https://"))
    c.draft["online_url"] = link
    c.draft["location"] = None
    return NEXT


def _ask_capacity(turn: Turn, c: Conversation) -> Screen:
    rows = [
        [_choice(turn, c, str(n), n) for n in (20, 30, 40, 60)],
        [_choice(turn, c, turn.t("Geen maximum"), "none")],
    ]
    question = turn.t("Hoeveel plaatsen zijn er? Kies hieronder of typ een aantal.")
    capacity = c.draft.get("capacity")
    current: str | None
    if "capacity" in c.draft and capacity is None:
        current = turn.t("geen maximum")
    else:
        current = turn.t.number(capacity) if capacity else None
    return _screen(turn, c, question + _now_line(turn, c, current), rows)


async def _take_capacity(turn: Turn, c: Conversation, answer: Answer) -> str:
    if answer.choice is not None:
        c.draft["capacity"] = None if answer.choice == "none" else _small_number(answer.choice)
    else:
        c.draft["capacity"] = when.parse_capacity(answer.text)
    share = c.draft.get("fair_share_per_network")
    if c.flow == "new" and share and c.draft["capacity"] and share > c.draft["capacity"]:
        c.draft["fair_share_per_network"] = None  # asked again later, or shown in the preview
        c.draft["fair_share_until"] = None
    return NEXT


def _ask_deadline(turn: Turn, c: Conversation) -> Screen:
    rows = [
        [
            _choice(turn, c, turn.t("1 dag vooraf"), "1"),
            _choice(turn, c, turn.t("2 dagen vooraf"), "2"),
            _choice(turn, c, turn.t("Geen"), "none"),
        ]
    ]
    question = turn.t(
        "Tot wanneer kunnen mensen zich aanmelden? Kies hieronder, of typ een moment, "
        "bijvoorbeeld <i>10 maart 12:00</i>."
    )
    deadline = c.draft.get("registration_deadline")
    current = _moment_or_none(turn, deadline)
    if "registration_deadline" in c.draft and deadline is None:
        current = turn.t("geen")
    return _screen(turn, c, question + _now_line(turn, c, current), rows)


async def _take_deadline(turn: Turn, c: Conversation, answer: Answer) -> str:
    start = c.draft["starts_at"]
    now = turn.deps.clock()
    if answer.choice is not None:
        if answer.choice == "none":
            deadline = None
        else:
            deadline = when.Before(days=_small_number(answer.choice)).moment(start, turn.t.tz)
            if deadline <= now:
                raise when.MomentInPast()
    else:
        deadline = when.parse_deadline(answer.text, start=start, now=now, tz=turn.t.tz)
    c.draft["registration_deadline"] = deadline
    return NEXT


def _ask_fairshare(turn: Turn, c: Conversation) -> Screen:
    rows = [
        [
            _choice(turn, c, turn.t("Geen"), "none"),
            _choice(turn, c, "2", 2),
            _choice(turn, c, "3", 3),
            _choice(turn, c, turn.t("5 per netwerk"), 5),
        ]
    ]
    question = turn.t(
        "Eerlijke verdeling: hoeveel plaatsen mag één buurtnetwerk hoogstens bezetten, "
        "tot een week of zo vooraf? Daarna is de rest vrij voor iedereen. Kies <b>Geen</b> als "
        "iedereen zich gewoon kan aanmelden."
    )
    share = c.draft.get("fair_share_per_network")
    current = turn.t.number(share) if share else turn.t("geen")
    return _screen(turn, c, question + _now_line(turn, c, current), rows)


async def _take_fairshare(turn: Turn, c: Conversation, answer: Answer) -> str:
    if answer.choice is not None:
        share = None if answer.choice == "none" else _small_number(answer.choice)
    else:
        share = when.parse_number(answer.text, maximum=when.MAX_SEATS)
    capacity = c.draft.get("capacity")
    if share is not None and capacity is not None and share > capacity:
        raise InvalidEvent(N_("Er zijn meer plaatsen per netwerk dan plaatsen in totaal."))
    c.draft["fair_share_per_network"] = share
    if share is None:
        c.draft["fair_share_until"] = None
        return NEXT
    return "release"


def _ask_release(turn: Turn, c: Conversation) -> Screen:
    rows = [
        [
            _choice(turn, c, turn.t("1 week vooraf"), 7),
            _choice(turn, c, turn.t("3 dagen vooraf"), 3),
        ]
    ]
    question = turn.t(
        "Wanneer komen de plaatsen die netwerken niet gebruiken vrij voor iedereen? Kies "
        "hieronder of typ een moment."
    )
    now = _now_line(turn, c, _moment_or_none(turn, c.draft.get("fair_share_until")))
    return _screen(turn, c, question + now, rows)


async def _take_release(turn: Turn, c: Conversation, answer: Answer) -> str:
    start = c.draft["starts_at"]
    now = turn.deps.clock()
    release: datetime | None
    if answer.choice is not None:
        release = when.Before(days=_small_number(answer.choice)).moment(start, turn.t.tz)
        if release <= now:
            raise when.MomentInPast()
    else:
        release = when.parse_deadline(answer.text, start=start, now=now, tz=turn.t.tz)
        if release is None:
            raise when.DeadlineNotUnderstood()
    c.draft["fair_share_until"] = release
    return NEXT


def _ask_speakers(turn: Turn, c: Conversation) -> Screen:
    label = turn.t("Weghalen") if c.flow == "edit" else turn.t("Overslaan")
    rows = [[_choice(turn, c, label, "skip")]]
    question = turn.t(
        "Wie spreken er of leiden het? Typ de namen, bijvoorbeeld <i>Sanne Peters (gemeente), "
        "Jos Hermans (Trajekt)</i>."
    )
    speakers = c.draft.get("speakers")
    return _screen(turn, c, question + _now_line(turn, c, escape(speakers or "") or None), rows)


async def _take_speakers(turn: Turn, c: Conversation, answer: Answer) -> str:
    text = "" if answer.choice == "skip" else " ".join(answer.text.split())
    if len(text) > SPEAKERS_MAX:
        raise DomainError(N_("Dat is te lang (hoogstens {maximum} tekens)."), maximum=SPEAKERS_MAX)
    c.draft["speakers"] = text
    return NEXT


def _ask_description(turn: Turn, c: Conversation) -> Screen:
    label = turn.t("Weghalen") if c.flow == "edit" else turn.t("Overslaan")
    rows = [[_choice(turn, c, label, "skip")]]
    question = turn.t(
        "Waar gaat het over? Typ een korte beschrijving: wat mensen er leren of bespreken, en "
        "voor wie het is."
    )
    description = c.draft.get("description")
    current = escape(short(description, 120)) if description else None
    return _screen(turn, c, question + _now_line(turn, c, current), rows)


async def _take_description(turn: Turn, c: Conversation, answer: Answer) -> str:
    text = "" if answer.choice == "skip" else answer.text.strip()
    if len(text) > DESCRIPTION_MAX:
        raise DomainError(
            N_("Dat is te lang (hoogstens {maximum} tekens)."), maximum=DESCRIPTION_MAX
        )
    c.draft["description"] = text
    return NEXT


# --- a new event: the preview ------------------------------------------------------------------


def _ask_preview(turn: Turn, c: Conversation) -> Screen:
    t = turn.t
    lines = [
        _header(turn, c),
        t("Zo komt het eruit te zien. Klopt alles?"),
        "",
        preview_text(turn, _event_draft(c)),
    ]
    rows = [
        [_choice(turn, c, t("📣 Publiceren"), "publish")],
        [_choice(turn, c, t("💾 Bewaren als concept"), "draft")],
        [_choice(turn, c, t("✏️ Wijzigen"), "change")],
        _nav(turn, c),
    ]
    return "\n".join(lines), rows


async def _take_preview(turn: Turn, c: Conversation, answer: Answer) -> str:
    if answer.choice == "change":
        return "pick_field"
    if answer.choice not in ("publish", "draft"):
        raise DomainError(N_("Kies een van de knoppen."))
    publish = answer.choice == "publish"
    async with turn.deps.database.transaction() as session:
        event = await create_event(
            session,
            draft=_event_draft(c),
            actor_id=turn.member.id,
            now=turn.deps.clock(),
            publish=publish,
        )
        code = event.public_code
    if publish:
        notice = turn.t("📣 Gepubliceerd! Iedereen ziet de bijeenkomst nu in /agenda.")
        link = _deep_link(turn, code)
        if link:
            notice += "\n" + turn.t("Link voor een poster of mail: {link}", link=link)
    else:
        notice = turn.t("💾 Bewaard als concept. Publiceer het vanaf deze kaart als het klaar is.")
    await show_admin_card(turn, code, notice=notice)
    return DONE


def _ask_pick_field(turn: Turn, c: Conversation) -> Screen:
    t = turn.t
    names = ["kind", *FIELD_LABELS]
    labels = {"kind": t("Wijzig soort"), **{name: t(label) for name, label in FIELD_LABELS.items()}}
    buttons = [_choice(turn, c, labels[name], name) for name in names]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return _screen(turn, c, t("Wat wil je wijzigen?"), rows)


async def _take_pick_field(turn: Turn, c: Conversation, answer: Answer) -> str:
    name = answer.choice or ""
    if name not in FIELD_STEP:
        raise DomainError(N_("Kies een van de knoppen."))
    c.review = True
    return FIELD_STEP[name]


# --- a board member's proposal -----------------------------------------------------------------


def _ask_send(turn: Turn, c: Conversation) -> Screen:
    t = turn.t
    draft = _event_draft(c, kind=EventKind.UITWISSELING)
    lines = [
        _header(turn, c),
        t("Dit stuur je naar de organisatoren. Klopt alles?"),
        "",
        preview_text(turn, draft),
    ]
    rows = [[_choice(turn, c, t("📨 Voorstel versturen"), "send")], _nav(turn, c)]
    return "\n".join(lines), rows


async def _take_send(turn: Turn, c: Conversation, answer: Answer) -> str:
    if answer.choice != "send":
        raise DomainError(N_("Kies een van de knoppen."))
    async with turn.deps.database.transaction() as session:
        await propose_exchange_session(
            session,
            member_id=turn.member.id,
            draft=_event_draft(c, kind=EventKind.UITWISSELING),
            now=turn.deps.clock(),
        )
    await turn.show(
        turn.t(
            "📨 Je voorstel is doorgestuurd naar de organisatoren. Je hoort van ze zodra ze "
            "ernaar gekeken hebben."
        )
    )
    return DONE


# --- a series ----------------------------------------------------------------------------------


def _ask_series_kind(turn: Turn, c: Conversation) -> Screen:
    t = turn.t
    rows = [
        [_choice(turn, c, t("🎓 Masterclass per kwartaal"), "masterclass")],
        [_choice(turn, c, t("🗣 Dialoog per halfjaar"), "dialoog")],
    ]
    return _screen(turn, c, t("Welke reeks wil je plannen?"), rows)


async def _take_series_kind(turn: Turn, c: Conversation, answer: Answer) -> str:
    if answer.choice not in SERIES_KINDS:
        raise DomainError(N_("Kies een van de knoppen."))
    c.draft["series_kind"] = answer.choice
    return NEXT


def _ask_series_year(turn: Turn, c: Conversation) -> Screen:
    year = turn.deps.clock().astimezone(turn.t.tz).year
    rows = [[_choice(turn, c, str(year), year), _choice(turn, c, str(year + 1), year + 1)]]
    return _screen(turn, c, turn.t("Voor welk jaar?"), rows)


async def _take_series_year(turn: Turn, c: Conversation, answer: Answer) -> str:
    this_year = turn.deps.clock().astimezone(turn.t.tz).year
    try:
        year = int(answer.choice if answer.choice is not None else answer.text.strip())
    except ValueError:
        raise DomainError(N_("Kies een van de knoppen.")) from None
    if not this_year <= year <= this_year + 1:
        raise DomainError(N_("Kies een van de knoppen."))
    c.draft["year"] = year
    if not _coming_series_dates(turn, c):
        raise SeriesInvalid(N_("Alle data van deze reeks in {year} zijn al voorbij."), year=year)
    return NEXT


def _ask_series_time(turn: Turn, c: Conversation) -> Screen:
    rows = [[_choice(turn, c, "19:30", "19:30"), _choice(turn, c, "20:00", "20:00")]]
    question = turn.t("Hoe laat beginnen ze? Kies hieronder of typ een tijd, bijvoorbeeld 19:00.")
    return _screen(turn, c, question, rows)


async def _take_series_time(turn: Turn, c: Conversation, answer: Answer) -> str:
    clock = when.parse_clock_time(answer.choice if answer.choice is not None else answer.text)
    c.draft["local_time"] = f"{clock.hour:02d}:{clock.minute:02d}"
    return NEXT


def _ask_series_place(turn: Turn, c: Conversation) -> Screen:
    rows = [[_choice(turn, c, turn.t("Nog niet bekend"), "none")]]
    question = turn.t(
        "Waar zijn ze meestal? Typ de plek met adres; per bijeenkomst kun je het later nog "
        "wijzigen."
    )
    return _screen(turn, c, question, rows)


async def _take_series_place(turn: Turn, c: Conversation, answer: Answer) -> str:
    text = "" if answer.choice == "none" else " ".join(answer.text.split())
    if answer.choice is None and not text:
        raise DomainError(N_("Typ de plek, of kies een van de knoppen."))
    if len(text) > LOCATION_MAX:
        raise DomainError(
            N_("Dat is te lang voor een plek (hoogstens {maximum} tekens)."), maximum=LOCATION_MAX
        )
    c.draft["location"] = text or None
    return NEXT


def _ask_series_confirm(turn: Turn, c: Conversation) -> Screen:
    t = turn.t
    kind, _cadence = SERIES_KINDS[c.draft["series_kind"]]
    lines = [
        _header(turn, c),
        t("Deze data maak ik aan, als concept (onderwerp nog te bepalen):"),
        "",
    ]
    lines += [f"• {t.moment(moment)}" for moment in _coming_series_dates(turn, c)]
    lines += ["", f"{KIND_ICONS[kind]} {t(KIND_LABELS[kind])}"]
    if c.draft.get("location"):
        lines.append(f"📍 {escape(c.draft['location'])}")
    rows = [[_choice(turn, c, t("✅ Aanmaken"), "create")], _nav(turn, c)]
    return "\n".join(lines), rows


async def _take_series_confirm(turn: Turn, c: Conversation, answer: Answer) -> str:
    if answer.choice != "create":
        raise DomainError(N_("Kies een van de knoppen."))
    kind, cadence = SERIES_KINDS[c.draft["series_kind"]]
    async with turn.deps.database.transaction() as session:
        series = await create_series(
            session,
            actor_id=turn.member.id,
            kind=kind,
            cadence=cadence,
            year=c.draft["year"],
            local_time=c.draft["local_time"],
            duration_minutes=SERIES_DURATION_MINUTES,
            location=c.draft.get("location"),
            capacity=None,
            title=None,
            now=turn.deps.clock(),
            tz=turn.t.tz,
        )
        events = await series_events(session, series.id)
        rows = [[turn.button(short(e.title), "EO", e.public_code)] for e in events]
        lines = [
            turn.t(
                "✅ De reeks <b>{title}</b> staat klaar, als concept:", title=escape(series.title)
            ),
            "",
            *(f"• {turn.t.moment(e.starts_at)} · {escape(e.title)}" for e in events),
            "",
            turn.t("Kies een bijeenkomst om het onderwerp in te vullen en te publiceren."),
        ]
    await turn.show("\n".join(lines), [*rows, [turn.button(turn.t("◀ Programma"), "EP", 0)]])
    return DONE


def _coming_series_dates(turn: Turn, c: Conversation) -> list[datetime]:
    _kind, cadence = SERIES_KINDS[c.draft["series_kind"]]
    clock = when.parse_clock_time(c.draft.get("local_time", "19:30"))
    now = turn.deps.clock()
    moments = []
    for day in series_dates(cadence, c.draft["year"]):
        moment = datetime.combine(day, clock, tzinfo=turn.t.tz)
        if moment > now:
            moments.append(moment)
    return moments


# --- changing an existing event ----------------------------------------------------------------


async def _commit_edit(turn: Turn, c: Conversation) -> str:
    """Apply the field that was just answered; for a series event, first ask how far."""
    assert c.field_name is not None
    if c.series_id is not None and _series_question(turn, c) is not None:
        return "scope"
    await _apply(turn, c, _changes(c))
    return DONE


def _changes(c: Conversation) -> dict[str, Any]:
    assert c.field_name is not None
    return {key: c.draft.get(key) for key in FIELD_KEYS[c.field_name]}


def _series_question(turn: Turn, c: Conversation) -> dict[str, Any] | None:
    """What "Alle komende" would change for the whole series, or None when it does not apply
    (only the date changed, or the event went online: that is for this one only)."""
    if c.field_name == "moment":
        new_time = c.draft["starts_at"].astimezone(turn.t.tz).strftime("%H:%M")
        old_time = c.draft["_original_start"].astimezone(turn.t.tz).strftime("%H:%M")
        return {"local_time": new_time} if new_time != old_time else None
    if c.field_name == "place" and c.draft.get("location"):
        return {"location": c.draft["location"]}
    return None


def _ask_scope(turn: Turn, c: Conversation) -> Screen:
    t = turn.t
    rows = [
        [_choice(turn, c, t("Alleen deze"), "one")],
        [_choice(turn, c, t("Alle komende van de reeks"), "all")],
    ]
    question = t(
        "Deze bijeenkomst hoort bij een reeks. Geldt de wijziging alleen voor deze, of "
        "voor alle komende bijeenkomsten van de reeks?"
    )
    changes = _series_question(turn, c) or {}
    if "local_time" in changes:
        question += "\n" + t(
            "(Voor de andere bijeenkomsten verandert alleen de tijd: {time}.)",
            time=changes["local_time"],
        )
    return _screen(turn, c, question, rows)


async def _take_scope(turn: Turn, c: Conversation, answer: Answer) -> str:
    if answer.choice == "one":
        await _apply(turn, c, _changes(c))
        return DONE
    if answer.choice != "all" or c.series_id is None or c.code is None:
        raise DomainError(N_("Kies een van de knoppen."))
    series_changes = _series_question(turn, c) or {}
    now = turn.deps.clock()
    async with turn.deps.database.transaction() as session:
        event = await event_by_code(session, c.code)
        result = await update_series(
            session,
            actor_id=turn.member.id,
            series_id=c.series_id,
            changes=series_changes,
            apply_to="all",
            event_id=event.id,
            now=now,
            policy=turn.deps.policy,
        )
        notifications = list(result.notifications)
        if c.field_name == "moment":
            # The other events keep their dates; this one also moves to the day typed.
            _event, more = await update_event(
                session,
                event_id=event.id,
                actor_id=turn.member.id,
                changes=_changes(c),
                now=now,
                policy=turn.deps.policy,
            )
            notifications += more
        count = len(result.events)
    notice = turn.t.plural(
        "Aangepast voor {n} bijeenkomst van de reeks.",
        "Aangepast voor {n} bijeenkomsten van de reeks.",
        count,
    )
    await show_admin_card(turn, c.code, notice=_with_told(turn, notice, notifications))
    return DONE


async def _apply(turn: Turn, c: Conversation, changes: dict[str, Any]) -> None:
    assert c.code is not None
    async with turn.deps.database.transaction() as session:
        event = await event_by_code(session, c.code)
        _event, notifications = await update_event(
            session,
            event_id=event.id,
            actor_id=turn.member.id,
            changes=changes,
            now=turn.deps.clock(),
            policy=turn.deps.policy,
        )
    await show_admin_card(
        turn, c.code, notice=_with_told(turn, turn.t("✅ Aangepast."), notifications)
    )


def _with_told(turn: Turn, notice: str, notifications: list[OutboxMessage]) -> str:
    people = len({n.member_id for n in notifications if n.member_id is not None})
    if not people:
        return notice
    told = turn.t.plural(
        "{n} persoon die zich heeft aangemeld krijgt hiervan bericht.",
        "{n} mensen die zich hebben aangemeld krijgen hiervan bericht.",
        people,
    )
    return f"{notice} {told}"


# --- cancelling, rejecting ---------------------------------------------------------------------


def _ask_cancel_reason(turn: Turn, c: Conversation) -> Screen:
    question = turn.t(
        "Waarom gaat het niet door? Typ de reden; iedereen die zich heeft aangemeld of op de "
        "wachtlijst staat krijgt die te lezen."
    )
    return _screen(turn, c, question)


async def _take_reason(turn: Turn, c: Conversation, answer: Answer) -> str:
    reason = answer.text.strip()
    if not reason:
        raise InvalidEvent(N_("Geef een reden op, dan kunnen we die doorgeven."))
    if len(reason) > REASON_MAX:
        raise DomainError(N_("Dat is te lang (hoogstens {maximum} tekens)."), maximum=REASON_MAX)
    c.draft["reason"] = reason
    return NEXT


def _ask_cancel_confirm(turn: Turn, c: Conversation) -> Screen:
    t = turn.t
    question = t(
        "Weet je zeker dat <b>{title}</b> ({moment}) niet doorgaat?\nReden: {reason}",
        title=escape(c.draft["title"]),
        moment=t.moment_in_text(c.draft["starts_at"]),
        reason=escape(c.draft["reason"]),
    )
    rows = [[_choice(turn, c, t("Ja, annuleren"), "yes")]]
    return _screen(turn, c, question, rows)


async def _take_cancel_confirm(turn: Turn, c: Conversation, answer: Answer) -> str:
    if answer.choice != "yes" or c.code is None:
        raise DomainError(N_("Kies een van de knoppen."))
    async with turn.deps.database.transaction() as session:
        event = await event_by_code(session, c.code)
        _event, notifications = await cancel_event(
            session,
            event_id=event.id,
            actor_id=turn.member.id,
            reason=c.draft["reason"],
            now=turn.deps.clock(),
        )
    notice = _with_told(turn, turn.t("❌ Geannuleerd."), notifications)
    await show_admin_card(turn, c.code, notice=notice)
    return DONE


def _ask_reject_reason(turn: Turn, c: Conversation) -> Screen:
    question = turn.t(
        "Waarom wijs je het voorstel af? Typ de reden; de indiener krijgt die te lezen."
    )
    return _screen(turn, c, question)


async def _take_reject_reason(turn: Turn, c: Conversation, answer: Answer) -> str:
    await _take_reason(turn, c, answer)
    assert c.code is not None
    async with turn.deps.database.transaction() as session:
        event = await event_by_code(session, c.code)
        await reject_proposal(
            session,
            actor_id=turn.member.id,
            event_id=event.id,
            reason=c.draft["reason"],
            now=turn.deps.clock(),
        )
    await show_admin_card(turn, c.code, notice=turn.t("Het voorstel is afgewezen."))
    return DONE


STEPS: dict[str, Step] = {
    "kind": Step(_ask_kind, _take_kind),
    "title": Step(_ask_title, _take_title),
    "start": Step(_ask_start, _take_start),
    "end": Step(_ask_end, _take_end),
    "place": Step(_ask_place, _take_place),
    "link": Step(_ask_link, _take_link),
    "capacity": Step(_ask_capacity, _take_capacity),
    "deadline": Step(_ask_deadline, _take_deadline),
    "fairshare": Step(_ask_fairshare, _take_fairshare),
    "release": Step(_ask_release, _take_release),
    "speakers": Step(_ask_speakers, _take_speakers),
    "description": Step(_ask_description, _take_description),
    "preview": Step(_ask_preview, _take_preview),
    "pick_field": Step(_ask_pick_field, _take_pick_field),
    "send": Step(_ask_send, _take_send),
    "series_kind": Step(_ask_series_kind, _take_series_kind),
    "series_year": Step(_ask_series_year, _take_series_year),
    "series_time": Step(_ask_series_time, _take_series_time),
    "series_place": Step(_ask_series_place, _take_series_place),
    "series_confirm": Step(_ask_series_confirm, _take_series_confirm),
    "scope": Step(_ask_scope, _take_scope),
    "cancel_reason": Step(_ask_cancel_reason, _take_reason),
    "cancel_confirm": Step(_ask_cancel_confirm, _take_cancel_confirm),
    "reject_reason": Step(_ask_reject_reason, _take_reject_reason),
}


# --- /programma and the admin card (plain buttons) ---------------------------------------------


@organisers_only("programma")
async def programme(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    turn = await begin_turn(update, context)
    await show_programme(turn, 0)


async def show_programme(turn: Turn, page: int) -> None:
    _forget(turn)  # going to the programme leaves any conversation
    t = turn.t
    try:
        async with turn.deps.database.read() as session:
            events = await programme_events(session, actor_id=turn.member.id, now=turn.deps.clock())
    except NotAllowed:
        await _refuse_organiser_only(turn)
        return
    pages = max(1, math.ceil(len(events) / PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = events[page * PER_PAGE : (page + 1) * PER_PAGE]
    if events:
        lines = [t("<b>Programma</b> · de komende bijeenkomsten, ook concepten en voorstellen.")]
    else:
        lines = [t("<b>Programma</b> · er staat nog niets op het programma.")]
    for event in shown:
        lines += [
            "",
            f"{KIND_ICONS[event.kind]} <b>{escape(title(t, event))}</b>",
            f"🗓 {t.moment(event.starts_at)} · {t(STATUS_LABELS[event.status])}",
        ]
    rows: Buttons = [
        [turn.button(f"{_status_icon(event)} {short(title(t, event))}", "EO", event.public_code)]
        for event in shown
    ]
    nav = []
    if page > 0:
        nav.append(turn.button(t("◀ Eerder"), "EP", page - 1))
    if page < pages - 1:
        nav.append(turn.button(t("Later ▶"), "EP", page + 1))
    if nav:
        rows.append(nav)
    if pages > 1:
        lines += ["", t("Pagina {page} van {pages}", page=page + 1, pages=pages)]
    rows.append(
        [
            turn.button(t("➕ Nieuwe bijeenkomst"), "EN"),
            turn.button(t("🗓 Reeks plannen"), "EZ"),
        ]
    )
    await turn.toast()
    await turn.show("\n".join(lines), rows)


async def show_admin_card(turn: Turn, code: str, *, notice: str = "") -> None:
    """An event as organisers see it, with what they can do to it now."""
    t = turn.t
    now = turn.deps.clock()
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
        event = await event_by_code(session, code)
        overview = await event_overview(
            session, event=event, member=turn.member, now=now, policy=turn.deps.policy
        )
        proposer = await session.get(Member, event.proposed_by_id) if event.proposed_by_id else None
    lines = [t(STATUS_LABELS[event.status])]
    if proposer is not None and event.status is EventStatus.PROPOSED:
        network = proposer.network.name if proposer.network else ""
        lines.append(
            t(
                "Voorgesteld door {name} ({network})",
                name=escape(proposer.display_name),
                network=escape(network),
            )
        )
    lines += ["", event_text(t, overview)]
    share = _fair_share_line(turn, event)
    if share:
        lines.append(share)
    if notice:
        lines = [notice, "", *lines]
    await turn.toast()
    await turn.show("\n".join(lines), _admin_buttons(turn, event, started=overview.started))


def _admin_buttons(turn: Turn, event: Event, *, started: bool) -> Buttons:
    t, code = turn.t, event.public_code
    rows: Buttons = []
    if not event.is_cancelled and not started:
        rows.append(
            [
                turn.button(t("✏️ Wijzigen"), "EF", code),
                turn.button(t("🕒 Verplaatsen"), "EW", code, "moment"),
            ]
        )
        if event.status is EventStatus.DRAFT:
            rows.append([turn.button(t("📣 Publiceren"), "EU", code)])
        if event.status is EventStatus.PROPOSED:
            rows.append(
                [
                    turn.button(t("✅ Goedkeuren"), "EA", code),
                    turn.button(t("❌ Afwijzen"), "ER", code),
                ]
            )
        else:
            rows.append([turn.button(t("✖ Annuleren"), "EX", code)])
    if event.status is EventStatus.PUBLISHED or event.is_cancelled:
        rows.append([turn.button(t("👥 Deelnemers"), "CL", code)])
    rows.append([turn.button(t("◀ Programma"), "EP", 0)])
    return rows


async def show_field_menu(turn: Turn, code: str) -> None:
    _forget(turn)
    t = turn.t
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
        event = await event_by_code(session, code)
    buttons = [turn.button(t(label), "EW", code, name) for name, label in FIELD_LABELS.items()]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([turn.button(t("◀ Terug"), "EO", code)])
    await turn.toast()
    await turn.show(
        t("Wat wil je wijzigen aan <b>{title}</b>?", title=escape(title(t, event))), rows
    )


async def on_open(turn: Turn, code: str) -> None:
    _forget(turn)  # opening a card leaves any conversation
    await show_admin_card(turn, code)


async def on_publish(turn: Turn, code: str) -> None:
    _forget(turn)
    async with turn.deps.database.transaction() as session:
        event = await event_by_code(session, code)
        await publish_event(
            session, event_id=event.id, actor_id=turn.member.id, now=turn.deps.clock()
        )
    notice = turn.t("📣 Gepubliceerd! Iedereen ziet de bijeenkomst nu in /agenda.")
    await turn.toast(turn.t("Gepubliceerd."))
    await show_admin_card(turn, code, notice=notice)


async def on_approve(turn: Turn, code: str) -> None:
    _forget(turn)
    async with turn.deps.database.transaction() as session:
        event = await event_by_code(session, code)
        await approve_proposal(
            session, actor_id=turn.member.id, event_id=event.id, now=turn.deps.clock()
        )
    await turn.toast(turn.t("Goedgekeurd."))
    notice = turn.t("✅ Goedgekeurd: de uitwisseling staat nu in de agenda van het netwerk.")
    await show_admin_card(turn, code, notice=notice)


async def conversation_gone(turn: Turn, _callback: Callback) -> None:
    """A step's button when its conversation is no longer going (a restart, or it ended)."""
    await turn.toast()
    await turn.show(
        turn.t(
            "Dit gesprek is al afgelopen; er is niets opgeslagen. "
            "Begin opnieuw met /nieuw of kijk in /programma."
        )
    )


async def _not_organiser_guarded(turn: Turn, action: Callable[[], Awaitable[None]]) -> None:
    try:
        await action()
    except NotAllowed:
        await _refuse_organiser_only(turn)


ACTIONS: dict[str, Action] = {
    "EP": lambda turn, cb: _not_organiser_guarded(
        turn, lambda: show_programme(turn, cb.int_arg(0))
    ),
    "EO": lambda turn, cb: _not_organiser_guarded(turn, lambda: on_open(turn, cb.arg(0))),
    "EF": lambda turn, cb: _not_organiser_guarded(turn, lambda: show_field_menu(turn, cb.arg(0))),
    "EU": lambda turn, cb: _not_organiser_guarded(turn, lambda: on_publish(turn, cb.arg(0))),
    "EA": lambda turn, cb: _not_organiser_guarded(turn, lambda: on_approve(turn, cb.arg(0))),
    "EV": conversation_gone,
    "EB": conversation_gone,
    "ES": conversation_gone,
}


# --- small helpers -----------------------------------------------------------------------------


def preview_text(turn: Turn, draft: EventDraft) -> str:
    """The event card as volunteers will see it, for a draft that is not saved yet."""
    event = Event(
        public_code="",
        status=EventStatus.DRAFT,
        revision=1,
        **{name: getattr(draft, name) for name in draft.__dataclass_fields__},
    )
    event.description = draft.description or ""
    event.speakers = draft.speakers or ""
    overview = EventOverview(
        event=event,
        seats_left=draft.capacity,
        waitlist_length=0,
        registration=None,
        waitlist_position=None,
        last_call=False,
        registration_open=True,
        started=False,
    )
    text = event_text(turn.t, overview)
    share = _fair_share_line(turn, event)
    return f"{text}\n{share}" if share else text


def _fair_share_line(turn: Turn, event: Event) -> str:
    if not event.fair_share_per_network:
        return ""
    if event.fair_share_until is not None:
        return turn.t(
            "⚖️ Hoogstens {n} plaatsen per netwerk tot {moment}; daarna is de rest vrij.",
            n=turn.t.number(event.fair_share_per_network),
            moment=turn.t.moment_in_text(event.fair_share_until),
        )
    return turn.t(
        "⚖️ Hoogstens {n} plaatsen per netwerk.", n=turn.t.number(event.fair_share_per_network)
    )


def _event_draft(c: Conversation, *, kind: EventKind | None = None) -> EventDraft:
    d = c.draft
    starts_at = d["starts_at"]
    return EventDraft(
        kind=kind or d.get("kind") or EventKind.MASTERCLASS,
        title=d["title"],
        starts_at=starts_at,
        ends_at=d.get("ends_at") or starts_at + timedelta(hours=2),
        description=d.get("description") or "",
        speakers=d.get("speakers") or "",
        location=d.get("location"),
        online_url=d.get("online_url"),
        capacity=d.get("capacity"),
        registration_deadline=d.get("registration_deadline"),
        fair_share_per_network=d.get("fair_share_per_network"),
        fair_share_until=d.get("fair_share_until"),
    )


def _draft_of(event: Event) -> dict[str, Any]:
    """An existing event's values, to change one of them (and to show "Nu: …")."""
    keys = {key for keys in FIELD_KEYS.values() for key in keys}
    draft: dict[str, Any] = {key: getattr(event, key) for key in keys}
    draft["_original_start"] = event.starts_at
    return draft


def _status_icon(event: Event) -> str:
    return {
        EventStatus.DRAFT: "📝",
        EventStatus.PROPOSED: "💡",
        EventStatus.PUBLISHED: "✅",
        EventStatus.CANCELLED: "❌",
    }[event.status]


def _small_number(value: str) -> int:
    if not value.isdigit() or len(value) > 4:
        raise InvalidCallback(f"not a small number: {value!r}")
    return int(value)


def _deep_link(turn: Turn, code: str) -> str | None:
    username = turn.context.bot.username if turn.context.bot else None
    return turn.deps.start_link(username, f"e_{code}")


__all__ = [
    "ACTIONS",
    "TIMEOUT",
    "Conversation",
    "conversation",
    "programme",
    "show_admin_card",
    "show_programme",
]
