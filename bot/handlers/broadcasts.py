"""/bericht for organisers: compose an announcement, choose who gets it, preview, send now or
later, follow it live, stop it.

The steps: 1) the text (Telegram's own bold, italic and links are kept), with a photo or document
before or after it if wanted; 2) the audience: everyone, chosen buurtnetwerken (a paged
multi-select), the registrants, waitlist or attendees of an event, or who registered for nothing
this year; 3) the preview: the message exactly as people will get it, "Naar 1.234 mensen", and
*Nu versturen*, *Later versturen* or *Annuleren*; 4) a live progress message ("2.340 / 5.000
verzonden") with *Stoppen*, and the final report.

The draft is a DRAFT ``Broadcast`` row from the moment there is a text, so a restart loses
nothing: /bericht offers to continue it. Which step someone is in (waiting for their text or a
moment) is kept in memory per organiser; after a restart they tap /bericht again.
``BroadcastProgress`` edits the progress messages from the database every few seconds, so it
also picks up where it was after a restart.
"""

from __future__ import annotations

import html
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.callbacks import Callback, CallbackSigner
from bot.context import Buttons, Turn, begin_turn, escape
from bot.handlers.for_organisers import organisers_only
from bot.render import KIND_ICONS, short, title
from i18n.translate import N_, Translator, translator
from models.broadcasts import operations as ops
from models.broadcasts import queries
from models.broadcasts.entities import Broadcast, BroadcastStatus
from models.clock import Clock
from models.db import Database
from models.errors import DomainError
from models.events.entities import Event
from models.members.entities import Member
from models.networks.reference import all_networks

log = logging.getLogger(__name__)

B = BroadcastStatus
STEPS_KEY = "broadcast_steps"
PROGRESS_KEY = "broadcast_progress"
NETWORKS_PER_PAGE = 8
EVENTS_PER_PAGE = 6
STEP_TTL_S = 3600.0
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# "12-03-2027 19:30" (also with / or . between the numbers, and 19.30)
_MOMENT = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\s+(\d{1,2})[:.](\d{2})\s*$")
_EVENT_KINDS = {"r": ops.REGISTRANTS, "w": ops.WAITLIST, "a": ops.ATTENDEES}
# Why messages were not sent, as the report tells organisers (``OutboxMessage.last_error``).
_REASONS = {
    "too late": N_("te laat"),
    "member gone": N_("account verwijderd"),
    "member unreachable": N_("niet bereikbaar"),
    "member has no Telegram account": N_("geen Telegram"),
}


# --- which step an organiser is in --------------------------------------------------------------


@dataclass
class Step:
    kind: str  # "content": text/photo/document go into the draft; "when": a typed moment
    broadcast_id: int | None
    expires: float


class Steps:
    """Per organiser (Telegram user id): what their next typed message is for."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._steps: dict[int, Step] = {}
        self._clock = clock

    def get(self, user_id: int) -> Step | None:
        step = self._steps.get(user_id)
        if step is not None and step.expires < self._clock():
            del self._steps[user_id]
            return None
        return step

    def set(self, user_id: int, kind: str, broadcast_id: int | None) -> None:
        self._steps[user_id] = Step(kind, broadcast_id, self._clock() + STEP_TTL_S)

    def clear(self, user_id: int) -> None:
        self._steps.pop(user_id, None)


class _Awaiting(filters.MessageFilter):
    """Messages from an organiser the conversation is waiting for."""

    def __init__(self, steps: Steps) -> None:
        super().__init__(name="broadcast_input")
        self.steps = steps

    def filter(self, message: Message) -> bool:
        user = message.from_user
        if user is None:
            return False
        step = self.steps.get(user.id)
        if step is None:
            return False
        return step.kind == "content" or message.text is not None


def input_handler(application: Application) -> MessageHandler:  # type: ignore[type-arg]
    """What an organiser types or sends while composing; add it before the generic fallbacks."""
    steps = Steps()
    application.bot_data[STEPS_KEY] = steps
    content = filters.TEXT | filters.PHOTO | filters.Document.ALL
    return MessageHandler(
        filters.ChatType.PRIVATE
        & filters.UpdateType.MESSAGE
        & ~filters.COMMAND
        & content
        & _Awaiting(steps),
        on_input,
    )


def _steps(turn: Turn) -> Steps:
    steps = turn.context.bot_data.get(STEPS_KEY)
    if not isinstance(steps, Steps):  # an application built without ``input_handler``
        steps = turn.context.bot_data[STEPS_KEY] = Steps()
    return steps


# --- 1. the text --------------------------------------------------------------------------------


@organisers_only("bericht")
async def new_broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bericht: continue a draft, or start one."""
    turn = await begin_turn(update, context)
    try:
        async with turn.deps.database.read() as session:
            drafts = await ops.drafts_of(session, actor_id=turn.member.id)
    except DomainError as error:
        await turn.say(turn.refusal(error))
        return
    _steps(turn).clear(turn.user_id)
    if not drafts:
        await ask_text(turn, None)
        return
    draft = drafts[0]
    await turn.say(
        turn.t(
            "Je was nog met een bericht bezig:\n<i>{excerpt}</i>\nWil je daarmee verder?",
            excerpt=_excerpt(draft),
        ),
        [
            [turn.button(turn.t("Verder met dit bericht"), "Bd", draft.id)],
            [turn.button(turn.t("Nieuw bericht"), "Bn", draft.id)],
            [turn.button(turn.t("✖ Stop"), "Bx", 0)],
        ],
    )


async def ask_text(turn: Turn, broadcast_id: int | None) -> None:
    t = turn.t
    _steps(turn).set(turn.user_id, "content", broadcast_id)
    lines = [
        t("✉️ <b>Bericht aan leden</b>"),
        t(
            "Typ hieronder het bericht. Vet, schuin en links (zoals je ze in Telegram maakt) "
            "blijven behouden. Een foto of document erbij? Stuur die gewoon mee, voor of na "
            "de tekst."
        ),
    ]
    rows: Buttons = []
    if broadcast_id is not None:
        async with turn.deps.database.read() as session:
            draft = await ops.get_broadcast(
                session, actor_id=turn.member.id, broadcast_id=broadcast_id
            )
        lines += ["", t("Nu staat er:"), f"<i>{_excerpt(draft)}</i>"]
        lines.append(t("Typ een nieuwe tekst om die te vervangen."))
        rows.append([turn.button(t("Tekst houden ▶"), "Ba", draft.id)])
        if draft.attachment_kind is not None:
            rows.append([turn.button(t("🗑 Bijlage weghalen"), "Br", draft.id)])
    rows.append([turn.button(t("✖ Stop"), "Bx", broadcast_id or 0)])
    await turn.show("\n".join(lines), rows)


async def on_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text, photo or document for the draft, or a typed moment to send it."""
    turn = await begin_turn(update, context)
    message = update.message
    step = _steps(turn).get(turn.user_id)
    if message is None or step is None:
        return
    if step.kind == "when":
        await _on_typed_moment(turn, step, message.text or "")
        return
    try:
        attachment = await _attachment_of(message)
        text: str | None = None
        if message.text is not None:
            text = ops.clean_html(message.text_html)
        elif message.caption:
            text = ops.clean_html(message.caption_html)
        now = turn.deps.clock()
        async with turn.deps.database.transaction() as session:
            if step.broadcast_id is None:
                draft = await ops.create_broadcast(
                    session,
                    actor_id=turn.member.id,
                    html=text or "",
                    attachment=attachment,
                    now=now,
                )
            else:
                draft = await ops.update_draft(
                    session,
                    actor_id=turn.member.id,
                    broadcast_id=step.broadcast_id,
                    html=text,
                    attachment=attachment,
                    now=now,
                )
    except DomainError as error:
        stop = turn.button(turn.t("✖ Stop"), "Bx", step.broadcast_id or 0)
        await turn.say(turn.refusal(error), [[stop]])
        return
    _steps(turn).set(turn.user_id, "content", draft.id)
    saved = turn.t("📎 Bijlage bewaard.") if attachment is not None else None
    note = saved or turn.t("✅ Tekst bewaard.")
    if draft.audience:
        await show_preview(turn, draft.id, note=note)
    else:
        await show_audience(turn, draft.id, note=note, new_message=True)


async def _attachment_of(message: Message) -> ops.Attachment | None:
    if message.photo:
        photo = message.photo[-1]
        if photo.file_size and photo.file_size > ops.ATTACHMENT_MAX_BYTES:
            raise ops.AttachmentTooLarge(megabytes=ops.ATTACHMENT_MAX_BYTES // 1024 // 1024)
        data = await (await photo.get_file()).download_as_bytearray()
        return ops.Attachment("photo", "foto.jpg", bytes(data))
    if message.document:
        document = message.document
        if document.file_size and document.file_size > ops.ATTACHMENT_MAX_BYTES:
            raise ops.AttachmentTooLarge(megabytes=ops.ATTACHMENT_MAX_BYTES // 1024 // 1024)
        data = await (await document.get_file()).download_as_bytearray()
        return ops.Attachment("document", document.file_name or "document", bytes(data))
    return None


async def on_continue(turn: Turn, broadcast_id: int) -> None:
    await turn.toast()
    async with turn.deps.database.read() as session:
        draft = await ops.get_broadcast(session, actor_id=turn.member.id, broadcast_id=broadcast_id)
    if draft.status is not B.DRAFT:
        raise ops.BroadcastNotDraft()
    _steps(turn).set(turn.user_id, "content", draft.id)
    if draft.audience:
        await show_preview(turn, draft.id)
    else:
        await show_audience(turn, draft.id)


async def on_new(turn: Turn, old_id: int) -> None:
    async with turn.deps.database.transaction() as session:
        await ops.discard_draft(
            session, actor_id=turn.member.id, broadcast_id=old_id, now=turn.deps.clock()
        )
    await turn.toast()
    await ask_text(turn, None)


async def on_back_to_text(turn: Turn, broadcast_id: int) -> None:
    await turn.toast()
    await ask_text(turn, broadcast_id)


async def on_remove_attachment(turn: Turn, broadcast_id: int) -> None:
    async with turn.deps.database.transaction() as session:
        await ops.update_draft(
            session,
            actor_id=turn.member.id,
            broadcast_id=broadcast_id,
            remove_attachment=True,
            now=turn.deps.clock(),
        )
    await turn.toast(turn.t("Bijlage weggehaald."))
    await ask_text(turn, broadcast_id)


async def on_stop(turn: Turn, broadcast_id: int) -> None:
    """✖ Stop while composing: the draft goes, nothing is sent."""
    _steps(turn).clear(turn.user_id)
    if broadcast_id:
        async with turn.deps.database.transaction() as session:
            await ops.discard_draft(
                session, actor_id=turn.member.id, broadcast_id=broadcast_id, now=turn.deps.clock()
            )
    await turn.toast()
    await turn.show(turn.t("Gestopt. Er is niets verstuurd."))


# --- 2. the audience ----------------------------------------------------------------------------


async def show_audience(
    turn: Turn, broadcast_id: int, *, note: str = "", new_message: bool = False
) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        draft = await ops.get_broadcast(session, actor_id=turn.member.id, broadcast_id=broadcast_id)
    if draft.status is not B.DRAFT:
        raise ops.BroadcastNotDraft()
    lines = [note] if note else []
    lines += [
        t("Je bericht: <i>{excerpt}</i>", excerpt=_excerpt(draft)),
        "",
        t("<b>Voor wie is dit bericht?</b>"),
    ]
    i = draft.id
    rows = [
        [turn.button(t("👥 Iedereen"), "Be", i)],
        [turn.button(t("🏘 Buurtnetwerken kiezen"), "Bw", i, 0)],
        [turn.button(t("✅ Wie zich aanmeldde voor een bijeenkomst"), "Bv", i, "r", 0)],
        [turn.button(t("⏳ De wachtlijst van een bijeenkomst"), "Bv", i, "w", 0)],
        [turn.button(t("🙋 Wie er was bij een bijeenkomst"), "Bv", i, "a", 0)],
        [turn.button(t("💤 Wie zich dit jaar nergens voor aanmeldde"), "Bi", i)],
        [turn.button(t("◀ Terug"), "Bk", i), turn.button(t("✖ Stop"), "Bx", i)],
    ]
    if new_message:
        await turn.say("\n".join(lines), rows)
    else:
        await turn.show("\n".join(lines), rows)


async def on_audience_menu(turn: Turn, broadcast_id: int) -> None:
    await turn.toast()
    await show_audience(turn, broadcast_id)


async def on_everyone(turn: Turn, broadcast_id: int) -> None:
    await _set_audience(turn, broadcast_id, {"kind": ops.EVERYONE})


async def on_inactive(turn: Turn, broadcast_id: int) -> None:
    await _set_audience(turn, broadcast_id, {"kind": ops.INACTIVE})


async def _set_audience(turn: Turn, broadcast_id: int, audience: dict[str, Any]) -> None:
    async with turn.deps.database.transaction() as session:
        await ops.update_draft(
            session,
            actor_id=turn.member.id,
            broadcast_id=broadcast_id,
            audience=audience,
            now=turn.deps.clock(),
        )
    await turn.toast()
    await show_preview(turn, broadcast_id)


async def on_networks_page(turn: Turn, broadcast_id: int, page: int) -> None:
    await turn.toast()
    await _show_networks(turn, broadcast_id, page)


async def _show_networks(turn: Turn, broadcast_id: int, page: int) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        draft = await ops.get_broadcast(session, actor_id=turn.member.id, broadcast_id=broadcast_id)
        networks = await all_networks(session)
    chosen = set(_chosen_networks(draft))
    pages = max(1, math.ceil(len(networks) / NETWORKS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = networks[page * NETWORKS_PER_PAGE : (page + 1) * NETWORKS_PER_PAGE]
    buttons = [
        turn.button(
            ("✅ " if network.id in chosen else "") + network.name, "Bt", draft.id, network.id, page
        )
        for network in shown
    ]
    rows = [buttons[n : n + 2] for n in range(0, len(buttons), 2)]
    nav = []
    if page > 0:
        nav.append(turn.button("◀", "Bw", draft.id, page - 1))
    nav.append(turn.button(f"{page + 1}/{pages}", "Bw", draft.id, page))
    if page < pages - 1:
        nav.append(turn.button("▶", "Bw", draft.id, page + 1))
    rows.append(nav)
    rows.append(
        [
            turn.button(
                t.plural("Klaar: {n} netwerk ▶", "Klaar: {n} netwerken ▶", len(chosen)),
                "Bp",
                draft.id,
            )
        ]
    )
    rows.append(_back_and_stop(turn, "Ba", draft.id))
    await turn.show(
        t("<b>Welke buurtnetwerken?</b> Tik er een of meer aan (✅), en dan op Klaar."), rows
    )


async def on_network_toggled(turn: Turn, broadcast_id: int, network_id: int, page: int) -> None:
    async with turn.deps.database.transaction() as session:
        draft = await ops.get_broadcast(session, actor_id=turn.member.id, broadcast_id=broadcast_id)
        chosen = set(_chosen_networks(draft))
        chosen ^= {network_id}
        audience = {"kind": ops.NETWORKS, "network_ids": sorted(chosen)} if chosen else {}
        await ops.update_draft(
            session,
            actor_id=turn.member.id,
            broadcast_id=broadcast_id,
            audience=audience,
            now=turn.deps.clock(),
        )
    await turn.toast()
    await _show_networks(turn, broadcast_id, page)


def _back_and_stop(turn: Turn, back: str, broadcast_id: int) -> list[InlineKeyboardButton]:
    return [
        turn.button(turn.t("◀ Terug"), back, broadcast_id),
        turn.button(turn.t("✖ Stop"), "Bx", broadcast_id),
    ]


def _chosen_networks(draft: Broadcast) -> list[int]:
    if draft.audience.get("kind") != ops.NETWORKS:
        return []
    return [int(i) for i in draft.audience.get("network_ids", [])]


async def on_events_page(turn: Turn, broadcast_id: int, code: str, page: int) -> None:
    t = turn.t
    kind = _event_kind(code)
    await turn.toast()
    async with turn.deps.database.read() as session:
        events = await ops.audience_events(
            session, actor_id=turn.member.id, kind=kind, now=turn.deps.clock()
        )
    pages = max(1, math.ceil(len(events) / EVENTS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = events[page * EVENTS_PER_PAGE : (page + 1) * EVENTS_PER_PAGE]
    rows: Buttons = [
        [
            turn.button(
                f"{KIND_ICONS[event.kind]} {short(title(t, event), 30)} · "
                f"{t.moment(event.starts_at)}",
                "Bg",
                broadcast_id,
                code,
                event.id,
            )
        ]
        for event in shown
    ]
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(turn.button("◀", "Bv", broadcast_id, code, page - 1))
        nav.append(turn.button(f"{page + 1}/{pages}", "Bv", broadcast_id, code, page))
        if page < pages - 1:
            nav.append(turn.button("▶", "Bv", broadcast_id, code, page + 1))
        rows.append(nav)
    rows.append(_back_and_stop(turn, "Ba", broadcast_id))
    if not events:
        text = t("Er zijn geen bijeenkomsten om uit te kiezen.")
    elif kind == ops.ATTENDEES:
        text = t("<b>Welke bijeenkomst?</b> Het bericht gaat naar wie erbij was.")
    elif kind == ops.WAITLIST:
        text = t("<b>Welke bijeenkomst?</b> Het bericht gaat naar wie op de wachtlijst staat.")
    else:
        text = t("<b>Welke bijeenkomst?</b> Het bericht gaat naar wie zich aanmeldde.")
    await turn.show(text, rows)


async def on_event_chosen(turn: Turn, broadcast_id: int, code: str, event_id: int) -> None:
    await _set_audience(turn, broadcast_id, {"kind": _event_kind(code), "event_id": event_id})


def _event_kind(code: str) -> str:
    kind = _EVENT_KINDS.get(code)
    if kind is None:
        raise ops.AudienceInvalid()
    return kind


# --- 3. the preview, and sending ----------------------------------------------------------------


async def on_preview(turn: Turn, broadcast_id: int) -> None:
    async with turn.deps.database.read() as session:
        draft = await ops.get_broadcast(session, actor_id=turn.member.id, broadcast_id=broadcast_id)
    if draft.audience.get("kind") is None and draft.status is B.DRAFT:
        raise ops.NoNetworksChosen()  # "Klaar" with no network ticked
    await turn.toast()
    await show_preview(turn, broadcast_id)


async def show_preview(turn: Turn, broadcast_id: int, *, note: str = "") -> None:
    """The message exactly as people will get it, then how many and the buttons."""
    t = turn.t
    now = turn.deps.clock()
    async with turn.deps.database.read() as session:
        draft = await ops.get_broadcast(session, actor_id=turn.member.id, broadcast_id=broadcast_id)
        if draft.status is not B.DRAFT:
            raise ops.BroadcastNotDraft()
        count = await ops.preview(session, draft.id, now)
        audience = await describe_audience(session, t, draft.audience)
    if turn.update.callback_query is not None:  # the menu the button was on: what was chosen
        await turn.show(t("Voor: {audience}", audience=audience))
    try:
        await send_as_people_see_it(turn.context.bot, turn.chat_id, draft)
    except BadRequest as error:
        log.info("preview of broadcast %s refused: %s", draft.id, error)
        await turn.say(
            t("Telegram kan dit bericht zo niet tonen. Pas de tekst aan en probeer het opnieuw."),
            [[turn.button(t("◀ Terug"), "Bk", draft.id), turn.button(t("✖ Stop"), "Bx", draft.id)]],
        )
        return
    lines = [note] if note else []
    lines += [
        t("☝️ Zo ziet je bericht eruit."),
        t.plural(
            "Naar <b>{n}</b> persoon: {audience}.",
            "Naar <b>{n}</b> mensen: {audience}.",
            count,
            audience=audience,
        ),
    ]
    await turn.say("\n".join(lines), _preview_buttons(turn, draft.id))


def _preview_buttons(turn: Turn, broadcast_id: int) -> Buttons:
    t = turn.t
    return [
        [turn.button(t("📨 Nu versturen"), "Bs", broadcast_id)],
        [turn.button(t("🕒 Later versturen"), "Bl", broadcast_id)],
        [
            turn.button(t("◀ Terug"), "Ba", broadcast_id),
            turn.button(t("✖ Annuleren"), "Bx", broadcast_id),
        ],
    ]


async def send_as_people_see_it(bot: Bot, chat_id: int, broadcast: Broadcast) -> Message:
    """What ``bot/notifications.py`` sends for a broadcast, sent to ``chat_id``."""
    if broadcast.attachment is not None:
        options: dict[str, Any] = {
            "caption": broadcast.html or None,
            "parse_mode": ParseMode.HTML,
            "filename": broadcast.attachment_name,
        }
        if broadcast.attachment_kind == "photo":
            return await bot.send_photo(chat_id, broadcast.attachment, **options)
        return await bot.send_document(chat_id, broadcast.attachment, **options)
    return await bot.send_message(
        chat_id, broadcast.html, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW
    )


async def on_back_to_preview(turn: Turn, broadcast_id: int) -> None:
    """◀ Terug from "when": the buttons of the preview again, in place."""
    t = turn.t
    _steps(turn).set(turn.user_id, "content", broadcast_id)
    async with turn.deps.database.read() as session:
        draft = await ops.get_broadcast(session, actor_id=turn.member.id, broadcast_id=broadcast_id)
        if draft.status is not B.DRAFT:
            raise ops.BroadcastNotDraft()
        count = await ops.preview(session, draft.id, turn.deps.clock())
        audience = await describe_audience(session, t, draft.audience)
    await turn.toast()
    await turn.show(
        t.plural(
            "Naar <b>{n}</b> persoon: {audience}.",
            "Naar <b>{n}</b> mensen: {audience}.",
            count,
            audience=audience,
        ),
        _preview_buttons(turn, draft.id),
    )


async def on_send_now(turn: Turn, broadcast_id: int) -> None:
    await _confirm(turn, broadcast_id, None)


async def on_later(turn: Turn, broadcast_id: int) -> None:
    """When: this evening at 19:00, tomorrow at 09:00, or a typed moment."""
    t = turn.t
    await turn.toast()
    _steps(turn).set(turn.user_id, "when", broadcast_id)
    now = turn.deps.clock()
    local = now.astimezone(t.tz)
    rows: Buttons = []
    tonight = _local(local.date().isoformat(), 19, 0, t.tz)
    if tonight > now + timedelta(minutes=5):
        rows.append([turn.button(t("Vanavond 19:00"), "Bm", broadcast_id, _minutes(tonight))])
    tomorrow = _local((local + timedelta(days=1)).date().isoformat(), 9, 0, t.tz)
    rows.append([turn.button(t("Morgen 09:00"), "Bm", broadcast_id, _minutes(tomorrow))])
    rows.append(
        [
            turn.button(t("◀ Terug"), "Bc", broadcast_id),
            turn.button(t("✖ Annuleren"), "Bx", broadcast_id),
        ]
    )
    await turn.show(
        t(
            "<b>Wanneer moet het bericht weg?</b> Kies hieronder, of typ een moment, "
            "bijvoorbeeld {example}.",
            example=_example(now, t.tz),
        ),
        rows,
    )


async def on_moment_chosen(turn: Turn, broadcast_id: int, minutes: int) -> None:
    await _confirm(turn, broadcast_id, datetime.fromtimestamp(minutes * 60, tz=ZoneInfo("UTC")))


async def _on_typed_moment(turn: Turn, step: Step, text: str) -> None:
    assert step.broadcast_id is not None
    moment = parse_moment(text, turn.t.tz)
    if moment is None:
        await turn.say(
            turn.t(
                "Dat moment begrijp ik niet. Typ het zo: {example}",
                example=_example(turn.deps.clock(), turn.t.tz),
            ),
            [[turn.button(turn.t("◀ Terug"), "Bc", step.broadcast_id)]],
        )
        return
    try:
        await _confirm(turn, step.broadcast_id, moment)
    except DomainError as error:
        await turn.say(
            turn.refusal(error), [[turn.button(turn.t("◀ Terug"), "Bc", step.broadcast_id)]]
        )


def parse_moment(text: str, tz: ZoneInfo) -> datetime | None:
    """ "12-03-2027 19:30" (day-month-year hours:minutes, local time), or None."""
    match = _MOMENT.match(text)
    if not match:
        return None
    day, month, year, hour, minute = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, tzinfo=tz)
    except ValueError:
        return None


async def _confirm(turn: Turn, broadcast_id: int, send_at: datetime | None) -> None:
    t = turn.t
    async with turn.deps.database.transaction() as session:
        broadcast = await ops.confirm_broadcast(
            session,
            actor_id=turn.member.id,
            broadcast_id=broadcast_id,
            send_at=send_at,
            now=turn.deps.clock(),
        )
    _steps(turn).clear(turn.user_id)
    await turn.toast(t("Ingepland.") if broadcast.status is B.SCHEDULED else t("Verzenden…"))
    async with turn.deps.database.read() as session:
        report = await ops.broadcast_report(session, broadcast.id)
    text, buttons = progress_view(t, turn.deps.signer, turn.user_id, broadcast, report)
    query = turn.update.callback_query
    if query is not None and isinstance(query.message, Message):
        await turn.show(text, buttons)
        shown: Message = query.message
    else:
        shown = await turn.say(text, buttons)
    async with turn.deps.database.transaction() as session:
        await ops.set_progress_message(
            session,
            actor_id=turn.member.id,
            broadcast_id=broadcast.id,
            chat_id=turn.chat_id,
            message_id=shown.message_id,
        )
    progress = turn.context.bot_data.get(PROGRESS_KEY)
    if isinstance(progress, BroadcastProgress):
        progress.wake()


async def on_stop_sending(turn: Turn, broadcast_id: int) -> None:
    """⛔ Stoppen: what was not sent yet is not sent; the report so far."""
    t = turn.t
    async with turn.deps.database.transaction() as session:
        await ops.cancel_broadcast(
            session, actor_id=turn.member.id, broadcast_id=broadcast_id, now=turn.deps.clock()
        )
    await turn.toast(t("Gestopt."))
    async with turn.deps.database.read() as session:
        broadcast = await ops.get_broadcast(
            session, actor_id=turn.member.id, broadcast_id=broadcast_id
        )
        report = await ops.broadcast_report(session, broadcast_id)
    text, buttons = progress_view(t, turn.deps.signer, turn.user_id, broadcast, report)
    await turn.show(text, buttons)


# --- how it looks -------------------------------------------------------------------------------


async def describe_audience(session: AsyncSession, t: Translator, audience: dict[str, Any]) -> str:
    kind = audience.get("kind")
    if kind == ops.EVERYONE:
        return t("iedereen")
    if kind == ops.NETWORKS:
        ids = audience.get("network_ids", [])
        names = await queries.network_names(session, ids)
        return t.plural(
            "{n} buurtnetwerk ({names})",
            "{n} buurtnetwerken ({names})",
            len(names),
            names=escape(", ".join(names)),
        )
    if kind == ops.INACTIVE:
        return t("wie zich in {year} nergens voor aanmeldde", year=audience.get("year", ""))
    if kind in ops.EVENT_AUDIENCES:
        event = await session.get(Event, audience.get("event_id"))
        name = (
            f"{escape(title(t, event))} ({t.moment_in_text(event.starts_at)})"
            if event
            else t("(weg)")
        )
        if kind == ops.REGISTRANTS:
            return t("wie zich aanmeldde voor {event}", event=name)
        if kind == ops.WAITLIST:
            return t("wie op de wachtlijst staat voor {event}", event=name)
        return t("wie er was bij {event}", event=name)
    return t("nog niet gekozen")


def _excerpt(broadcast: Broadcast) -> str:
    text = re.sub(r"<[^>]+>", "", broadcast.html)
    plain = " ".join(html.unescape(text).split())
    parts = []
    if broadcast.attachment_kind == "photo":
        parts.append("📷")
    elif broadcast.attachment_kind == "document":
        parts.append("📎")
    if plain:
        parts.append(escape(short(plain, 120)))
    return " ".join(parts) or "…"


def report_lines(t: Translator, report: ops.BroadcastReport) -> list[str]:
    lines = [t("✅ Bezorgd: {n}", n=t.number(report.delivered))]
    if report.blocked:
        lines.append(
            t("🚫 Heeft de bot geblokkeerd of is niet bereikbaar: {n}", n=t.number(report.blocked))
        )
    if report.failed:
        lines.append(t("⚠️ Mislukt: {n}", n=t.number(report.failed)))
        for reason, count in report.failed_reasons.most_common(5):
            lines.append(f"   • {escape(short(_reason(t, reason), 80))}: {t.number(count)}")
    if report.skipped:
        lines.append(t("⏭ Overgeslagen: {n}", n=t.number(report.skipped)))
        for reason, count in report.skipped_reasons.most_common(3):
            lines.append(f"   • {escape(short(_reason(t, reason), 80))}: {t.number(count)}")
    if report.cancelled:
        lines.append(t("⛔ Niet verstuurd (gestopt): {n}", n=t.number(report.cancelled)))
    if report.pending:
        lines.append(t("⏳ Nog te versturen: {n}", n=t.number(report.pending)))
    return lines


def _reason(t: Translator, reason: str) -> str:
    known = _REASONS.get(reason)
    return t(known) if known else reason


def progress_view(
    t: Translator,
    signer: CallbackSigner,
    user_id: int,
    broadcast: Broadcast,
    report: ops.BroadcastReport,
) -> tuple[str, Buttons]:
    """The progress message: scheduled, sending (live), done or stopped."""
    total = report.total or broadcast.recipients

    def button(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            label, callback_data=signer.encode(user_id, action, broadcast.id)
        )

    if broadcast.status is B.SCHEDULED:
        assert broadcast.send_at is not None
        text = t.plural(
            "🕒 <b>Ingepland</b> voor {moment}, naar {n} persoon.",
            "🕒 <b>Ingepland</b> voor {moment}, naar {n} mensen.",
            total,
            moment=t.moment_in_text(broadcast.send_at),
        )
        return text, [[button(t("⛔ Niet versturen"), "Bq")]]
    counts = t(
        "{done} / {total} verzonden",
        done=t.number(report.processed),
        total=t.number(total),
    )
    if broadcast.status is B.SENDING:
        lines = [t("📨 <b>Bericht wordt verstuurd</b>"), counts, *report_lines(t, report)]
        return "\n".join(lines), [[button(t("⛔ Stoppen"), "Bq")]]
    if broadcast.status is B.CANCELLED:
        lines = [t("⛔ <b>Bericht gestopt</b>"), counts, *report_lines(t, report)]
        return "\n".join(lines), []
    lines = [t("✅ <b>Bericht verstuurd</b>"), counts, *report_lines(t, report)]
    return "\n".join(lines), []


def _local(day: str, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=tz)


def _minutes(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def _example(now: datetime, tz: ZoneInfo) -> str:
    return (now.astimezone(tz) + timedelta(days=1)).strftime("%d-%m-%Y 19:30")


# --- 4. the live progress -----------------------------------------------------------------------


class BroadcastProgress:
    """Keeps each sending broadcast's progress message up to date, from the database.

    ``tick()`` moves scheduled broadcasts to SENDING when their moment comes and sending ones to
    DONE when nothing is left, edits each progress message (at most once per ``interval_s``, and
    only when the numbers changed) and sends the final report. With a scheduler it runs itself
    every ``interval_s`` while anything is sending, at the next scheduled moment otherwise, and
    not at all when there is nothing to do; ``wake()`` after a confirmation.
    """

    JOB = "broadcast-progress"

    def __init__(
        self,
        database: Database,
        bot: Bot,
        signer: CallbackSigner,
        clock: Clock,
        *,
        scheduler: AsyncIOScheduler | None = None,
        interval_s: float = 3.0,
        timezone: str = "Europe/Amsterdam",
    ) -> None:
        self.database = database
        self.bot = bot
        self.signer = signer
        self.clock = clock
        self.scheduler = scheduler
        self.interval_s = interval_s
        self.timezone = timezone
        self._shown: dict[int, str] = {}

    def start(self) -> None:
        """Pick up where it was (after a restart too)."""
        self.wake()

    def wake(self) -> None:
        if self.scheduler is None or not self.scheduler.running:
            return
        self.scheduler.add_job(
            self._job,
            "date",
            run_date=self.clock(),
            id=self.JOB,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=2,
        )

    async def _job(self) -> None:
        try:
            await self.tick()
        except Exception:  # never take the scheduler down; the next wake tries again
            log.exception("broadcast progress failed")
            self._schedule(self.clock() + timedelta(seconds=self.interval_s))

    async def tick(self) -> None:
        now = self.clock()
        async with self.database.read() as session:
            active = await queries.any_pending(session)
        if active:
            async with self.database.transaction() as session:
                changes = await ops.advance_broadcasts(session, now=now)
            for broadcast, before in changes:
                await self._show(broadcast, before)
        await self._schedule_next()

    async def _show(self, broadcast: Broadcast, before: BroadcastStatus) -> None:
        if broadcast.progress_chat_id is None or broadcast.progress_message_id is None:
            return
        if broadcast.status is B.SCHEDULED:
            return  # shown when it was confirmed; nothing moves until its moment
        async with self.database.read() as session:
            report = await ops.broadcast_report(session, broadcast.id)
            organiser = (
                await session.get(Member, broadcast.created_by_id)
                if broadcast.created_by_id
                else None
            )
        language = organiser.language.value if organiser is not None else "nl"
        t = translator(language, self.timezone).at(self.clock())
        chat_id = broadcast.progress_chat_id
        text, buttons = progress_view(t, self.signer, chat_id, broadcast, report)
        if self._shown.get(broadcast.id) != text:
            await self._edit(chat_id, broadcast.progress_message_id, text, buttons)
            self._shown[broadcast.id] = text
        if broadcast.status is B.DONE and before is not B.DONE:
            self._shown.pop(broadcast.id, None)
            try:
                await self.bot.send_message(
                    chat_id,
                    "\n".join([t("✅ <b>Je bericht is verstuurd.</b>"), *report_lines(t, report)]),
                    parse_mode=ParseMode.HTML,
                )
            except TelegramError as error:
                log.warning("broadcast %s: could not send the report: %s", broadcast.id, error)

    async def _edit(self, chat_id: int, message_id: int, text: str, buttons: Buttons) -> None:
        try:
            await self.bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=InlineKeyboardMarkup(buttons) if buttons else None,
            )
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                log.info("progress message %s/%s: %s", chat_id, message_id, error)
        except TelegramError as error:
            log.warning("progress message %s/%s: %s", chat_id, message_id, error)

    async def _schedule_next(self) -> None:
        if self.scheduler is None:
            return
        now = self.clock()
        async with self.database.read() as session:
            state = await queries.sending_state(session)
        if state.sending:
            self._schedule(now + timedelta(seconds=self.interval_s))
        elif state.next_scheduled is not None:
            self._schedule(max(state.next_scheduled, now + timedelta(seconds=self.interval_s)))
        elif self.scheduler.get_job(self.JOB) is not None:
            self.scheduler.remove_job(self.JOB)

    def _schedule(self, when: datetime) -> None:
        if self.scheduler is None or not self.scheduler.running:
            return
        self.scheduler.add_job(
            self._job,
            "date",
            run_date=when,
            id=self.JOB,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=2,
        )


# --- buttons ------------------------------------------------------------------------------------

Action = Callable[[Turn, Callback], Awaitable[None]]

ACTIONS: dict[str, Action] = {
    "Bd": lambda turn, cb: on_continue(turn, cb.int_arg(0)),
    "Bn": lambda turn, cb: on_new(turn, cb.int_arg(0)),
    "Bk": lambda turn, cb: on_back_to_text(turn, cb.int_arg(0)),
    "Br": lambda turn, cb: on_remove_attachment(turn, cb.int_arg(0)),
    "Bx": lambda turn, cb: on_stop(turn, cb.int_arg(0)),
    "Ba": lambda turn, cb: on_audience_menu(turn, cb.int_arg(0)),
    "Be": lambda turn, cb: on_everyone(turn, cb.int_arg(0)),
    "Bi": lambda turn, cb: on_inactive(turn, cb.int_arg(0)),
    "Bw": lambda turn, cb: on_networks_page(turn, cb.int_arg(0), cb.int_arg(1)),
    "Bt": lambda turn, cb: on_network_toggled(turn, cb.int_arg(0), cb.int_arg(1), cb.int_arg(2)),
    "Bv": lambda turn, cb: on_events_page(turn, cb.int_arg(0), cb.arg(1), cb.int_arg(2)),
    "Bg": lambda turn, cb: on_event_chosen(turn, cb.int_arg(0), cb.arg(1), cb.int_arg(2)),
    "Bp": lambda turn, cb: on_preview(turn, cb.int_arg(0)),
    "Bc": lambda turn, cb: on_back_to_preview(turn, cb.int_arg(0)),
    "Bs": lambda turn, cb: on_send_now(turn, cb.int_arg(0)),
    "Bl": lambda turn, cb: on_later(turn, cb.int_arg(0)),
    "Bm": lambda turn, cb: on_moment_chosen(turn, cb.int_arg(0), cb.int_arg(1)),
    "Bq": lambda turn, cb: on_stop_sending(turn, cb.int_arg(0)),
}
