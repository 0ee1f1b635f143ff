"""The programme: creating, publishing, changing and cancelling events.

Changing the moment or the place of a published event, or cancelling it, tells everyone who is
registered or waiting (an outbox row each, in the same transaction). Every change raises the
revision, which calendar apps see as the iCal SEQUENCE.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.alerts.operations import announce_event
from models.alerts.policy import CHANGE_AT_ONCE_BEFORE, CHANGE_WINDOW
from models.errors import N_, EventCancelled, InvalidEvent, NotFound
from models.events.entities import Event, EventKind, EventStatus
from models.events.limits import TEXT_FIELDS, check_length
from models.events.uids import new_event_uid
from models.networks.entities import Network
from models.organisers import audit
from models.organisers.authorisation import require_organiser
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.outbox.operations import enqueue, note_due
from models.registrations.changes import fill_free_seats
from models.registrations.entities import ACTIVE, Registration
from models.registrations.locks import lock_event
from models.registrations.policy import RegistrationPolicy
from models.registrations.seats import seats_held
from models.reminders.operations import sync_event_reminders
from models.reminders.policy import ReminderPolicy
from models.themes.operations import attach_event_themes

# Fields whose change people must hear about (and that make reminders move).
NOTICE_FIELDS = ("starts_at", "ends_at", "location", "online_url")


@dataclass
class EventDraft:
    """What an organiser fills in. Times are aware datetimes (entered in Europe/Amsterdam)."""

    kind: EventKind
    title: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    speakers: str = ""
    topic_tbd: bool = False
    location: str | None = None
    online_url: str | None = None
    capacity: int | None = None
    registration_deadline: datetime | None = None
    fair_share_per_network: int | None = None
    fair_share_until: datetime | None = None
    network_id: int | None = None
    series_id: int | None = None


class EventNotChangeable(EventCancelled):
    message = N_("Deze bijeenkomst is geannuleerd; er valt niets meer te wijzigen.")


# What the audit log keeps of an event when it is created.
AUDIT_FIELDS = (*(f.name for f in fields(EventDraft)), "status")


def new_public_code() -> str:
    """8 characters of base32 (40 random bits): short enough for a QR code, not guessable."""
    return base64.b32encode(secrets.token_bytes(5)).decode().lower()


async def create_event(
    session: AsyncSession,
    *,
    draft: EventDraft,
    actor_id: int | None,
    now: datetime,
    publish: bool = False,
    theme_ids: Sequence[int] = (),
    quiet_hours: ReminderPolicy | None = None,
) -> Event:
    """Create an event (as a draft, or published at once). ``actor_id=None``: seeding/import.

    Published at once, it alerts the members it fits (``models.alerts``), its themes counted."""
    if actor_id is not None:
        await require_organiser(session, actor_id)
    _validate(draft, now)
    if draft.network_id is not None and await session.get(Network, draft.network_id) is None:
        raise NotFound()
    public_code = new_public_code()
    event = Event(
        public_code=public_code,
        feed_uid=await new_event_uid(session, public_code),
        status=EventStatus.PUBLISHED if publish else EventStatus.DRAFT,
        revision=1,
        created_by_id=actor_id,
        created_at=now,
        updated_at=now,
        **{f.name: getattr(draft, f.name) for f in fields(draft)},
    )
    event.title = draft.title.strip()
    if publish:
        event.published_at = now
    session.add(event)
    await session.flush()
    await audit.record(
        session,
        actor_id=actor_id,
        action="event.create",
        object_type="event",
        object_id=event.id,
        now=now,
        after=audit.snapshot(event, AUDIT_FIELDS),
    )
    if theme_ids:
        await attach_event_themes(session, event_id=event.id, theme_ids=theme_ids)
    if publish:
        await announce_event(session, event, now=now, quiet_hours=quiet_hours, actor_id=actor_id)
    return event


async def publish_event(
    session: AsyncSession,
    *,
    event_id: int,
    actor_id: int | None,
    now: datetime,
    quiet_hours: ReminderPolicy | None = None,
) -> Event:
    """A draft becomes public, and the members it fits are alerted (``models.alerts``)."""
    if actor_id is not None:
        await require_organiser(session, actor_id)
    event = await lock_event(session, event_id)
    check_changeable(event)
    if event.status is EventStatus.DRAFT:
        event.status = EventStatus.PUBLISHED
        event.published_at = now
        _touch(event, now)
        await audit.record(
            session,
            actor_id=actor_id,
            action="event.publish",
            object_type="event",
            object_id=event.id,
            now=now,
            before={"status": EventStatus.DRAFT},
            after={"status": EventStatus.PUBLISHED},
        )
        await session.flush()
        await announce_event(session, event, now=now, quiet_hours=quiet_hours, actor_id=actor_id)
    await session.flush()
    return event


async def update_event(
    session: AsyncSession,
    *,
    event_id: int,
    actor_id: int | None,
    changes: dict[str, Any],
    now: datetime,
    policy: RegistrationPolicy,
) -> tuple[Event, list[OutboxMessage]]:
    """Change fields of an event; people who are in hear of a new moment or place."""
    if actor_id is not None:
        await require_organiser(session, actor_id)
    event = await lock_event(session, event_id)
    check_changeable(event)
    allowed = {f.name for f in fields(EventDraft)}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidEvent(reason=", ".join(sorted(unknown)))
    before = {name: getattr(event, name) for name in allowed}
    draft = EventDraft(**{**before, **changes})
    _validate(draft, now, existing=True)
    changed = {name: value for name, value in changes.items() if before[name] != value}
    if changed.get("capacity") is not None:
        held = await seats_held(session, event)
        if changed["capacity"] < held:
            raise InvalidEvent(
                N_("Er zijn al {held} plaatsen bezet; minder plaatsen kan niet."), held=held
            )
    if not changed:
        return event, []
    for name, value in changed.items():
        setattr(event, name, value)
    _touch(event, now)
    await audit.record(
        session,
        actor_id=actor_id,
        action="event.update",
        object_type="event",
        object_id=event.id,
        now=now,
        before={name: before[name] for name in changed},
        after=changed,
    )
    notifications: list[OutboxMessage] = []
    if event.is_published and any(name in NOTICE_FIELDS for name in changed):
        old = {name: _jsonable(before[name]) for name in NOTICE_FIELDS}
        new = {name: _jsonable(getattr(event, name)) for name in NOTICE_FIELDS}
        notifications = await _tell_of_change(session, event, now, old=old, new=new)
    if any(name in ("starts_at", "ends_at") for name in changed) or "status" in changed:
        await sync_event_reminders(session, event, policy.reminders, now)
    if "capacity" in changed or "fair_share_per_network" in changed:
        notifications += await fill_free_seats(
            session, event, now, policy, trigger=f"capacity-r{event.revision}"
        )
    await session.flush()
    return event, notifications


async def cancel_event(
    session: AsyncSession, *, event_id: int, actor_id: int | None, reason: str, now: datetime
) -> tuple[Event, list[OutboxMessage]]:
    """Cancel with a reason: everyone who is in is told, and no further reminders go out."""
    if actor_id is not None:
        await require_organiser(session, actor_id)
    check_reason(reason)
    event = await lock_event(session, event_id)
    if event.is_cancelled:
        return event, []
    was_published = event.is_published
    await audit.record(
        session,
        actor_id=actor_id,
        action="event.cancel",
        object_type="event",
        object_id=event.id,
        now=now,
        before={"status": event.status, "cancel_reason": event.cancel_reason},
        after={"status": EventStatus.CANCELLED, "cancel_reason": reason.strip()},
    )
    event.status = EventStatus.CANCELLED
    event.cancel_reason = reason.strip()
    _touch(event, now)
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.event_id == event.id,
            OutboxMessage.status == DeliveryStatus.PENDING,
            OutboxMessage.kind.in_(
                [
                    NotificationKind.REMINDER,
                    NotificationKind.SEAT_OFFERED,
                    NotificationKind.SEAT_AVAILABLE,
                    NotificationKind.FEEDBACK_REQUEST,
                    NotificationKind.EVENT_CHANGED,  # waiting to coalesce: the cancellation says it
                ]
            ),
        )
        .values(status=DeliveryStatus.SKIPPED, last_error="event cancelled")
    )
    notifications: list[OutboxMessage] = []
    if was_published:
        notifications = await _tell_everyone_in(
            session,
            event,
            NotificationKind.EVENT_CANCELLED,
            now,
            payload={"reason": event.cancel_reason, "revision": event.revision},
        )
    await session.flush()
    return event, notifications


async def get_event(session: AsyncSession, event_id: int) -> Event:
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound()
    return event


async def event_by_code(session: AsyncSession, public_code: str) -> Event:
    event = await session.scalar(select(Event).where(Event.public_code == public_code))
    if event is None:
        raise NotFound()
    return event


async def upcoming_events(
    session: AsyncSession, *, now: datetime, network_id: int | None = None, limit: int = 100
) -> list[Event]:
    """Published events that have not ended, soonest first: the collective programme plus the
    exchange sessions of ``network_id`` (when given)."""
    query = (
        select(Event)
        .where(Event.status == EventStatus.PUBLISHED, Event.ends_at > now)
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
    if network_id is None:
        query = query.where(Event.network_id.is_(None))
    else:
        query = query.where((Event.network_id.is_(None)) | (Event.network_id == network_id))
    return list((await session.scalars(query)).all())


def _validate(draft: EventDraft, now: datetime, *, existing: bool = False) -> None:
    title = draft.title.strip()
    if not title:
        raise InvalidEvent(N_("Een bijeenkomst heeft een titel nodig."))
    for name in TEXT_FIELDS:
        check_length(name, title if name == "title" else getattr(draft, name))
    for moment in (
        draft.starts_at,
        draft.ends_at,
        draft.registration_deadline,
        draft.fair_share_until,
    ):
        if moment is not None and moment.tzinfo is None:
            raise ValueError("event times must be aware datetimes")
    if draft.ends_at <= draft.starts_at:
        raise InvalidEvent(N_("Het einde ligt vóór het begin."))
    if not existing and draft.starts_at <= now:
        raise InvalidEvent(N_("Dat moment is al voorbij."))
    if draft.capacity is not None and draft.capacity < 1:
        raise InvalidEvent(N_("Het aantal plaatsen moet minstens 1 zijn."))
    if draft.registration_deadline is not None and draft.registration_deadline > draft.starts_at:
        raise InvalidEvent(N_("De aanmelddeadline ligt na het begin."))
    if draft.fair_share_per_network is not None:
        if draft.fair_share_per_network < 1:
            raise InvalidEvent(N_("Het aantal plaatsen per netwerk moet minstens 1 zijn."))
        if draft.capacity is not None and draft.fair_share_per_network > draft.capacity:
            raise InvalidEvent(N_("Er zijn meer plaatsen per netwerk dan plaatsen in totaal."))
    if draft.fair_share_until is not None and draft.fair_share_until > draft.starts_at:
        raise InvalidEvent(N_("De plaatsen per netwerk komen pas na het begin vrij."))
    if draft.online_url is not None and not draft.online_url.startswith(("https://", "http://")):
        raise InvalidEvent(N_("Een online link begint met https://"))


def check_changeable(event: Event) -> None:
    """A cancelled event stays as it was cancelled: no field changes, no publishing."""
    if event.is_cancelled:
        raise EventNotChangeable()


def check_reason(reason: str) -> None:
    """Why an event is cancelled (or a proposal rejected): everyone who is in reads it."""
    if not reason.strip():
        raise InvalidEvent(N_("Geef een reden op, dan kunnen we die doorgeven."))
    check_length("reason", reason.strip())


def _touch(event: Event, now: datetime) -> None:
    event.revision += 1
    event.updated_at = now


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def _tell_everyone_in(
    session: AsyncSession,
    event: Event,
    kind: NotificationKind,
    now: datetime,
    payload: dict[str, Any],
) -> list[OutboxMessage]:
    notifications = []
    for registration in await _everyone_in(session, event):
        message = await enqueue(
            session,
            kind=kind,
            member_id=registration.member_id,
            due_at=now,
            key=f"{kind.value}:{event.id}:r{event.revision}:{registration.id}",
            payload=payload,
            event_id=event.id,
            registration_id=registration.id,
        )
        if message is not None:
            notifications.append(message)
    return notifications


async def _tell_of_change(
    session: AsyncSession,
    event: Event,
    now: datetime,
    *,
    old: dict[str, Any],
    new: dict[str, Any],
) -> list[OutboxMessage]:
    """A notice of a new moment or place for everyone who is in. It waits ``CHANGE_WINDOW`` for
    further changes, which join it: one notice with the first "before" and the last "after"
    (none at all if it was changed back). Within ``CHANGE_AT_ONCE_BEFORE`` of the start it goes
    at once."""
    waiting = {
        row.registration_id: row
        for row in (
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.event_id == event.id,
                    OutboxMessage.kind == NotificationKind.EVENT_CHANGED,
                    OutboxMessage.status == DeliveryStatus.PENDING,
                )
            )
        ).all()
    }
    at_once = event.starts_at - now <= CHANGE_AT_ONCE_BEFORE
    notifications = []
    for registration in await _everyone_in(session, event):
        row = waiting.get(registration.id)
        if row is None:
            message = await enqueue(
                session,
                kind=NotificationKind.EVENT_CHANGED,
                member_id=registration.member_id,
                due_at=now if at_once else now + CHANGE_WINDOW,
                key=f"event_changed:{event.id}:r{event.revision}:{registration.id}",
                payload={"old": old, "new": new, "revision": event.revision},
                event_id=event.id,
                registration_id=registration.id,
            )
            if message is not None:
                notifications.append(message)
            continue
        first = row.payload.get("old", old)
        row.payload = {"old": first, "new": new, "revision": event.revision}
        if first == new:
            row.status, row.last_error = DeliveryStatus.SKIPPED, "changed back"
            continue
        if at_once and row.due_at > now:
            row.due_at = now
            note_due(session, now)
        notifications.append(row)
    return notifications


async def _everyone_in(session: AsyncSession, event: Event) -> Sequence[Registration]:
    return (
        await session.scalars(
            select(Registration).where(
                Registration.event_id == event.id,
                Registration.status.in_(ACTIVE),
                Registration.member_id.is_not(None),
            )
        )
    ).all()
