"""Keeping a registration's reminders (and its feedback question) in step with reality.

``sync_reminders`` is called whenever a registration's status changes, when an event moves or
changes place, and when a member changes their preference. It works out which reminders should
be pending and makes the outbox agree: missing ones are added, ones no longer wanted are marked
skipped. The idempotency key names the registration's place in the queue, the event's revision
and the due time, so a moved event gets fresh reminders and a repeated sync adds nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import NotFound
from models.events.entities import Event, EventStatus
from models.members.entities import Member
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.outbox.operations import NewMessage, enqueue_new, note_due
from models.registrations.entities import Registration, RegistrationStatus
from models.reminders.policy import FEEDBACK_DELAY, ReminderPolicy, ReminderPreference

_FOLLOWS_REGISTRATION = (NotificationKind.REMINDER, NotificationKind.FEEDBACK_REQUEST)
# Statuses of someone coming to the event: only they have reminders (and a feedback question).
COMING = (RegistrationStatus.CONFIRMED, RegistrationStatus.ATTENDED)
_NOT_WANTED = "no longer wanted"
# Every follow-up row that matters: the pending ones (to skip those no longer wanted) and any
# with a wanted key, whatever its status (a sent or skipped row's key must not be inserted
# again). Older skipped rows (an earlier place in the queue) stay unread. Built once: it runs on
# every change of a registration.
_PREFERENCE = select(Member.reminder_preference).where(Member.id == bindparam("member_id"))
# Core, on the table: the ORM's bulk UPDATE makes a new statement at every call and matches
# it against every outbox row in the session; ``_FOLLOW_UPS`` refreshes what it reads instead.
_OUTBOX = cast(Table, OutboxMessage.__table__)
_SKIP_PENDING_FOLLOW_UPS = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.registration_id == bindparam("of_registration"),
        _OUTBOX.c.kind.in_(_FOLLOWS_REGISTRATION),
        _OUTBOX.c.status == DeliveryStatus.PENDING,
    )
    .values(status=DeliveryStatus.SKIPPED, last_error=_NOT_WANTED)
)
_FOLLOW_UPS = (
    select(OutboxMessage)
    .where(
        OutboxMessage.registration_id == bindparam("registration_id"),
        OutboxMessage.kind.in_(_FOLLOWS_REGISTRATION),
        or_(
            OutboxMessage.status == DeliveryStatus.PENDING,
            OutboxMessage.idempotency_key.in_(bindparam("wanted", expanding=True)),
        ),
    )
    .execution_options(populate_existing=True)
)


async def sync_reminders(
    session: AsyncSession,
    registration: Registration,
    event: Event,
    policy: ReminderPolicy,
    now: datetime,
    *,
    fresh: bool = False,
    preference: ReminderPreference | None = None,
) -> None:
    """``fresh``: the registration was inserted in this transaction, so it has no follow-ups
    yet and there is nothing to look up. ``preference``: the member's choice, when the caller
    has just read it (else it is read here, for someone coming)."""
    if registration in session.new:
        await session.flush()  # the idempotency keys need the registration's id
    wanted: dict[str, tuple[NotificationKind, datetime]] = {}
    confirmed = registration.status is RegistrationStatus.CONFIRMED
    coming = registration.status in COMING
    # The member (their preference) only matters for someone coming: no query on a cancel.
    chosen = (
        preference or await session.scalar(_PREFERENCE, {"member_id": registration.member_id})
        if coming and registration.member_id is not None
        else None
    )
    if coming and chosen is not None and event.status is EventStatus.PUBLISHED:
        preference = chosen if confirmed else ReminderPreference.NONE
        for label, due in policy.due_times(event.starts_at, preference, now).items():
            key = f"reminder:{registration.id}:q{registration.queue_seq}:r{event.revision}:{label}"
            wanted[f"{key}:{due.isoformat()}"] = (NotificationKind.REMINDER, due)
        feedback_due = event.ends_at + FEEDBACK_DELAY
        wanted[
            f"feedback:{registration.id}:q{registration.queue_seq}:{feedback_due.isoformat()}"
        ] = (
            NotificationKind.FEEDBACK_REQUEST,
            feedback_due,
        )
    if not wanted:
        # Nothing is wanted (a cancel, say): every pending follow-up is skipped, in one UPDATE.
        await session.execute(_SKIP_PENDING_FOLLOW_UPS, {"of_registration": registration.id})
        return
    existing = (
        []
        if fresh
        else (
            await session.scalars(
                _FOLLOW_UPS, {"registration_id": registration.id, "wanted": list(wanted)}
            )
        ).all()
    )
    present = set()
    for message in existing:
        present.add(message.idempotency_key)
        if message.idempotency_key in wanted:
            if message.status is DeliveryStatus.SKIPPED and message.due_at > now:
                message.status = DeliveryStatus.PENDING  # wanted again (re-registered, say)
                message.last_error = None
                note_due(session, message.due_at)
        elif message.status is DeliveryStatus.PENDING:
            message.status = DeliveryStatus.SKIPPED
            message.last_error = _NOT_WANTED
    await enqueue_new(
        session,
        [
            NewMessage(
                kind=kind,
                member_id=registration.member_id,
                due_at=due,
                key=key,
                event_id=event.id,
                registration_id=registration.id,
                payload={"revision": event.revision},
            )
            for key, (kind, due) in wanted.items()
            if key not in present
        ],
    )


async def sync_member_reminders(
    session: AsyncSession, member_id: int, policy: ReminderPolicy, now: datetime
) -> None:
    """After a member changed their preference: every coming confirmed registration."""
    registrations = (
        await session.scalars(
            select(Registration)
            .join(Event, Event.id == Registration.event_id)
            .where(
                Registration.member_id == member_id,
                Registration.status == RegistrationStatus.CONFIRMED,
                Event.starts_at > now,
            )
        )
    ).all()
    for registration in registrations:
        await sync_reminders(session, registration, registration.event, policy, now)


async def sync_event_reminders(
    session: AsyncSession, event: Event, policy: ReminderPolicy, now: datetime
) -> None:
    """After an event moved or changed: every registration of it."""
    registrations = (
        await session.scalars(select(Registration).where(Registration.event_id == event.id))
    ).all()
    for registration in registrations:
        await sync_reminders(session, registration, event, policy, now)


async def set_reminder_preference(
    session: AsyncSession,
    *,
    member_id: int,
    preference: ReminderPreference,
    policy: ReminderPolicy,
    now: datetime,
) -> Member:
    """A member's choice of reminders; the pending reminders of their coming events follow."""
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFound()
    member.reminder_preference = preference
    await sync_member_reminders(session, member.id, policy, now)
    return member


async def set_digest(session: AsyncSession, *, member_id: int, on: bool) -> Member:
    """The weekly digest on or off (it is opt-in)."""
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFound()
    member.digest = on
    return member
