"""Where a registration is decided.

Every operation here runs inside the caller's write transaction (``Database.transaction()``),
locks the event first, checks the rules, changes the registration, writes a history row and
returns an ``Outcome`` with the notifications it implies, already added to the outbox in the same
transaction. A refusal raises a ``DomainError`` before anything changes.

The rules, in short:
- capacity (counting party sizes) is never exceeded; a full event puts people on the waitlist;
- the waitlist is first come, first served (``queue_seq``); a freed seat goes to the first
  waitlisted party that fits, held for them until a deadline (``RegistrationPolicy``);
- close to the event (``last_call``) a freed seat is not held: every waitlisted member who fits
  hears of it, and the first to claim it gets it;
- fair share: until ``fair_share_until`` a network holds at most ``fair_share_per_network`` seats;
- registering twice changes nothing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import (
    Executable,
    Row,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    inspect,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from models.db import DEFERRED
from models.errors import (
    EventCancelled,
    EventStarted,
    NoOpenOffer,
    NotAllowed,
    NotEnoughSeats,
    NotFound,
    NotRegistered,
    SeatTaken,
)
from models.events.entities import WITHOUT_SERIES_OR_NETWORK, Event, EventStatus
from models.members.entities import ORGANISER_ROLES, Affiliation, Member
from models.organisers import audit
from models.outbox.entities import NotificationKind, OutboxMessage
from models.outbox.operations import enqueue
from models.registrations.allowed import (
    cancel_refusal,
    offer_expired,
    party_size_refusal,
    registration_refusal,
)
from models.registrations.entities import (
    ACTIVE,
    HOLDS_SEATS,
    Registration,
    RegistrationChange,
    RegistrationStatus,
    seats_held_sum,
)
from models.registrations.policy import RegistrationPolicy
from models.reminders.operations import COMING, sync_reminders
from models.reminders.policy import ReminderPreference

S = RegistrationStatus
# Attendance can be taken from a little before the start.
CHECK_IN_OPENS = timedelta(hours=1)


@dataclass
class Outcome:
    """What an operation did: the registration, whether it changed, and what must be told."""

    registration: Registration
    changed: bool = True
    notifications: list[OutboxMessage] = field(default_factory=list)
    waitlist_position: int | None = None


# --- the operations a member can do -----------------------------------------------------------


async def register(
    session: AsyncSession,
    *,
    event_id: int,
    member_id: int,
    now: datetime,
    policy: RegistrationPolicy,
    party_size: int = 1,
    if_full: Literal["waitlist", "refuse"] = "waitlist",
) -> Outcome:
    """Confirm a seat, or (when full, or the network's fair share is used) join the waitlist."""
    event, member, existing, usage = await _lock_for_registrant(session, event_id, member_id)
    if not event.visible_to(member.network_id, organiser=member.is_organiser):
        raise NotFound()  # as if it did not exist: a forged or stale button reveals nothing
    _check_open_for_registration(event, now)
    _check_party_size(party_size, policy)
    if existing is not None and existing.status is not S.CANCELLED:
        # Registering twice changes nothing (a double tap, an old button, a retry).
        return Outcome(
            existing, changed=False, waitlist_position=await _position(session, existing)
        )
    released: list[OutboxMessage] = []
    if _release_pending(event, usage, now, policy):
        # Seats held back for fair share go to the waitlist at the release moment; the sweep
        # hands them out within a minute, but a newcomer must not overtake those waiting.
        released = await fill_free_seats(
            session, event, now, policy, trigger=f"release-{_stamp(event.fair_share_until)}"
        )
        usage = await _seat_usage(session, event)

    fits = event.capacity is None or usage.held + party_size <= event.capacity
    group = _group_of(member)
    within_share = await _within_fair_share(session, event, group, party_size, now)
    status = S.CONFIRMED if fits and within_share else S.WAITLISTED
    if status is S.WAITLISTED and if_full == "refuse":
        raise NotEnoughSeats(party_size=party_size)

    registration = existing or Registration(event_id=event.id, member_id=member.id)
    if existing is None:
        session.add(registration)
    registration.network_id = member.network_id
    registration.affiliation = member.affiliation
    registration.party_size = party_size
    registration.queue_seq = usage.last_seq + 1
    registration.offer_expires_at = None
    reason = "registered" if status is S.CONFIRMED else "waitlisted"
    if status is S.WAITLISTED and fits:
        reason = "waitlisted_fair_share"
    await _transition(
        session,
        event,
        registration,
        status,
        now,
        actor_id=member.id,
        reason=reason,
        policy=policy,
        preference=member.reminder_preference,
    )
    await session.flush()
    # At the back of the queue (queue_seq is the highest): everyone waiting is ahead.
    position = usage.waiting + 1 if status is S.WAITLISTED else None
    return Outcome(registration, notifications=released, waitlist_position=position)


async def join_waitlist(
    session: AsyncSession,
    *,
    event_id: int,
    member_id: int,
    now: datetime,
    policy: RegistrationPolicy,
    party_size: int = 1,
) -> Outcome:
    """Join the waitlist of a full event (or simply register, if a seat is free after all)."""
    return await register(
        session,
        event_id=event_id,
        member_id=member_id,
        now=now,
        policy=policy,
        party_size=party_size,
        if_full="waitlist",
    )


async def cancel(
    session: AsyncSession,
    *,
    event_id: int,
    member_id: int,
    now: datetime,
    policy: RegistrationPolicy,
    reason: str = "cancelled",
) -> Outcome:
    """Cancel one's own registration or waitlist place; a freed seat moves the waitlist up."""
    event, registration = await _lock_with_registration(session, event_id, member_id)
    refusal = cancel_refusal(event, registration, now)
    if refusal is not None:
        raise refusal
    assert registration is not None
    freed = registration.holds_seats
    registration.offer_expires_at = None
    await _transition(
        session,
        event,
        registration,
        S.CANCELLED,
        now,
        actor_id=member_id,
        reason=reason,
        policy=policy,
    )
    notifications = []
    if freed:
        notifications = await fill_free_seats(
            session, event, now, policy, trigger=f"cancel-{registration.id}-{_stamp(now)}"
        )
    await session.flush()
    return Outcome(registration, notifications=notifications)


async def claim_seat(
    session: AsyncSession,
    *,
    event_id: int,
    member_id: int,
    now: datetime,
    policy: RegistrationPolicy,
) -> Outcome:
    """Take the seat offered to you, or (in the last call) a free seat before anyone else does."""
    event = await lock_event(session, event_id)
    if event.is_cancelled:
        raise EventCancelled()
    if now >= event.starts_at:
        raise EventStarted()
    registration = await registration_of(session, event, member_id)
    if registration is None:
        raise NoOpenOffer()
    if registration.status is S.CONFIRMED:
        return Outcome(registration, changed=False)
    if registration.status is S.OFFERED:
        expired = offer_expired(registration, now)
        if expired is not None:
            raise expired
    elif registration.status is S.WAITLISTED and policy.is_last_call(now, event.starts_at):
        usage = await _seat_usage(session, event)
        group = registration.fair_share_group
        fits = event.capacity is None or usage.held + registration.party_size <= event.capacity
        if not fits or not await _within_fair_share(
            session, event, group, registration.party_size, now
        ):
            raise SeatTaken()
    else:
        raise NoOpenOffer()
    registration.offer_expires_at = None
    await _transition(
        session,
        event,
        registration,
        S.CONFIRMED,
        now,
        actor_id=member_id,
        reason="claimed",
        policy=policy,
    )
    await session.flush()
    return Outcome(registration)


async def decline_offer(
    session: AsyncSession,
    *,
    event_id: int,
    member_id: int,
    now: datetime,
    policy: RegistrationPolicy,
) -> Outcome:
    """ "Laat maar": give the offered seat back; it goes to the next on the waitlist."""
    event = await lock_event(session, event_id)
    registration = await registration_of(session, event, member_id)
    if registration is None or registration.status is not S.OFFERED:
        raise NoOpenOffer()
    registration.offer_expires_at = None
    await _transition(
        session,
        event,
        registration,
        S.CANCELLED,
        now,
        actor_id=member_id,
        reason="declined",
        policy=policy,
    )
    notifications = await fill_free_seats(
        session, event, now, policy, trigger=f"declined-{registration.id}-{_stamp(now)}"
    )
    await session.flush()
    return Outcome(registration, notifications=notifications)


async def change_party_size(
    session: AsyncSession,
    *,
    event_id: int,
    member_id: int,
    party_size: int,
    now: datetime,
    policy: RegistrationPolicy,
) -> Outcome:
    """Bring someone along (or no longer): more seats only if they are free."""
    event = await lock_event(session, event_id)
    _check_open_for_registration(event, now)
    _check_party_size(party_size, policy)
    registration = await registration_of(session, event, member_id)
    if registration is None or not registration.is_active:
        raise NotRegistered()
    extra = party_size - registration.party_size
    if extra == 0:
        return Outcome(registration, changed=False)
    if extra > 0 and registration.holds_seats:
        usage = await _seat_usage(session, event)
        fits = event.capacity is None or usage.held + extra <= event.capacity
        if not fits or not await _within_fair_share(
            session, event, registration.fair_share_group, extra, now
        ):
            raise NotEnoughSeats(party_size=party_size)
    registration.party_size = party_size
    await _transition(
        session,
        event,
        registration,
        registration.status,
        now,
        actor_id=member_id,
        reason="party_size",
        policy=policy,
    )
    notifications: list[OutboxMessage] = []
    if extra < 0:
        # Seats freed, or a waitlisted party that now fits in seats that were too few for it.
        notifications = await fill_free_seats(
            session, event, now, policy, trigger=f"party-{registration.id}-{_stamp(now)}"
        )
    await session.flush()
    return Outcome(registration, notifications=notifications)


# --- what the service does on its own ---------------------------------------------------------


async def fill_free_seats(
    session: AsyncSession, event: Event, now: datetime, policy: RegistrationPolicy, *, trigger: str
) -> list[OutboxMessage]:
    """Offer free seats to the waitlist, in order; in the last call, tell everyone who fits.

    The caller holds the event's lock. A party too large for the free seats keeps its place and
    the seat goes to the next party that fits, so seats are never left empty while someone who
    fits is waiting.
    """
    if not event.is_published or now >= event.starts_at:
        return []
    usage = await _seat_usage(session, event)
    # Without a capacity only fair share keeps people waiting: every seat is free.
    free = math.inf if event.capacity is None else event.capacity - usage.held
    if free <= 0 or usage.waiting == 0:
        return []
    share_active = _fair_share_active(event, now)
    used_by_group = await _usage_by_group(session, event) if share_active else defaultdict(int)
    last_call = policy.is_last_call(now, event.starts_at)
    deadline = policy.offer_deadline(now, event.starts_at)
    notifications: list[OutboxMessage] = []
    async with aclosing(_waiting_in_order(session, event, seats=free)) as waiting:
        async for registration in waiting:
            group = registration.fair_share_group
            if registration.party_size > free:
                continue
            if share_active and (
                used_by_group[group] + registration.party_size > (event.fair_share_per_network or 0)
            ):
                continue
            if last_call:
                kind, key = (
                    NotificationKind.SEAT_AVAILABLE,
                    f"seat-available:{registration.id}:{trigger}",
                )
            else:
                registration.offer_expires_at = deadline
                await _transition(
                    session,
                    event,
                    registration,
                    S.OFFERED,
                    now,
                    actor_id=None,
                    reason="offered",
                    policy=policy,
                )
                free -= registration.party_size
                used_by_group[group] += registration.party_size
                kind, key = (
                    NotificationKind.SEAT_OFFERED,
                    # A new waitlist stint (queue_seq) is a new offer, even at the same moment.
                    f"seat-offered:{registration.id}:q{registration.queue_seq}:{_stamp(deadline)}",
                )
            message = await enqueue(
                session,
                kind=kind,
                member_id=registration.member_id,
                due_at=now,
                key=key,
                event_id=event.id,
                registration_id=registration.id,
                payload={"offer_expires_at": None if last_call else deadline.isoformat()},
            )
            if message is not None:
                notifications.append(message)
            if free <= 0:
                break
    return notifications


async def expire_offers(
    session: AsyncSession, *, now: datetime, policy: RegistrationPolicy
) -> list[OutboxMessage]:
    """Offers past their deadline lapse; each lapsed seat is offered to the next in line."""
    event_ids = (
        await session.scalars(
            select(Registration.event_id)
            .where(Registration.status == S.OFFERED, Registration.offer_expires_at < now)
            .distinct()
        )
    ).all()
    notifications: list[OutboxMessage] = []
    for event_id in sorted(event_ids):
        event = await lock_event(session, event_id)
        lapsed = (
            await session.scalars(
                select(Registration)
                .where(
                    Registration.event_id == event.id,
                    Registration.status == S.OFFERED,
                    Registration.offer_expires_at < now,
                )
                .order_by(Registration.queue_seq)
            )
        ).all()
        for registration in lapsed:
            await _transition(
                session,
                event,
                registration,
                S.CANCELLED,
                now,
                actor_id=None,
                reason="offer_expired",
                policy=policy,
            )
            message = await enqueue(
                session,
                kind=NotificationKind.OFFER_EXPIRED,
                member_id=registration.member_id,
                due_at=now,
                key=(
                    f"offer-expired:{registration.id}:q{registration.queue_seq}:"
                    f"{_stamp(registration.offer_expires_at)}"
                ),
                event_id=event.id,
                registration_id=registration.id,
            )
            registration.offer_expires_at = None
            if message is not None:
                notifications.append(message)
        notifications += await fill_free_seats(
            session, event, now, policy, trigger=f"expired-{_stamp(now)}"
        )
    await session.flush()
    return notifications


async def release_fair_share(
    session: AsyncSession, *, now: datetime, policy: RegistrationPolicy
) -> list[OutboxMessage]:
    """After the release moment, seats held back for fair share go to the waitlist in order."""
    event_ids = (
        await session.scalars(
            select(Event.id).where(
                Event.status == EventStatus.PUBLISHED,
                Event.fair_share_until <= now,
                Event.starts_at > now,
                Event.id.in_(
                    select(Registration.event_id).where(Registration.status == S.WAITLISTED)
                ),
            )
        )
    ).all()
    notifications: list[OutboxMessage] = []
    for event_id in sorted(event_ids):
        event = await lock_event(session, event_id)
        notifications += await fill_free_seats(
            session, event, now, policy, trigger=f"release-{_stamp(event.fair_share_until)}"
        )
    await session.flush()
    return notifications


# --- organiser overrides ------------------------------------------------------------------------


async def override_confirm(
    session: AsyncSession,
    *,
    registration_id: int,
    actor_id: int,
    now: datetime,
    policy: RegistrationPolicy,
    note: str = "",
) -> Outcome:
    """An organiser gives someone a seat out of turn (capacity still holds)."""
    await require_organiser(session, actor_id)
    registration = await _registration_by_id(session, registration_id)
    event = await lock_event(session, registration.event_id)
    if event.is_cancelled:
        raise EventCancelled()
    if registration.status in (S.CONFIRMED, S.ATTENDED):
        return Outcome(registration, changed=False)
    # Seats already held (an offer, a no-show) are counted in the usage already.
    extra = 0 if registration.holds_seats else registration.party_size
    usage = await _seat_usage(session, event)
    if event.capacity is not None and usage.held + extra > event.capacity:
        raise NotEnoughSeats(party_size=registration.party_size)
    await _audit(session, registration, S.CONFIRMED, "registration.confirm", actor_id, now, note)
    registration.offer_expires_at = None
    await _transition(
        session,
        event,
        registration,
        S.CONFIRMED,
        now,
        actor_id=actor_id,
        reason="organiser_confirm",
        policy=policy,
        note=note or None,
    )
    message = await enqueue(
        session,
        kind=NotificationKind.PROMOTED,
        member_id=registration.member_id,
        due_at=now,
        key=f"promoted:{registration.id}:{_stamp(now)}",
        event_id=event.id,
        registration_id=registration.id,
    )
    await session.flush()
    return Outcome(registration, notifications=[message] if message else [])


async def override_cancel(
    session: AsyncSession,
    *,
    registration_id: int,
    actor_id: int,
    now: datetime,
    policy: RegistrationPolicy,
    note: str = "",
) -> Outcome:
    """An organiser cancels someone's registration; the member is told, the waitlist moves up."""
    await require_organiser(session, actor_id)
    registration = await _registration_by_id(session, registration_id)
    event = await lock_event(session, registration.event_id)
    if not registration.is_active:
        return Outcome(registration, changed=False)
    freed = registration.holds_seats
    await _audit(session, registration, S.CANCELLED, "registration.cancel", actor_id, now, note)
    registration.offer_expires_at = None
    await _transition(
        session,
        event,
        registration,
        S.CANCELLED,
        now,
        actor_id=actor_id,
        reason="organiser_cancel",
        policy=policy,
        note=note or None,
    )
    notifications: list[OutboxMessage] = []
    message = await enqueue(
        session,
        kind=NotificationKind.REMOVED,
        member_id=registration.member_id,
        due_at=now,
        key=f"removed:{registration.id}:{_stamp(now)}",
        event_id=event.id,
        registration_id=registration.id,
        payload={"note": note},
    )
    if message is not None:
        notifications.append(message)
    if freed:
        notifications += await fill_free_seats(
            session, event, now, policy, trigger=f"removed-{registration.id}-{_stamp(now)}"
        )
    await session.flush()
    return Outcome(registration, notifications=notifications)


async def record_attendance(
    session: AsyncSession,
    *,
    registration_id: int,
    actor_id: int,
    attended: bool,
    now: datetime,
    policy: RegistrationPolicy,
) -> Outcome:
    """Check someone in (or record a no-show), from an hour before the start."""
    await require_organiser(session, actor_id)
    registration = await _registration_by_id(session, registration_id)
    event = await lock_event(session, registration.event_id)
    if now < event.starts_at - CHECK_IN_OPENS:
        raise NotAllowed()
    if registration.status not in (S.CONFIRMED, S.ATTENDED, S.NO_SHOW):
        raise NotRegistered()
    status = S.ATTENDED if attended else S.NO_SHOW
    if registration.status is status:
        return Outcome(registration, changed=False)
    await _audit(session, registration, status, "registration.attendance", actor_id, now)
    await _transition(
        session,
        event,
        registration,
        status,
        now,
        actor_id=actor_id,
        reason="attendance",
        policy=policy,
    )
    await session.flush()
    return Outcome(registration)


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeatUsage:
    held: int
    last_seq: int
    waiting: int = 0  # registrations on the waitlist


async def seats_held(session: AsyncSession, event: Event) -> int:
    """Seats taken (confirmed, offered, attended, no-show), counting party sizes."""
    return (await _seat_usage(session, event)).held


async def seats_left(session: AsyncSession, event: Event) -> int | None:
    """Free seats, or None for an event without a limit."""
    if event.capacity is None:
        return None
    usage = await _seat_usage(session, event)
    return max(0, event.capacity - usage.held)


async def waitlist_length(session: AsyncSession, event_id: int) -> int:
    count = await session.scalar(
        select(func.count()).where(
            Registration.event_id == event_id, Registration.status == S.WAITLISTED
        )
    )
    return int(count or 0)


async def waitlist_position(session: AsyncSession, registration: Registration) -> int | None:
    return await _position(session, registration)


async def lock_event(
    session: AsyncSession, event_id: int | None = None, *, public_code: str | None = None
) -> Event:
    """Load the event for a decision (by id or by its public code), locking its row
    (PostgreSQL) until the transaction ends.

    On SQLite the write transaction already holds the database's write lock (BEGIN IMMEDIATE).
    An event locked earlier in the same transaction is not read again: the lock still holds,
    and the session's copy is the current state.
    """
    locked = _locked_events(session)
    if event_id is not None and event_id in locked:
        return locked[event_id]
    if event_id is not None:
        event = await session.scalar(_LOCK_EVENT, {"event_id": event_id})
    else:
        event = await session.scalar(_LOCK_EVENT_BY_CODE, {"public_code": public_code})
    if event is None:
        raise NotFound()
    locked[event.id] = event
    return event


async def _lock_for_registrant(
    session: AsyncSession, event_id: int, member_id: int
) -> tuple[Event, _Registrant, Registration | None, SeatUsage]:
    """The event locked, then what ``register`` decides on (see ``_registrant``)."""
    event, row = await _lock_reading(session, event_id, member_id, _EVENT_WITH_REGISTRANT)
    if row is None:
        return (event, *await _registrant(session, event, member_id))
    return (event, *_registrant_of(row, event))


async def _lock_with_registration(
    session: AsyncSession, event_id: int, member_id: int
) -> tuple[Event, Registration | None]:
    """The event locked, then the member's registration for it (if they ever had one)."""
    event, row = await _lock_reading(session, event_id, member_id, _EVENT_WITH_REGISTRATION)
    if row is None:
        return event, await registration_of(session, event, member_id)
    if row.Registration is not None:
        _attach(row.Registration, event)
    return event, row.Registration


async def _lock_reading(
    session: AsyncSession, event_id: int, member_id: int, with_event: Executable
) -> tuple[Event, Row[Any] | None]:
    """The event locked and, where one query may read both (``_holds_whole_database``), the row
    of ``with_event`` (the event with the member's state). None for the row: the caller reads
    the member's state itself, after the lock."""
    if not _holds_whole_database(session) or event_id in _locked_events(session):
        return await lock_event(session, event_id), None
    row = (
        await session.execute(with_event, {"event_id": event_id, "member_id": member_id})
    ).one_or_none()
    if row is None:
        raise NotFound()
    _locked_events(session)[event_id] = row.Event
    return row.Event, row


def _holds_whole_database(session: AsyncSession) -> bool:
    """SQLite: a write transaction holds the whole database from its start (BEGIN IMMEDIATE),
    so the event and what an operation decides on can be read in one query. On PostgreSQL the
    event's row lock comes first and the rest is read after it (a join in the locking query
    would read the other tables as they were before the lock was granted)."""
    return session.get_bind().dialect.name == "sqlite"


def _locked_events(session: AsyncSession) -> dict[int, Event]:
    """The events locked in the session's current transaction (a new transaction starts empty)."""
    transaction = session.sync_session.get_transaction()
    memo = session.info.get(_LOCKED)
    if memo is None or memo[0] is not transaction:
        memo = session.info[_LOCKED] = (transaction, {})
    locked: dict[int, Event] = memo[1]
    return locked


async def require_organiser(session: AsyncSession, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None or not member.is_organiser:
        raise NotAllowed()
    return member


# --- statements ---------------------------------------------------------------------------------
# The statements of the hot path are built once: building a select (coercing every clause) and
# computing its cache key cost more than SQLite takes to run it.

_LOCK_EVENT = (
    select(Event)
    .where(Event.id == bindparam("event_id"))
    .with_for_update(of=Event)
    .options(*WITHOUT_SERIES_OR_NETWORK)
    .execution_options(populate_existing=True)
)
_LOCK_EVENT_BY_CODE = (
    select(Event)
    .where(Event.public_code == bindparam("public_code"))
    .with_for_update(of=Event)
    .options(*WITHOUT_SERIES_OR_NETWORK)
    .execution_options(populate_existing=True)
)
_LOCKED = "registrations_locked_events"  # session.info: (transaction, {event id: event})
_SEAT_USAGE = select(
    seats_held_sum(Registration).label("held"),
    func.coalesce(func.max(Registration.queue_seq), 0).label("last_seq"),
    func.coalesce(func.sum(case((Registration.status == S.WAITLISTED, 1), else_=0)), 0).label(
        "waiting"
    ),
).where(Registration.event_id == bindparam("event_id"))
# Everything ``register`` decides on besides the event, in one query after the event's lock
# (so on PostgreSQL too it sees every change committed before): the member, their registration
# if they ever had one, and the event's seat usage.
_usage = _SEAT_USAGE.subquery("usage")
_REGISTRANT = (
    select(
        Member.id,
        Member.network_id,
        Member.affiliation,
        Member.role,
        Member.reminder_preference,
        Registration,
        _usage.c.held,
        _usage.c.last_seq,
        _usage.c.waiting,
    )
    .select_from(Member)
    .join(_usage, true())
    .outerjoin(
        Registration,
        and_(
            Registration.member_id == Member.id,
            Registration.event_id == bindparam("event_id"),
        ),
    )
    .where(Member.id == bindparam("member_id"))
    .options(lazyload(Registration.event))
    .execution_options(populate_existing=True)
)
# SQLite (see ``_holds_whole_database``): the event with the rest, in one query.
_EVENT_WITH_REGISTRANT = (
    _REGISTRANT.add_columns(Event)
    .join(Event, Event.id == bindparam("event_id"))
    .options(*WITHOUT_SERIES_OR_NETWORK)
)
_EVENT_WITH_REGISTRATION = (
    select(Event, Registration)
    .outerjoin(
        Registration,
        and_(Registration.event_id == Event.id, Registration.member_id == bindparam("member_id")),
    )
    .where(Event.id == bindparam("event_id"))
    .options(lazyload(Registration.event), *WITHOUT_SERIES_OR_NETWORK)
    .execution_options(populate_existing=True)
)
# The event is the one the operation holds (see ``_attach``): no join to load it again.
_REGISTRATION_OF = (
    select(Registration)
    .where(
        Registration.event_id == bindparam("event_id"),
        Registration.member_id == bindparam("member_id"),
    )
    .options(lazyload(Registration.event))
    .execution_options(populate_existing=True)
)
_PAGE = 8
_NO_LIMIT = 1_000_000
_WAITING_PAGE = (
    select(Registration)
    .where(
        Registration.event_id == bindparam("event_id"),
        Registration.status == S.WAITLISTED,
        Registration.queue_seq > bindparam("after"),
        Registration.party_size <= bindparam("seats"),
    )
    .order_by(Registration.queue_seq)
    .limit(_PAGE)
    .options(lazyload(Registration.event))
)
# A Core insert: history rows are never read back in the transaction that writes them, so
# on SQLite the row goes with the transaction's next trip (``models.db.DEFERRED``).
_INSERT_CHANGE = insert(cast(Table, RegistrationChange.__table__)).execution_options(
    **{DEFERRED: True}
)


# --- helpers ------------------------------------------------------------------------------------


def _check_open_for_registration(event: Event, now: datetime) -> None:
    refusal = registration_refusal(event, now)
    if refusal is not None:
        raise refusal


def _check_party_size(party_size: int, policy: RegistrationPolicy) -> None:
    refusal = party_size_refusal(party_size, policy)
    if refusal is not None:
        raise refusal


@dataclass(frozen=True)
class _Registrant:
    """What a registration needs to know of the member (no entity: nothing to track)."""

    id: int
    network_id: int | None
    affiliation: Affiliation | None
    is_organiser: bool
    reminder_preference: ReminderPreference


async def _registrant(
    session: AsyncSession, event: Event, member_id: int
) -> tuple[_Registrant, Registration | None, SeatUsage]:
    """The member, their registration for the event if they ever had one, and the event's
    seat usage (one query; the caller holds the event's lock)."""
    row = (
        await session.execute(_REGISTRANT, {"member_id": member_id, "event_id": event.id})
    ).one_or_none()
    if row is None:
        raise NotFound()
    return _registrant_of(row, event)


def _registrant_of(
    row: Row[Any], event: Event
) -> tuple[_Registrant, Registration | None, SeatUsage]:
    registrant = _Registrant(
        row.id,
        row.network_id,
        row.affiliation,
        row.role in ORGANISER_ROLES,
        row.reminder_preference,
    )
    if row.Registration is not None:
        _attach(row.Registration, event)
    usage = SeatUsage(held=int(row.held), last_seq=int(row.last_seq), waiting=int(row.waiting))
    return registrant, row.Registration, usage


def _group_of(member: _Registrant) -> str:
    if member.network_id is not None:
        return f"network:{member.network_id}"
    return f"affiliation:{member.affiliation or 'unknown'}"


async def registration_of(
    session: AsyncSession, event: Event, member_id: int
) -> Registration | None:
    """The member's registration for the event, if they ever had one (also a cancelled one)."""
    registration = await session.scalar(
        _REGISTRATION_OF, {"event_id": event.id, "member_id": member_id}
    )
    if registration is not None:
        _attach(registration, event)
    return registration


def _attach(registration: Registration, event: Event) -> None:
    """Give a registration read without its event (the caller holds it) its ``event``."""
    set_committed_value(registration, "event", event)


async def _registration_by_id(session: AsyncSession, registration_id: int) -> Registration:
    registration = await session.get(Registration, registration_id, populate_existing=True)
    if registration is None:
        raise NotFound()
    return registration


async def _seat_usage(session: AsyncSession, event: Event) -> SeatUsage:
    row = (await session.execute(_SEAT_USAGE, {"event_id": event.id})).one()
    return SeatUsage(held=int(row[0]), last_seq=int(row[1]), waiting=int(row[2]))


async def _waiting_in_order(
    session: AsyncSession, event: Event, *, seats: float
) -> AsyncGenerator[Registration, None]:
    """The waitlist in order, parties of at most ``seats``, read a page at a time: a freed seat
    usually goes to the first in line, and a long waitlist need not be loaded for it."""
    after = 0
    while True:
        page = (
            await session.scalars(
                _WAITING_PAGE,
                {"event_id": event.id, "after": after, "seats": min(seats, _NO_LIMIT)},
            )
        ).all()
        for registration in page:
            _attach(registration, event)
            yield registration
        if len(page) < _PAGE:
            return
        after = page[-1].queue_seq


def _release_pending(
    event: Event, usage: SeatUsage, now: datetime, policy: RegistrationPolicy
) -> bool:
    """The fair share's release moment has passed, people wait and seats are free: the release
    sweep (``release_fair_share``) may not have run yet. Not in the last call, where free seats
    are for whoever claims them first."""
    return (
        event.fair_share_per_network is not None
        and event.fair_share_until is not None
        and now >= event.fair_share_until
        and usage.waiting > 0
        and (event.capacity is None or usage.held < event.capacity)
        and not policy.is_last_call(now, event.starts_at)
    )


def _fair_share_active(event: Event, now: datetime) -> bool:
    return event.fair_share_per_network is not None and (
        event.fair_share_until is None or now < event.fair_share_until
    )


async def _within_fair_share(
    session: AsyncSession, event: Event, group: str, party_size: int, now: datetime
) -> bool:
    if not _fair_share_active(event, now):
        return True
    used = (await _usage_by_group(session, event))[group]
    return used + party_size <= (event.fair_share_per_network or 0)


async def _usage_by_group(session: AsyncSession, event: Event) -> defaultdict[str, int]:
    rows = await session.execute(
        select(Registration.network_id, Registration.affiliation, func.sum(Registration.party_size))
        .where(Registration.event_id == event.id, Registration.status.in_(HOLDS_SEATS))
        .group_by(Registration.network_id, Registration.affiliation)
    )
    used: defaultdict[str, int] = defaultdict(int)
    for network_id, affiliation, seats in rows:
        group = (
            f"network:{network_id}"
            if network_id is not None
            else f"affiliation:{affiliation or 'unknown'}"
        )
        used[group] += int(seats)
    return used


async def _position(session: AsyncSession, registration: Registration) -> int | None:
    if registration.status is not S.WAITLISTED:
        return None
    ahead = await session.scalar(
        select(func.count()).where(
            and_(
                Registration.event_id == registration.event_id,
                Registration.status == S.WAITLISTED,
                Registration.queue_seq < registration.queue_seq,
            )
        )
    )
    return int(ahead or 0) + 1


async def _transition(
    session: AsyncSession,
    event: Event,
    registration: Registration,
    to_status: RegistrationStatus,
    now: datetime,
    *,
    actor_id: int | None,
    reason: str,
    policy: RegistrationPolicy,
    note: str | None = None,
    preference: ReminderPreference | None = None,
) -> None:
    """Change the status, write the history row and bring the reminders in step: the only place
    a status is set. ``preference``: the member's reminder choice, if the caller read it."""
    stored = inspect(registration).has_identity
    from_status = registration.status if stored else None
    registration.status = to_status
    registration.updated_at = now
    if not stored:
        await session.flush()  # the history row (and the reminders' keys) need its id
    # History rows are only ever inserted: a plain INSERT, no unit-of-work bookkeeping.
    await session.execute(
        _INSERT_CHANGE,
        {
            "registration_id": registration.id,
            "at": now,
            "actor_id": actor_id,
            "from_status": from_status,
            "to_status": to_status,
            "party_size": registration.party_size,
            "reason": reason,
            "note": note,
        },
    )
    # Reminders exist only for someone coming: a move between the other statuses (joining the
    # waitlist, an offer, cancelling a waitlist place) has none to add or to skip.
    if from_status in COMING or to_status in COMING:
        await sync_reminders(
            session,
            registration,
            event,
            policy.reminders,
            now,
            fresh=not stored,
            preference=preference,
        )


async def _audit(
    session: AsyncSession,
    registration: Registration,
    to_status: RegistrationStatus,
    action: str,
    actor_id: int,
    now: datetime,
    note: str = "",
) -> None:
    """An organiser's override in the audit log: the status before and after (and the note)."""
    after: dict[str, object] = {"status": to_status}
    if note:
        after["note"] = note
    await audit.record(
        session,
        actor_id=actor_id,
        action=action,
        object_type="registration",
        object_id=registration.id,
        now=now,
        before={"status": registration.status},
        after=after,
    )


def _stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y%m%dT%H%M%S%f") if moment is not None else "none"


__all__ = [
    "ACTIVE",
    "Outcome",
    "cancel",
    "change_party_size",
    "claim_seat",
    "decline_offer",
    "expire_offers",
    "fill_free_seats",
    "join_waitlist",
    "lock_event",
    "override_cancel",
    "override_confirm",
    "record_attendance",
    "register",
    "registration_of",
    "release_fair_share",
    "require_organiser",
    "seats_held",
    "seats_left",
    "waitlist_length",
    "waitlist_position",
]


# --- self check-in (models/attendance checks the venue code first) -----------------------------


async def check_in_self(
    session: AsyncSession,
    *,
    event_id: int,
    member_id: int,
    now: datetime,
    policy: RegistrationPolicy,
) -> Outcome:
    """A member checks themselves in at the venue: their seat becomes ATTENDED.

    Only while check-in is open (from ``CHECK_IN_OPENS`` before the start until the end), and only
    for a seat of their own: confirmed, or marked absent by mistake (being at the venue is the
    proof). Checking in twice changes nothing. ``models.attendance.operations.check_in_self``
    matches the typed code to the event and explains the refusals in more detail.
    """
    event = await lock_event(session, event_id)
    if event.is_cancelled:
        raise EventCancelled()
    if not event.starts_at - CHECK_IN_OPENS <= now < event.ends_at:
        raise NotAllowed()
    registration = await registration_of(session, event, member_id)
    if registration is None or registration.status not in (S.CONFIRMED, S.NO_SHOW, S.ATTENDED):
        raise NotRegistered()
    if registration.status is S.ATTENDED:
        return Outcome(registration, changed=False)
    await _transition(
        session,
        event,
        registration,
        S.ATTENDED,
        now,
        actor_id=member_id,
        reason="self_check_in",
        policy=policy,
    )
    await session.flush()
    return Outcome(registration)
