"""Seats and the waitlist, as read under the event's lock: what is taken, who waits in which
order, and what fair share still allows. Nothing here writes; ``changes.fill_free_seats`` hands
free seats on with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload

from models.events.entities import Event
from models.registrations.entities import (
    HOLDS_SEATS,
    Registration,
    RegistrationStatus,
    seats_held_sum,
)
from models.registrations.locks import attach
from models.registrations.policy import RegistrationPolicy

S = RegistrationStatus


@dataclass(frozen=True)
class SeatUsage:
    held: int
    last_seq: int
    waiting: int = 0  # registrations on the waitlist

    def fits(self, event: Event, seats: int) -> bool:
        """``seats`` more seats are within the event's capacity."""
        return event.capacity is None or self.held + seats <= event.capacity


async def seat_usage(session: AsyncSession, event: Event) -> SeatUsage:
    row = (await session.execute(SEAT_USAGE, {"event_id": event.id})).one()
    return SeatUsage(held=int(row[0]), last_seq=int(row[1]), waiting=int(row[2]))


async def room_for(
    session: AsyncSession, event: Event, group: str, seats: int, now: datetime
) -> bool:
    """``seats`` more seats for ``group``: within the capacity, and within its fair share."""
    usage = await seat_usage(session, event)
    return usage.fits(event, seats) and await within_fair_share(session, event, group, seats, now)


def fair_share_active(event: Event, now: datetime) -> bool:
    return event.fair_share_per_network is not None and (
        event.fair_share_until is None or now < event.fair_share_until
    )


async def within_fair_share(
    session: AsyncSession, event: Event, group: str, party_size: int, now: datetime
) -> bool:
    if not fair_share_active(event, now):
        return True
    used = (await usage_by_group(session, event))[group]
    return used + party_size <= (event.fair_share_per_network or 0)


async def usage_by_group(session: AsyncSession, event: Event) -> defaultdict[str, int]:
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


def release_pending(
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


async def waiting_in_order(
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
            attach(registration, event)
            yield registration
        if len(page) < _PAGE:
            return
        after = page[-1].queue_seq


# --- reading, for the cards and feeds -----------------------------------------------------------


async def seats_held(session: AsyncSession, event: Event) -> int:
    """Seats taken (confirmed, offered, attended, no-show), counting party sizes."""
    return (await seat_usage(session, event)).held


async def seats_left(session: AsyncSession, event: Event) -> int | None:
    """Free seats, or None for an event without a limit."""
    if event.capacity is None:
        return None
    usage = await seat_usage(session, event)
    return max(0, event.capacity - usage.held)


async def waitlist_length(session: AsyncSession, event_id: int) -> int:
    count = await session.scalar(
        select(func.count()).where(
            Registration.event_id == event_id, Registration.status == S.WAITLISTED
        )
    )
    return int(count or 0)


async def waitlist_position(session: AsyncSession, registration: Registration) -> int | None:
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


SEAT_USAGE = select(
    seats_held_sum(Registration).label("held"),
    func.coalesce(func.max(Registration.queue_seq), 0).label("last_seq"),
    func.coalesce(func.sum(case((Registration.status == S.WAITLISTED, 1), else_=0)), 0).label(
        "waiting"
    ),
).where(Registration.event_id == bindparam("event_id"))
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
