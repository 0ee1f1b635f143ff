"""What the service says on its own: each kind of outbox message rendered in the member's
language, with its buttons, and sent. Telegram's errors are translated into the dispatcher's
(``scheduler/dispatcher.py`` decides what to do about them).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.actions import Handler, button_for
from bot.callbacks import CallbackSigner
from bot.context import escape
from bot.handlers.agenda import (
    on_cancel,
    on_claim,
    on_decline,
    on_open,
    on_register,
    on_waitlist,
    show_agenda,
)
from bot.handlers.contact import notices as contact_notices
from bot.handlers.feedback import on_acknowledged, on_rating
from bot.handlers.settings import show_alert_settings
from bot.render import KIND_ICONS, map_link, short, title
from i18n.translate import Translator, translator
from models.alerts.operations import fitting_events_for
from models.alerts.policy import AlertPreference
from models.broadcasts.entities import Broadcast, BroadcastStatus
from models.broadcasts.operations import CANCELLED_REASON
from models.events.entities import Event, EventStatus
from models.members.entities import Member
from models.outbox.delivery import Blocked, NotNeeded, Permanent, RateLimited, Transient
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.registrations import operations as registrations
from models.registrations.allowed import registration_refusal
from models.themes.entities import Theme, member_themes
from models.themes.operations import event_themes_of

K = NotificationKind


class MakeButton(Protocol):
    """``Turn.button`` for the member a message is for: a label, a handler and its arguments."""

    def __call__(self, label: str, handler: Handler, *args: str | int) -> InlineKeyboardButton: ...


Rendered = tuple[str, list[list[InlineKeyboardButton]]]
DIGEST_DAYS = 14


class TelegramDelivery:
    """Implements ``scheduler.dispatcher.Delivery`` with the bot."""

    def __init__(
        self, bot: Bot, signer: CallbackSigner, timezone: str = "Europe/Amsterdam"
    ) -> None:
        self.bot = bot
        self.signer = signer
        self.timezone = timezone
        self.broadcasts: dict[int, tuple[float, Any]] = {}  # see ``_broadcast``
        self.alert_events: dict[tuple[int, ...], tuple[float, Any]] = {}  # see ``_alert_events``

    async def deliver(
        self, session: AsyncSession, message: OutboxMessage, member: Member
    ) -> int | None:
        if member.telegram_id is None:
            raise Permanent("member has no Telegram account")
        # A notice speaks as of its due time: the service's clock when it was meant to go out.
        t = translator(member.language.value, self.timezone).at(message.due_at)
        event = await session.get(Event, message.event_id) if message.event_id else None
        render = _RENDERERS[message.kind]
        context = _Context(t, member, event, message, session, self._button_for(member))
        context.broadcasts = self.broadcasts
        context.alert_events = self.alert_events
        text, buttons = await render(context)
        try:
            if context.edit_message_id is not None:  # an alert that grew: its message edited
                edited = await _edit(
                    self.bot, member.telegram_id, context.edit_message_id, text, buttons
                )
                if edited:
                    return context.edit_message_id
            if context.attachment is not None:  # a broadcast with a photo or document
                sent = await _send_file(self.bot, session, member.telegram_id, text, context)
            else:
                sent = await self.bot.send_message(
                    member.telegram_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=InlineKeyboardMarkup(buttons) if buttons else None,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                    **_bulk(self.bot),
                )
        except Forbidden as error:
            raise Blocked(str(error)) from error
        except RetryAfter as error:
            retry = error.retry_after
            seconds = retry.total_seconds() if isinstance(retry, timedelta) else float(retry)
            raise RateLimited(seconds) from error
        except BadRequest as error:
            raise Permanent(str(error)) from error
        except (NetworkError, TelegramError) as error:  # timeouts, 5xx, connection errors
            raise Transient(str(error)) from error
        return sent.message_id

    def _button_for(self, member: Member) -> MakeButton:
        """``Turn.button`` for ``member``: a label, an ``@action`` handler and its arguments."""
        assert member.telegram_id is not None
        return functools.partial(button_for, self.signer, member.telegram_id)


class _Context:
    def __init__(
        self,
        t: Translator,
        member: Member,
        event: Event | None,
        message: OutboxMessage,
        session: AsyncSession,
        button: MakeButton,
    ) -> None:
        self.t, self.member, self.event, self.message = t, member, event, message
        self.session, self.button = session, button
        # A broadcast's photo or document: (broadcast id, kind, file name, identity).
        self.attachment: tuple[int, str, str, str] | None = None
        self.broadcasts: dict[int, tuple[float, Any]] = {}
        self.alert_events: dict[tuple[int, ...], tuple[float, Any]] = {}
        # The message to edit instead of sending a new one (an alert that grew).
        self.edit_message_id: int | None = None

    @property
    def payload(self) -> dict[str, Any]:
        return self.message.payload or {}

    def headline(self) -> str:
        assert self.event is not None
        return self.headline_of(self.event)

    def headline_of(self, event: Event) -> str:
        return f"{KIND_ICONS[event.kind]} <b>{escape(title(self.t, event))}</b>"

    def open_button(self) -> list[InlineKeyboardButton]:
        assert self.event is not None
        return [self.button(self.t("Bekijk de bijeenkomst"), on_open, self.event.public_code)]


async def _seat_offered(c: _Context) -> Rendered:
    assert c.event is not None
    deadline = datetime.fromisoformat(c.payload["offer_expires_at"])
    text = c.t(
        "🎟 Er is een plek vrijgekomen bij {event} ({moment}). Hij is voor jou tot {deadline}.",
        event=c.headline(),
        moment=c.t.moment_in_text(c.event.starts_at),
        deadline=c.t.moment_in_text(deadline),
    )
    return text, [
        [
            c.button(c.t("🎟 Plek claimen"), on_claim, c.event.public_code),
            c.button(c.t("Laat maar"), on_decline, c.event.public_code),
        ]
    ]


async def _seat_available(c: _Context) -> Rendered:
    assert c.event is not None
    text = c.t(
        "🎟 Er is een plek vrij bij {event} ({moment})! Wie het eerst claimt, krijgt hem.",
        event=c.headline(),
        moment=c.t.moment_in_text(c.event.starts_at),
    )
    return text, [[c.button(c.t("🎟 Plek claimen"), on_claim, c.event.public_code)]]


async def _offer_expired(c: _Context) -> Rendered:
    assert c.event is not None
    text = c.t(
        "Het aanbod voor {event} is verlopen; de plek is doorgegeven aan de volgende.",
        event=c.headline(),
    )
    return text, [[c.button(c.t("⏳ Zet me op de wachtlijst"), on_waitlist, c.event.public_code)]]


async def _promoted(c: _Context) -> Rendered:
    text = c.t(
        "Goed nieuws: een organisator heeft een plek voor je geregeld bij {event}.",
        event=c.headline(),
    )
    return text, [c.open_button()]


async def _removed(c: _Context) -> Rendered:
    note = c.payload.get("note") or ""
    text = c.t(
        "Je aanmelding voor {event} is door een organisator geannuleerd.", event=c.headline()
    )
    if note:
        text += "\n" + c.t("Toelichting: {note}", note=escape(note))
    return text, []


async def _event_changed(c: _Context) -> Rendered:
    old, new = c.payload.get("old", {}), c.payload.get("new", {})
    lines = [c.t("📣 {event} is gewijzigd:", event=c.headline())]
    if old.get("starts_at") != new.get("starts_at") or old.get("ends_at") != new.get("ends_at"):
        before = c.t.span_in_text(
            datetime.fromisoformat(old["starts_at"]), datetime.fromisoformat(old["ends_at"])
        )
        after = c.t.span_in_text(
            datetime.fromisoformat(new["starts_at"]), datetime.fromisoformat(new["ends_at"])
        )
        lines.append(f"🗓 <s>{before}</s> → <b>{after}</b>")
    for key, icon in (("location", "📍"), ("online_url", "💻")):
        if old.get(key) != new.get(key):
            was = escape(old.get(key) or c.t("geen"))
            now = escape(new.get(key) or c.t("geen"))
            lines.append(f"{icon} <s>{was}</s> → <b>{now}</b>")
    lines.append(c.t("Je aanmelding blijft gewoon staan."))
    return "\n".join(lines), [c.open_button()]


async def _event_cancelled(c: _Context) -> Rendered:
    assert c.event is not None
    text = c.t(
        "❌ {event} op {moment} gaat niet door.",
        event=c.headline(),
        moment=c.t.moment_in_text(c.event.starts_at),
    )
    reason = c.payload.get("reason")
    if reason:
        text += "\n" + c.t("Reden: {reason}", reason=escape(reason))
    return text, []


async def _reminder(c: _Context) -> Rendered:
    event = c.event
    assert event is not None
    lines = [
        c.t("⏰ Herinnering: {event}", event=c.headline()),
        f"🗓 {c.t.span_in_text(event.starts_at, event.ends_at)}",
    ]
    if event.location:
        lines.append(
            f'📍 <a href="{escape(map_link(event.location))}">{escape(event.location)}</a>'
        )
    if event.online_url:
        join = c.t("Online meedoen")
        lines.append(f'💻 <a href="{escape(event.online_url)}">{join}</a>')
    return "\n".join(lines), [
        [
            c.button(c.t("👍 Ik kom"), on_acknowledged, event.public_code),
            c.button(c.t("Ik kan toch niet"), on_cancel, event.public_code),
        ]
    ]


async def _feedback_request(c: _Context) -> Rendered:
    assert c.event is not None
    text = c.t(
        "Hoe was {event}? Geef een cijfer van 1 (matig) tot 5 (heel goed).", event=c.headline()
    )
    return text, [[c.button(str(n), on_rating, c.event.public_code, n) for n in range(1, 6)]]


async def _digest(c: _Context) -> Rendered:
    now = c.message.due_at
    events = (
        await c.session.scalars(
            select(Event)
            .where(
                Event.status != EventStatus.DRAFT,
                Event.starts_at > now,
                Event.starts_at <= now + timedelta(days=DIGEST_DAYS),
            )
            .order_by(Event.starts_at)
        )
    ).all()
    visible = [e for e in events if e.visible_to(c.member.network_id)]
    lines = [c.t("<b>Deze en volgende week</b>")]
    if not visible:
        lines.append(c.t("Er staat de komende twee weken niets op de agenda."))
    for event in visible:
        name = escape(title(c.t, event))
        line = f"{KIND_ICONS[event.kind]} <b>{name}</b> · {c.t.moment(event.starts_at)}"
        if event.status is EventStatus.CANCELLED:
            line += " · " + c.t("gaat niet door")
        else:
            left = await registrations.seats_left(c.session, event)
            if left is not None:
                line += " · " + c.t.plural("nog {n} plaats", "nog {n} plaatsen", left)
            if event.updated_at > now - timedelta(days=7) and event.revision > 1:
                line += " · " + c.t("gewijzigd")
        lines.append(line)
    if c.member.alert_preference is AlertPreference.DIGEST:
        new = await fitting_events_for(c.session, c.member, now=now)
        if new:
            lines += ["", c.t("<b>🆕 Nieuw voor jou</b>")]
            for event in new:
                name = escape(title(c.t, event))
                lines.append(
                    f"{KIND_ICONS[event.kind]} <b>{name}</b> · {c.t.moment(event.starts_at)}"
                )
    return "\n".join(lines), [[c.button(c.t("📅 Agenda"), show_agenda, 0)]]


async def _new_events(c: _Context) -> Rendered:
    """New events that fit the member (``models.alerts``): one with its card's buttons, several
    with a button each. A later publication within the window edits the message it joins."""
    ids = [int(i) for i in c.payload.get("event_ids", [])]
    found, themes_of = await _alert_events(c, ids)
    now = c.message.due_at
    events = [
        found[i]
        for i in dict.fromkeys(ids)
        if i in found and found[i].is_published and found[i].starts_at > now
    ]
    if not events:
        raise NotNeeded("no longer news: cancelled or begun")
    edit_of = c.payload.get("edit_of")
    if edit_of is not None:
        head = await c.session.get(OutboxMessage, int(edit_of))
        if head is not None and head.status is DeliveryStatus.SENDING:
            raise Transient("the message to edit is still on its way")
        if head is not None and head.status is DeliveryStatus.SENT:
            c.edit_message_id = head.telegram_message_id
    settings = [c.button(c.t("🔔 Meldingen instellen"), show_alert_settings)]
    if len(events) == 1:
        event = events[0]
        lines = [
            c.t("🆕 Nieuw in de agenda: {event}", event=c.headline_of(event)),
            f"🗓 {c.t.span_in_text(event.starts_at, event.ends_at)}",
        ]
        if event.location:
            lines.append(f"📍 {escape(event.location)}")
        lines += await _why(c, [event], themes_of)
        rows = []
        if registration_refusal(event, now) is None:
            rows.append([c.button(c.t("✅ Aanmelden"), on_register, event.public_code, 1)])
        rows += [[c.button(c.t("Bekijk de bijeenkomst"), on_open, event.public_code)], settings]
        return "\n".join(lines), rows
    lines = [c.t("🆕 Nieuw in de agenda:")]
    for event in events:
        lines.append(f"{c.headline_of(event)} · {c.t.moment(event.starts_at)}")
    lines += await _why(c, events, themes_of)
    rows = [
        [
            c.button(
                f"{KIND_ICONS[event.kind]} {short(title(c.t, event))}", on_open, event.public_code
            )
        ]
        for event in events
    ]
    return "\n".join(lines), [*rows, settings]


ThemesOf = dict[int, list[Theme]]


async def _alert_events(c: _Context, ids: list[int]) -> tuple[dict[int, Event], ThemesOf]:
    """The events of an alert and their themes. One publication means thousands of alerts with
    the same few events: read once a second at most (as a broadcast's row)."""
    key = tuple(sorted(set(ids)))
    cached = c.alert_events.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]  # type: ignore[no-any-return]
    found = {
        e.id: e for e in (await c.session.scalars(select(Event).where(Event.id.in_(ids)))).all()
    }
    themes_of = {event_id: await event_themes_of(c.session, event_id) for event_id in found}
    if len(c.alert_events) > 16:
        c.alert_events.clear()
    c.alert_events[key] = (time.monotonic() + 1.0, (found, themes_of))
    return found, themes_of


async def _why(c: _Context, events: list[Event], themes_of: ThemesOf) -> list[str]:
    """The themes these events carry that the member chose: why they hear of them."""
    carried = {theme.id: theme for event in events for theme in themes_of.get(event.id, [])}
    if not carried:
        return []
    mine = set(
        (
            await c.session.scalars(
                select(member_themes.c.theme_id).where(member_themes.c.member_id == c.member.id)
            )
        ).all()
    )
    language = c.member.language.value
    shared = {i: theme.label(language) for i, theme in carried.items() if i in mine}
    if not shared:
        return []
    return ["", c.t("Over: {themes}", themes=escape(", ".join(shared.values())))]


async def _edit(
    bot: Bot, chat_id: int, message_id: int, text: str, buttons: list[list[InlineKeyboardButton]]
) -> bool:
    """Edit a sent message; False when Telegram will not (gone, too old): send a new one then."""
    try:
        await bot.edit_message_text(
            text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup(buttons) if buttons else None,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            **_bulk(bot),
        )
    except BadRequest as error:
        return "not modified" in str(error).lower()
    return True


async def _proposal_decided(c: _Context) -> Rendered:
    if c.payload.get("approved"):
        text = c.t(
            "Je voorstel {event} is goedgekeurd en staat nu in de agenda.", event=c.headline()
        )
        return text, [c.open_button()]
    text = c.t("Je voorstel {event} is helaas niet goedgekeurd.", event=c.headline())
    if c.payload.get("reason"):
        text += "\n" + c.t("Reden: {reason}", reason=escape(str(c.payload["reason"])))
    return text, []


async def _idea_planned(c: _Context) -> Rendered:
    text = c.t(
        "💡 Het idee „{idea}” wordt werkelijkheid: {event}",
        idea=escape(str(c.payload.get("idea_title", ""))),
        event=c.headline(),
    )
    return text, [c.open_button()]


async def _broadcast(c: _Context) -> Rendered:
    """An organiser's announcement: its Broadcast's HTML, and its photo or document (sent by
    ``_send_file``); rows without a broadcast carry their HTML in the payload."""
    if c.message.broadcast_id is None:
        return str(c.payload.get("html", "")), []
    # The same few fields for each of thousands of recipients: read once a second at most (a
    # stop is seen within that second here; ``cancel_broadcast`` skips the rows at once anyway).
    cached = c.broadcasts.get(c.message.broadcast_id)
    if cached is not None and cached[0] > time.monotonic():
        row = cached[1]
    else:
        row = await _broadcast_row(c)
        if len(c.broadcasts) > 16:
            c.broadcasts.clear()
        c.broadcasts[c.message.broadcast_id] = (time.monotonic() + 1.0, row)
    if row is None:
        raise Permanent("broadcast gone")
    status, html, kind, name, size, created_at = row
    if status is BroadcastStatus.CANCELLED:
        raise Permanent(CANCELLED_REASON)  # stopped while this one was on its way
    if size:
        identity = f"{created_at.isoformat()}/{size}"
        c.attachment = (c.message.broadcast_id, kind or "document", name or "bijlage", identity)
    return html, []


async def _broadcast_row(c: _Context) -> Any:
    return (
        await c.session.execute(
            select(
                Broadcast.status,
                Broadcast.html,
                Broadcast.attachment_kind,
                Broadcast.attachment_name,
                func.length(Broadcast.attachment),
                Broadcast.created_at,
            ).where(Broadcast.id == c.message.broadcast_id)
        )
    ).first()


# Telegram's file_id of a broadcast's attachment once it was uploaded: 5,000 recipients mean one
# upload, not 5,000. Per bot token and broadcast; a restart uploads it once more.
_FILE_IDS: dict[tuple[str, int, str], str] = {}


async def _send_file(
    bot: Bot, session: AsyncSession, chat_id: int, caption: str, context: _Context
) -> Message:
    assert context.attachment is not None
    broadcast_id, kind, name, identity = context.attachment
    key = (bot.token, broadcast_id, identity)
    file_id = _FILE_IDS.get(key)
    if file_id is not None:
        try:
            return await _send_media(bot, chat_id, kind, file_id, caption, name)
        except BadRequest:  # Telegram no longer knows it: upload it again
            _FILE_IDS.pop(key, None)
    data = await session.scalar(select(Broadcast.attachment).where(Broadcast.id == broadcast_id))
    if data is None:
        raise Permanent("broadcast attachment gone")
    sent = await _send_media(bot, chat_id, kind, data, caption, name)
    uploaded = sent.photo[-1] if sent.photo else sent.document
    if uploaded is not None:
        if len(_FILE_IDS) >= 64:
            _FILE_IDS.pop(next(iter(_FILE_IDS)))
        _FILE_IDS[key] = uploaded.file_id
    return sent


async def _send_media(
    bot: Bot, chat_id: int, kind: str, media: str | bytes, caption: str, name: str
) -> Message:
    options: dict[str, Any] = {
        "caption": caption or None,
        "parse_mode": ParseMode.HTML,
        "filename": name if isinstance(media, bytes) else None,
        **_bulk(bot),
    }
    if kind == "photo":
        return await bot.send_photo(chat_id, media, **options)
    return await bot.send_document(chat_id, media, **options)


def _bulk(bot: Bot) -> dict[str, Any]:
    """Marks what the outbox sends as bulk for ``bot.ratelimit.PriorityRateLimiter``, so
    replies to people go first (only an ``ExtBot`` with a rate limiter takes the argument)."""
    if isinstance(bot, ExtBot) and bot.rate_limiter is not None:
        return {"rate_limit_args": {"bulk": True}}
    return {}


_RENDERERS: dict[NotificationKind, Callable[[_Context], Awaitable[Rendered]]] = {
    K.SEAT_OFFERED: _seat_offered,
    K.SEAT_AVAILABLE: _seat_available,
    K.OFFER_EXPIRED: _offer_expired,
    K.PROMOTED: _promoted,
    K.REMOVED: _removed,
    K.EVENT_CHANGED: _event_changed,
    K.EVENT_CANCELLED: _event_cancelled,
    K.REMINDER: _reminder,
    K.FEEDBACK_REQUEST: _feedback_request,
    K.DIGEST: _digest,
    K.BROADCAST: _broadcast,
    K.PROPOSAL_DECIDED: _proposal_decided,
    K.IDEA_PLANNED: _idea_planned,
    K.NEW_EVENTS: _new_events,
}


# A feature's own notices are rendered next to its handlers, with their buttons (the contact
# point's: ``bot/handlers/contact/notices.py``). ``NoticeContext`` is what a renderer gets.
NoticeContext = _Context
_RENDERERS.update(contact_notices.RENDERERS)
