"""Where a registration is decided: what a member does, and what the service does on its own.

Every operation runs inside the caller's write transaction (``Database.transaction()``), locks
the event first (``locks.py``), checks its own rule and says what follows as a ``Change``, which
``changes.carry_out`` makes: the status with its history row, the reminders, the member's notice,
freed seats offered to the waitlist, all in the same transaction, returned as an ``Outcome``. A
refusal raises a ``DomainError`` before anything changes. Organisers' overrides and attendance
are in ``organiser.py``; what is free and who waits in ``seats.py``.

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

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Row, and_, bindparam, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload

from models.attendance.window import check_in_open
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
from models.outbox.entities import NotificationKind, OutboxMessage
from models.registrations.allowed import (
    cancel_refusal,
    offer_expired,
    party_size_refusal,
    registration_refusal,
)
from models.registrations.changes import (
    Change,
    Notice,
    Outcome,
    carry_out,
    fill_free_seats,
    stamp,
)
from models.registrations.entities import ACTIVE, Registration, RegistrationStatus
from models.registrations.locks import (
    attach,
    lock_event,
    lock_reading,
    lock_with_registration,
    registration_of,
)
from models.registrations.organiser import override_cancel, override_confirm, record_attendance
from models.registrations.policy import RegistrationPolicy
from models.registrations.seats import (
    SEAT_USAGE,
    SeatUsage,
    release_pending,
    room_for,
    seat_usage,
    seats_held,
    seats_left,
    waitlist_length,
    waitlist_position,
    within_fair_share,
)
from models.reminders.policy import ReminderPreference

S = RegistrationStatus


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
        position = await waitlist_position(session, existing)
        return Outcome(existing, changed=False, waitlist_position=position)
    released: list[OutboxMessage] = []
    if release_pending(event, usage, now, policy):
        # Seats held back for fair share go to the waitlist at the release moment; the sweep
        # hands them out within a minute, but a newcomer must not overtake those waiting.
        released = await fill_free_seats(
            session, event, now, policy, trigger=f"release-{stamp(event.fair_share_until)}"
        )
        usage = await seat_usage(session, event)

    fits = usage.fits(event, party_size)
    within_share = await within_fair_share(session, event, _group_of(member), party_size, now)
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
    reason = "registered" if status is S.CONFIRMED else "waitlisted"
    if status is S.WAITLISTED and fits:
        reason = "waitlisted_fair_share"
    change = Change(status, reason, member.id, preference=member.reminder_preference)
    outcome = await carry_out(session, event, registration, change, now, policy)
    outcome.notifications[:0] = released
    # At the back of the queue (queue_seq is the highest): everyone waiting is ahead.
    outcome.waitlist_position = usage.waiting + 1 if status is S.WAITLISTED else None
    return outcome


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
    event, registration = await lock_with_registration(session, event_id, member_id)
    refusal = cancel_refusal(event, registration, now)  # the rule the card's buttons follow too
    if refusal is not None:
        raise refusal
    assert registration is not None
    refill = f"cancel-{registration.id}-{stamp(now)}" if registration.holds_seats else None
    change = Change(S.CANCELLED, reason, member_id, refill=refill)
    return await carry_out(session, event, registration, change, now, policy)


async def claim_seat(
    session: AsyncSession,
    *,
    event_id: int,
    member_id: int,
    now: datetime,
    policy: RegistrationPolicy,
) -> Outcome:
    """Take the seat offered to you, or (in the last call) a free seat before anyone else does."""
    event, registration = await lock_with_registration(session, event_id, member_id)
    if event.is_cancelled:
        raise EventCancelled()
    if now >= event.starts_at:
        raise EventStarted()
    if registration is None:
        raise NoOpenOffer()
    if registration.status is S.CONFIRMED:
        return Outcome(registration, changed=False)
    if registration.status is S.OFFERED:
        expired = offer_expired(registration, now)
        if expired is not None:
            raise expired
    elif registration.status is S.WAITLISTED and policy.is_last_call(now, event.starts_at):
        group, seats = registration.fair_share_group, registration.party_size
        if not await room_for(session, event, group, seats, now):
            raise SeatTaken()
    else:
        raise NoOpenOffer()
    change = Change(S.CONFIRMED, "claimed", member_id)
    return await carry_out(session, event, registration, change, now, policy)


async def decline_offer(
    session: AsyncSession,
    *,
    event_id: int,
    member_id: int,
    now: datetime,
    policy: RegistrationPolicy,
) -> Outcome:
    """ "Laat maar": give the offered seat back; it goes to the next on the waitlist."""
    event, registration = await lock_with_registration(session, event_id, member_id)
    if registration is None or registration.status is not S.OFFERED:
        raise NoOpenOffer()
    refill = f"declined-{registration.id}-{stamp(now)}"
    change = Change(S.CANCELLED, "declined", member_id, refill=refill)
    return await carry_out(session, event, registration, change, now, policy)


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
    event, registration = await lock_with_registration(session, event_id, member_id)
    _check_open_for_registration(event, now)
    _check_party_size(party_size, policy)
    if registration is None or not registration.is_active:
        raise NotRegistered()
    extra = party_size - registration.party_size
    if extra == 0:
        return Outcome(registration, changed=False)
    more = extra > 0 and registration.holds_seats
    if more and not await room_for(session, event, registration.fair_share_group, extra, now):
        raise NotEnoughSeats(party_size=party_size)
    registration.party_size = party_size
    # Fewer seats: freed, or a waitlisted party that now fits in seats too few for it before.
    refill = f"party-{registration.id}-{stamp(now)}" if extra < 0 else None
    change = Change(registration.status, "party_size", member_id, refill=refill)
    return await carry_out(session, event, registration, change, now, policy)


async def check_in_self(
    session: AsyncSession,
    *,
    event_id: int,
    member_id: int,
    now: datetime,
    policy: RegistrationPolicy,
) -> Outcome:
    """A member checks themselves in at the venue: their seat becomes ATTENDED.

    Only while check-in is open (``models.attendance.window``), and only for a seat of their
    own: confirmed, or marked absent by mistake (being at the venue is the proof). Checking in
    twice changes nothing. ``models.attendance.operations.check_in_self`` matches the typed code
    to the event and explains the refusals in more detail.
    """
    event, registration = await lock_with_registration(session, event_id, member_id)
    if event.is_cancelled:
        raise EventCancelled()
    if not check_in_open(event, now):
        raise NotAllowed()
    if registration is None or registration.status not in (S.CONFIRMED, S.NO_SHOW, S.ATTENDED):
        raise NotRegistered()
    if registration.status is S.ATTENDED:
        return Outcome(registration, changed=False)
    change = Change(S.ATTENDED, "self_check_in", member_id)
    return await carry_out(session, event, registration, change, now, policy)


# --- what the service does on its own ---------------------------------------------------------


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
            key = (
                f"offer-expired:{registration.id}:q{registration.queue_seq}:"
                f"{stamp(registration.offer_expires_at)}"
            )
            notice = Notice(NotificationKind.OFFER_EXPIRED, key)
            lapse = Change(S.CANCELLED, "offer_expired", actor_id=None, notice=notice)
            outcome = await carry_out(session, event, registration, lapse, now, policy, flush=False)
            notifications += outcome.notifications
        notifications += await fill_free_seats(
            session, event, now, policy, trigger=f"expired-{stamp(now)}"
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
            session, event, now, policy, trigger=f"release-{stamp(event.fair_share_until)}"
        )
    await session.flush()
    return notifications


# --- the rules of registering -------------------------------------------------------------------


def _check_open_for_registration(event: Event, now: datetime) -> None:
    refusal = registration_refusal(event, now)  # the rule the card's buttons follow too
    if refusal is not None:
        raise refusal


def _check_party_size(party_size: int, policy: RegistrationPolicy) -> None:
    refusal = party_size_refusal(party_size, policy)
    if refusal is not None:
        raise refusal


# --- what ``register`` reads under the lock -----------------------------------------------------


@dataclass(frozen=True)
class _Registrant:
    """What a registration needs to know of the member (no entity: nothing to track)."""

    id: int
    network_id: int | None
    affiliation: Affiliation | None
    is_organiser: bool
    reminder_preference: ReminderPreference


async def _lock_for_registrant(
    session: AsyncSession, event_id: int, member_id: int
) -> tuple[Event, _Registrant, Registration | None, SeatUsage]:
    """The event locked, then the member, their registration for the event if they ever had one,
    and the event's seat usage (with the event in one query on SQLite, else one after it)."""
    event, row = await lock_reading(session, event_id, member_id, _EVENT_WITH_REGISTRANT)
    if row is None:
        row = (
            await session.execute(_REGISTRANT, {"member_id": member_id, "event_id": event.id})
        ).one_or_none()
        if row is None:
            raise NotFound()
    return (event, *_registrant_of(row, event))


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
        attach(row.Registration, event)
    usage = SeatUsage(held=int(row.held), last_seq=int(row.last_seq), waiting=int(row.waiting))
    return registrant, row.Registration, usage


def _group_of(member: _Registrant) -> str:
    if member.network_id is not None:
        return f"network:{member.network_id}"
    return f"affiliation:{member.affiliation or 'unknown'}"


# Everything ``register`` decides on besides the event, in one query after the event's lock
# (so on PostgreSQL too it sees every change committed before): the member, their registration
# if they ever had one, and the event's seat usage.
_usage = SEAT_USAGE.subquery("usage")
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
# SQLite (see ``locks.lock_reading``): the event with the rest, in one query.
_EVENT_WITH_REGISTRANT = (
    _REGISTRANT.add_columns(Event)
    .join(Event, Event.id == bindparam("event_id"))
    .options(*WITHOUT_SERIES_OR_NETWORK)
)


__all__ = [
    "ACTIVE",
    "Outcome",
    "cancel",
    "change_party_size",
    "check_in_self",
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
    "seats_held",
    "seats_left",
    "waitlist_length",
    "waitlist_position",
]
