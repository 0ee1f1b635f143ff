"""Broadcasts: an organiser's announcement to an audience, delivered through the outbox.

The life of a broadcast:

- ``create_broadcast`` stores a DRAFT as soon as there is a text (or a photo/document), so
  nothing typed is lost on a restart; ``update_draft`` changes its text, attachment or audience.
- ``preview`` counts the recipients the audience has right now.
- ``confirm_broadcast`` writes ONE outbox row per recipient (kind BROADCAST, idempotency key
  ``broadcast:{id}:{member_id}``), due at the chosen moment or now, and makes it SCHEDULED or
  SENDING. Confirming again (a double tap, a retry, a resumed confirmation) adds nobody twice.
- ``cancel_broadcast`` stops it: rows not yet sent become SKIPPED ("cancelled by organiser");
  rows already sent stay sent.
- ``advance_broadcasts`` (the progress job) moves SCHEDULED → SENDING when the moment comes and
  SENDING → DONE when no row is left to send; ``broadcast_report`` counts the outcome.

The text is stored as the bot gives it (Telegram's HTML, whose rules the bot checks:
``bot/telegram_html.py``); the domain's rule is its length: at most 4,096 characters that a
reader sees, 1,024 as the caption of a photo or document. Every organiser operation is
authorised here and written to the audit log in the same transaction.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.broadcasts.entities import Broadcast, BroadcastStatus
from models.errors import N_, DomainError, NotFound
from models.events.entities import Event, EventStatus
from models.members.entities import Member
from models.networks.entities import Network
from models.organisers.audit import record
from models.organisers.authorisation import require_organiser
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.outbox.operations import note_due
from models.registrations.entities import HOLDS_SEATS, Registration, RegistrationStatus
from models.themes.entities import Theme, member_themes

B = BroadcastStatus
AMSTERDAM = ZoneInfo("Europe/Amsterdam")

TEXT_LIMIT = 4096  # characters of text in a message, after the markup
CAPTION_LIMIT = 1024  # ... in the caption of a photo or document
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024  # stored in the database; Telegram takes photos to 10 MB
ATTACHMENT_KINDS = ("photo", "document")

# Who a broadcast is for (``Broadcast.audience["kind"]``).
EVERYONE = "everyone"
NETWORKS = "networks"
REGISTRANTS = "registrants"  # who holds a seat for an event
WAITLIST = "waitlist"  # who waits for a seat
ATTENDEES = "attendees"  # who was there (a past event)
INACTIVE = "inactive"  # registered for nothing in a calendar year
AUDIENCE_KINDS = (EVERYONE, NETWORKS, REGISTRANTS, WAITLIST, ATTENDEES, INACTIVE)
EVENT_AUDIENCES = (REGISTRANTS, WAITLIST, ATTENDEES)

# ``OutboxMessage.last_error`` values the report knows (written here and by the dispatcher).
CANCELLED_REASON = "cancelled by organiser"
BLOCKED_REASONS = ("blocked by the member", "member unreachable")


# --- refusals -----------------------------------------------------------------------------------


class BroadcastEmpty(DomainError):
    message = N_("Het bericht is nog leeg.")


class BroadcastTooLong(DomainError):
    message = N_("Het bericht is te lang: {length} tekens, en er passen er {limit} in.")


class CaptionTooLong(DomainError):
    message = N_(
        "Met een foto of document erbij mag de tekst hoogstens {limit} tekens zijn; "
        "deze heeft er {length}."
    )


class AttachmentInvalid(DomainError):
    message = N_("Stuur een foto of een document (bijvoorbeeld een pdf).")


class AttachmentTooLarge(DomainError):
    message = N_("Dat bestand is te groot: het mag hoogstens {megabytes} MB zijn.")


class AudienceMissing(DomainError):
    message = N_("Kies eerst voor wie het bericht is.")


class AudienceInvalid(DomainError):
    message = N_("Die groep ontvangers ken ik niet.")


class NoNetworksChosen(DomainError):
    message = N_("Kies minstens één buurtnetwerk.")


class EventNotPast(DomainError):
    message = N_("Deze bijeenkomst is nog niet geweest; kies een bijeenkomst die voorbij is.")


class NoRecipients(DomainError):
    message = N_("Er is niemand om dit bericht naar te sturen.")


class SendAtPast(DomainError):
    message = N_("Dat moment is al voorbij. Kies een moment in de toekomst.")


class BroadcastNotDraft(DomainError):
    message = N_("Dit bericht is al ingepland of verstuurd en kan niet meer veranderen.")


class BroadcastStopped(DomainError):
    message = N_("Dit bericht is gestopt.")


class BroadcastFinished(DomainError):
    message = N_("Dit bericht is al helemaal verstuurd.")


# --- the text ----------------------------------------------------------------------------------

# The text comes formatted as the bot chose to store it (Telegram's HTML, checked in
# ``bot/telegram_html.py``); here only its length is a rule: what a reader sees, without markup.
_MARKUP = re.compile(r"<[^>]*>")


def text_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji can count as two)."""
    return len(text.encode("utf-16-le")) // 2


def visible_length(text: str) -> int:
    """The length of what a reader sees of ``text``: without its tags, entities as one."""
    return text_length(html.unescape(_MARKUP.sub("", text)).strip())


# --- the audience -------------------------------------------------------------------------------


def year_bounds(year: int, tz: ZoneInfo = AMSTERDAM) -> tuple[datetime, datetime]:
    """The first and the next calendar year's first moment, local time, as aware datetimes."""
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


async def normalise_audience(
    session: AsyncSession, audience: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """A valid audience with only the keys its kind uses; raises when it cannot be used."""
    kind = audience.get("kind")
    if not kind:
        raise AudienceMissing()
    if kind not in AUDIENCE_KINDS:
        raise AudienceInvalid()
    if kind == EVERYONE:
        return {"kind": kind, **await _themes_of(session, audience)}
    if kind == NETWORKS:
        wanted = audience.get("network_ids") or []
        if not isinstance(wanted, list) or not all(isinstance(i, int) for i in wanted):
            raise AudienceInvalid()
        ids = sorted(set(wanted))
        if not ids:
            raise NoNetworksChosen()
        found = (await session.scalars(select(Network.id).where(Network.id.in_(ids)))).all()
        if len(found) != len(ids):
            raise NotFound()
        return {"kind": kind, "network_ids": ids, **await _themes_of(session, audience)}
    if kind == INACTIVE:
        year = audience.get("year")
        if year is None:
            year = now.astimezone(AMSTERDAM).year
        if not isinstance(year, int) or not 2000 <= year <= 2100:
            raise AudienceInvalid()
        return {"kind": kind, "year": year}
    event_id = audience.get("event_id")
    if not isinstance(event_id, int):
        raise AudienceInvalid()
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound()
    if kind == ATTENDEES and event.starts_at > now:
        raise EventNotPast()
    return {"kind": kind, "event_id": event_id}


async def _themes_of(session: AsyncSession, audience: dict[str, Any]) -> dict[str, Any]:
    """The audience's themes, if it has any: ``{"theme_ids": [...]}`` (members who chose one of
    them), else nothing. Only for everyone or networks (AND: in those networks)."""
    wanted = audience.get("theme_ids") or []
    if not isinstance(wanted, list) or not all(isinstance(i, int) for i in wanted):
        raise AudienceInvalid()
    ids = sorted(set(wanted))
    if not ids:
        return {}
    found = (await session.scalars(select(Theme.id).where(Theme.id.in_(ids)))).all()
    if len(found) != len(ids):
        raise NotFound()
    return {"theme_ids": ids}


async def audience_members(
    session: AsyncSession, audience: dict[str, Any], now: datetime
) -> list[int]:
    """The ids of the members an audience reaches now: only reachable members with Telegram.

    "inactive": no registration other than a cancelled one for any event that starts in the
    calendar year (Europe/Amsterdam) ``audience["year"]``, or this year.
    """
    audience = await normalise_audience(session, audience, now)
    kind = audience["kind"]
    query = select(Member.id).where(Member.reachable.is_(True), Member.telegram_id.is_not(None))
    if kind == NETWORKS:
        query = query.where(Member.network_id.in_(audience["network_ids"]))
    if audience.get("theme_ids"):
        query = query.where(
            Member.id.in_(
                select(member_themes.c.member_id).where(
                    member_themes.c.theme_id.in_(audience["theme_ids"])
                )
            )
        )
    if kind in EVENT_AUDIENCES:
        statuses = {
            REGISTRANTS: HOLDS_SEATS,
            WAITLIST: (RegistrationStatus.WAITLISTED,),
            ATTENDEES: (RegistrationStatus.ATTENDED,),
        }[kind]
        query = query.where(
            Member.id.in_(
                select(Registration.member_id).where(
                    Registration.event_id == audience["event_id"],
                    Registration.status.in_(statuses),
                    Registration.member_id.is_not(None),
                )
            )
        )
    elif kind == INACTIVE:
        start, end = year_bounds(audience["year"])
        active = (
            select(Registration.member_id)
            .join(Event, Event.id == Registration.event_id)
            .where(
                Registration.member_id.is_not(None),  # NOT IN with a NULL would match nobody
                Registration.status != RegistrationStatus.CANCELLED,
                Event.starts_at >= start,
                Event.starts_at < end,
            )
        )
        query = query.where(Member.id.not_in(active))
    return list((await session.scalars(query.order_by(Member.id))).all())


async def audience_events(
    session: AsyncSession, *, actor_id: int, kind: str, now: datetime, limit: int = 60
) -> list[Event]:
    """Events to choose from for an event audience: coming ones, or (attendees) past ones."""
    await require_organiser(session, actor_id)
    if kind not in EVENT_AUDIENCES:
        raise AudienceInvalid()
    query = select(Event).where(Event.status.in_([EventStatus.PUBLISHED, EventStatus.CANCELLED]))
    if kind == ATTENDEES:
        query = query.where(Event.starts_at <= now, Event.starts_at > now - timedelta(days=366))
        query = query.order_by(Event.starts_at.desc())
    else:
        query = query.where(Event.ends_at > now).order_by(Event.starts_at)
    return list((await session.scalars(query.limit(limit))).all())


# --- the operations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    kind: str  # "photo" | "document"
    name: str
    data: bytes


_FIELDS = ("html", "audience", "status", "send_at", "recipients", "attachment_name")


def _check_attachment(attachment: Attachment) -> None:
    if attachment.kind not in ATTACHMENT_KINDS or not attachment.data:
        raise AttachmentInvalid()
    if len(attachment.data) > ATTACHMENT_MAX_BYTES:
        raise AttachmentTooLarge(megabytes=ATTACHMENT_MAX_BYTES // (1024 * 1024))


def _check_content(text: str, has_attachment: bool) -> None:
    if not text.strip() and not has_attachment:
        raise BroadcastEmpty()
    length = visible_length(text)
    if has_attachment and length > CAPTION_LIMIT:
        raise CaptionTooLong(length=length, limit=CAPTION_LIMIT)
    if length > TEXT_LIMIT:
        raise BroadcastTooLong(length=length, limit=TEXT_LIMIT)


async def create_broadcast(
    session: AsyncSession,
    *,
    actor_id: int,
    html: str,
    now: datetime,
    audience: dict[str, Any] | None = None,
    attachment: Attachment | None = None,
) -> Broadcast:
    """A new DRAFT. The audience may come later (``update_draft``); it is checked when given."""
    await require_organiser(session, actor_id)
    text = html.strip()
    if attachment is not None:
        _check_attachment(attachment)
    _check_content(text, attachment is not None)
    chosen = await normalise_audience(session, audience, now) if audience else {}
    broadcast = Broadcast(
        created_by_id=actor_id,
        html=text,
        audience=chosen,
        status=B.DRAFT,
        created_at=now,
        updated_at=now,
    )
    _attach(broadcast, attachment)
    session.add(broadcast)
    await session.flush()
    await _audit(session, broadcast, "broadcast.create", actor_id, now)
    return broadcast


async def update_draft(
    session: AsyncSession,
    *,
    actor_id: int,
    broadcast_id: int,
    now: datetime,
    html: str | None = None,
    audience: dict[str, Any] | None = None,
    attachment: Attachment | None = None,
    remove_attachment: bool = False,
) -> Broadcast:
    """Change a draft's text, audience or attachment (what is not given stays).

    ``audience={}`` clears the choice (an organiser unticked the last network)."""
    await require_organiser(session, actor_id)
    broadcast = await _lock(session, broadcast_id)
    if broadcast.status is not B.DRAFT:
        raise BroadcastNotDraft()
    before = _snapshot(broadcast)
    text = broadcast.html if html is None else html.strip()
    if attachment is not None:
        _check_attachment(attachment)
    has_attachment = attachment is not None or (
        broadcast.attachment is not None and not remove_attachment
    )
    _check_content(text, has_attachment)
    if audience is not None:
        broadcast.audience = await normalise_audience(session, audience, now) if audience else {}
    broadcast.html = text
    if attachment is not None:
        _attach(broadcast, attachment)
    elif remove_attachment:
        _attach(broadcast, None)
    broadcast.updated_at = now
    await session.flush()
    await _audit(session, broadcast, "broadcast.update", actor_id, now, before=before)
    return broadcast


async def preview(session: AsyncSession, broadcast_id: int, now: datetime | None = None) -> int:
    """How many people the broadcast would reach now (or did reach, once confirmed)."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFound()
    if broadcast.status is not B.DRAFT:
        return broadcast.recipients
    return len(await audience_members(session, broadcast.audience, now or broadcast.updated_at))


async def confirm_broadcast(
    session: AsyncSession,
    *,
    actor_id: int,
    broadcast_id: int,
    now: datetime,
    send_at: datetime | None = None,
) -> Broadcast:
    """Send now (``send_at`` None) or at ``send_at``: one outbox row per recipient.

    Idempotent: a broadcast that is already scheduled, sending or done is returned unchanged, and
    a recipient who already has a row for it (key ``broadcast:{id}:{member_id}``) gets no second.
    """
    await require_organiser(session, actor_id)
    broadcast = await _lock(session, broadcast_id)
    if broadcast.status in (B.SCHEDULED, B.SENDING, B.DONE):
        return broadcast
    if broadcast.status is B.CANCELLED:
        raise BroadcastStopped()
    _check_content(broadcast.html, broadcast.attachment is not None)
    if send_at is not None and send_at <= now:
        raise SendAtPast()
    before = _snapshot(broadcast)
    broadcast.audience = await normalise_audience(session, broadcast.audience, now)
    members = await audience_members(session, broadcast.audience, now)
    if not members:
        raise NoRecipients()
    due = send_at or now
    already = set(
        (
            await session.scalars(
                select(OutboxMessage.member_id).where(OutboxMessage.broadcast_id == broadcast.id)
            )
        ).all()
    )
    rows = [
        {
            "kind": NotificationKind.BROADCAST,
            "member_id": member_id,
            "broadcast_id": broadcast.id,
            "payload": {},
            "due_at": due,
            "idempotency_key": f"broadcast:{broadcast.id}:{member_id}",
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "created_at": now,
        }
        for member_id in members
        if member_id not in already
    ]
    if rows:
        await session.execute(insert(OutboxMessage), rows)
        note_due(session, due)
    broadcast.status = B.SCHEDULED if send_at is not None else B.SENDING
    broadcast.send_at = due
    broadcast.recipients = len(members)
    broadcast.updated_at = now
    await session.flush()
    await _audit(session, broadcast, "broadcast.confirm", actor_id, now, before=before)
    return broadcast


async def cancel_broadcast(
    session: AsyncSession, *, actor_id: int, broadcast_id: int, now: datetime
) -> int:
    """Stop a draft, a scheduled or a sending broadcast; returns how many messages were stopped.

    Rows still waiting (PENDING, and SENDING ones a dispatcher claimed but has not sent yet)
    become SKIPPED "cancelled by organiser"; a message already on its way or sent stays so.
    Stopping a stopped broadcast changes nothing.
    """
    await require_organiser(session, actor_id)
    broadcast = await _lock(session, broadcast_id)
    if broadcast.status is B.CANCELLED:
        return 0
    if broadcast.status is B.DONE:
        raise BroadcastFinished()
    before = _snapshot(broadcast)
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.broadcast_id == broadcast.id,
            OutboxMessage.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
        )
        .values(status=DeliveryStatus.SKIPPED, last_error=CANCELLED_REASON)
    )
    stopped = int(result.rowcount or 0)  # type: ignore[attr-defined]
    broadcast.status = B.CANCELLED
    broadcast.updated_at = now
    await session.flush()
    await _audit(
        session, broadcast, "broadcast.cancel", actor_id, now, before=before, stopped=stopped
    )
    return stopped


async def discard_draft(
    session: AsyncSession, *, actor_id: int, broadcast_id: int, now: datetime
) -> bool:
    """Throw a draft away ("Stop" while composing). A broadcast that was confirmed meanwhile is
    left alone (a stale button must not stop a sending broadcast); returns whether it went."""
    await require_organiser(session, actor_id)
    broadcast = await _lock(session, broadcast_id)
    if broadcast.status is not B.DRAFT:
        return False
    before = _snapshot(broadcast)
    broadcast.status = B.CANCELLED
    broadcast.updated_at = now
    await session.flush()
    await _audit(session, broadcast, "broadcast.discard", actor_id, now, before=before)
    return True


async def set_progress_message(
    session: AsyncSession, *, actor_id: int, broadcast_id: int, chat_id: int, message_id: int
) -> None:
    """Remember where the organiser sees the live progress (survives a restart)."""
    await require_organiser(session, actor_id)
    broadcast = await _lock(session, broadcast_id)
    broadcast.progress_chat_id = chat_id
    broadcast.progress_message_id = message_id


async def get_broadcast(session: AsyncSession, *, actor_id: int, broadcast_id: int) -> Broadcast:
    await require_organiser(session, actor_id)
    broadcast = await session.get(Broadcast, broadcast_id, populate_existing=True)
    if broadcast is None:
        raise NotFound()
    return broadcast


async def drafts_of(session: AsyncSession, *, actor_id: int) -> list[Broadcast]:
    """The organiser's own drafts, newest first (refuses anyone who is not an organiser)."""
    await require_organiser(session, actor_id)
    return list(
        (
            await session.scalars(
                select(Broadcast)
                .where(Broadcast.created_by_id == actor_id, Broadcast.status == B.DRAFT)
                .order_by(Broadcast.updated_at.desc(), Broadcast.id.desc())
            )
        ).all()
    )


# --- progress and the report --------------------------------------------------------------------


@dataclass
class BroadcastReport:
    total: int = 0
    delivered: int = 0
    blocked: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    pending: int = 0
    failed_reasons: Counter[str] = field(default_factory=Counter)
    skipped_reasons: Counter[str] = field(default_factory=Counter)

    @property
    def processed(self) -> int:
        return self.total - self.pending

    @property
    def finished(self) -> bool:
        return self.pending == 0


async def broadcast_report(session: AsyncSession, broadcast_id: int) -> BroadcastReport:
    """Counts by outcome: delivered, blocked (the member blocked the bot, now or earlier),
    failed (with Telegram's reasons), cancelled, skipped (with reasons) and still pending."""
    rows = (
        await session.execute(
            select(OutboxMessage.status, OutboxMessage.last_error, func.count())
            .where(OutboxMessage.broadcast_id == broadcast_id)
            .group_by(OutboxMessage.status, OutboxMessage.last_error)
        )
    ).all()
    report = BroadcastReport()
    for status, error, count in rows:
        report.total += count
        reason = error or ""
        if status is DeliveryStatus.SENT:
            report.delivered += count
        elif status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            report.pending += count
        elif reason in BLOCKED_REASONS:
            report.blocked += count
        elif reason == CANCELLED_REASON:
            report.cancelled += count
        elif status is DeliveryStatus.FAILED:
            report.failed += count
            report.failed_reasons[reason or "?"] += count
        else:
            report.skipped += count
            report.skipped_reasons[reason or "?"] += count
    return report


async def advance_broadcasts(
    session: AsyncSession, *, now: datetime
) -> list[tuple[Broadcast, BroadcastStatus]]:
    """SCHEDULED → SENDING once due; SENDING → DONE once nothing is left to send.

    Returns each broadcast that is scheduled or sending (or just became done), with its status
    before this call.
    """
    broadcasts = (
        await session.scalars(
            select(Broadcast)
            .where(Broadcast.status.in_([B.SCHEDULED, B.SENDING]))
            .order_by(Broadcast.id)
            .with_for_update()
        )
    ).all()
    result: list[tuple[Broadcast, BroadcastStatus]] = []
    for broadcast in broadcasts:
        before = broadcast.status
        if broadcast.status is B.SCHEDULED and (
            broadcast.send_at is None or broadcast.send_at <= now
        ):
            broadcast.status = B.SENDING
            broadcast.updated_at = now
        if broadcast.status is B.SENDING:
            open_rows = await session.scalar(
                select(func.count()).where(
                    OutboxMessage.broadcast_id == broadcast.id,
                    OutboxMessage.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
                )
            )
            if not open_rows:
                broadcast.status = B.DONE
                broadcast.updated_at = now
        result.append((broadcast, before))
    await session.flush()
    return result


# --- helpers ------------------------------------------------------------------------------------


async def _lock(session: AsyncSession, broadcast_id: int) -> Broadcast:
    broadcast = await session.scalar(
        select(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if broadcast is None:
        raise NotFound()
    return broadcast


def _attach(broadcast: Broadcast, attachment: Attachment | None) -> None:
    broadcast.attachment = attachment.data if attachment else None
    broadcast.attachment_kind = attachment.kind if attachment else None
    broadcast.attachment_name = (attachment.name[:200] or None) if attachment else None


async def _audit(
    session: AsyncSession,
    broadcast: Broadcast,
    action: str,
    actor_id: int,
    now: datetime,
    *,
    before: dict[str, Any] | None = None,
    **extra: Any,
) -> None:
    """An organiser's step on a broadcast in the audit log: the broadcast after it (and before)."""
    await record(
        session,
        actor_id=actor_id,
        action=action,
        object_type="broadcast",
        object_id=broadcast.id,
        now=now,
        before=before,
        after={**_snapshot(broadcast), **extra},
    )


def _snapshot(broadcast: Broadcast) -> dict[str, Any]:
    snap: dict[str, Any] = {name: getattr(broadcast, name) for name in _FIELDS}
    snap["attachment_kind"] = broadcast.attachment_kind
    return snap
