"""What the programme looks like for one member: read-only views the front ends render."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import NotFound
from models.events.entities import Event, EventStatus
from models.members.entities import Member
from models.registrations import operations as registrations
from models.registrations.entities import ACTIVE, HOLDS_SEATS, Registration, RegistrationStatus
from models.registrations.policy import RegistrationPolicy


@dataclass(frozen=True)
class EventOverview:
    event: Event
    seats_left: int | None  # None: no limit
    waitlist_length: int
    registration: Registration | None  # the member's, if any (also a cancelled one)
    waitlist_position: int | None
    last_call: bool  # free seats go to whoever claims first
    registration_open: bool
    started: bool

    @property
    def status(self) -> RegistrationStatus | None:
        return self.registration.status if self.registration else None

    @property
    def is_in(self) -> bool:
        return self.registration is not None and self.registration.is_active

    @property
    def full(self) -> bool:
        return self.seats_left is not None and self.seats_left <= 0


async def event_overview(
    session: AsyncSession,
    *,
    event: Event,
    member: Member,
    now: datetime,
    policy: RegistrationPolicy,
) -> EventOverview:
    return (await event_overviews(session, events=[event], member=member, now=now, policy=policy))[
        0
    ]


async def event_overviews(
    session: AsyncSession,
    *,
    events: Sequence[Event],
    member: Member,
    now: datetime,
    policy: RegistrationPolicy,
) -> list[EventOverview]:
    """``event_overview`` for several events (the agenda's page) in two queries: the member's
    registrations, and the seats, waitlist and waitlist positions of all events at once."""
    for event in events:
        if not event.visible_to(member.network_id, organiser=member.is_organiser):
            raise NotFound()
    if not events:
        return []
    event_ids = [event.id for event in events]
    mine = {
        registration.event_id: registration
        for registration in await session.scalars(
            select(Registration).where(
                Registration.event_id.in_(event_ids), Registration.member_id == member.id
            )
        )
    }
    waiting = Registration.status == RegistrationStatus.WAITLISTED
    # Waitlisted ahead of the member: only for events where the member is on the waitlist.
    ahead_of_me = [
        (
            and_(Registration.event_id == event_id, Registration.queue_seq < r.queue_seq),
            1,
        )
        for event_id, r in mine.items()
        if r.status is RegistrationStatus.WAITLISTED
    ]
    counts = {
        event_id: (int(held), int(waitlisted), int(ahead))
        for event_id, held, waitlisted, ahead in await session.execute(
            select(
                Registration.event_id,
                func.coalesce(
                    func.sum(
                        case(
                            (Registration.status.in_(HOLDS_SEATS), Registration.party_size),
                            else_=0,
                        )
                    ),
                    0,
                ),
                func.coalesce(func.sum(case((waiting, 1), else_=0)), 0),
                func.coalesce(
                    func.sum(case((and_(waiting, or_(*(c for c, _ in ahead_of_me))), 1), else_=0))
                    if ahead_of_me
                    else literal(0),
                    0,
                ),
            )
            .where(Registration.event_id.in_(event_ids))
            .group_by(Registration.event_id)
        )
    }
    overviews = []
    for event in events:
        held, waitlisted, ahead = counts.get(event.id, (0, 0, 0))
        registration = mine.get(event.id)
        deadline_passed = (
            event.registration_deadline is not None and now > event.registration_deadline
        )
        started = now >= event.starts_at
        position = (
            ahead + 1
            if registration is not None and registration.status is RegistrationStatus.WAITLISTED
            else None
        )
        overviews.append(
            EventOverview(
                event=event,
                seats_left=None if event.capacity is None else max(0, event.capacity - held),
                waitlist_length=waitlisted,
                registration=registration,
                waitlist_position=position,
                last_call=policy.is_last_call(now, event.starts_at),
                registration_open=event.status is EventStatus.PUBLISHED
                and not deadline_passed
                and not started,
                started=started,
            )
        )
    return overviews


async def visible_event(
    session: AsyncSession, *, public_code: str, member: Member, lock: bool = False
) -> Event:
    """The event behind a deep link or a button, if this member may see it.

    ``lock``: locked for a decision in this (write) transaction, as the registration operations
    lock it; they then do not read it again.
    """
    if lock:
        event: Event | None = await registrations.lock_event(session, public_code=public_code)
    else:
        event = await session.scalar(select(Event).where(Event.public_code == public_code))
    if event is None or not event.visible_to(member.network_id, organiser=member.is_organiser):
        raise NotFound()
    return event


async def my_registrations(
    session: AsyncSession, *, member_id: int, now: datetime
) -> list[Registration]:
    """Active registrations for events that have not ended, soonest first."""
    rows = await session.scalars(
        select(Registration)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.member_id == member_id,
            Registration.status.in_(ACTIVE),
            Event.ends_at > now,
        )
        .order_by(Event.starts_at)
    )
    return list(rows.all())


@dataclass(frozen=True)
class EventRegistrations:
    event: Event
    confirmed: int  # seats, counting party sizes
    waitlisted: int  # seats waiting
    by_group: list[tuple[str | None, int]]  # (network name or affiliation, confirmed seats)


async def registrations_by_network(
    session: AsyncSession, *, actor_id: int, now: datetime
) -> list[EventRegistrations]:
    """For organisers: per coming event, confirmed seats per network and the waitlist."""
    from sqlalchemy import func

    from models.networks.entities import Network

    await registrations.require_organiser(session, actor_id)
    events = (
        await session.scalars(
            select(Event)
            .where(Event.status != EventStatus.CANCELLED, Event.ends_at > now)
            .order_by(Event.starts_at)
        )
    ).all()
    result = []
    for event in events:
        rows = (
            await session.execute(
                select(
                    Network.name,
                    Registration.affiliation,
                    Registration.status,
                    func.sum(Registration.party_size),
                )
                .outerjoin(Network, Network.id == Registration.network_id)
                .where(
                    Registration.event_id == event.id,
                    Registration.status.in_(
                        [
                            RegistrationStatus.CONFIRMED,
                            RegistrationStatus.OFFERED,
                            RegistrationStatus.WAITLISTED,
                        ]
                    ),
                )
                .group_by(Network.name, Registration.affiliation, Registration.status)
            )
        ).all()
        groups: dict[str | None, int] = {}
        confirmed = waitlisted = 0
        for network_name, affiliation, status, seats in rows:
            if status is RegistrationStatus.WAITLISTED:
                waitlisted += int(seats)
                continue
            confirmed += int(seats)
            key = network_name or (affiliation.value if affiliation else None)
            groups[key] = groups.get(key, 0) + int(seats)
        by_group = sorted(groups.items(), key=lambda item: (-item[1], item[0] or ""))
        result.append(EventRegistrations(event, confirmed, waitlisted, by_group))
    return result


async def programme_events(session: AsyncSession, *, actor_id: int, now: datetime) -> list[Event]:
    """For organisers: coming events, drafts and proposals included, soonest first."""
    await registrations.require_organiser(session, actor_id)
    rows = await session.scalars(
        select(Event)
        .where(
            Event.ends_at > now,
            Event.status.in_([EventStatus.DRAFT, EventStatus.PUBLISHED, EventStatus.PROPOSED]),
        )
        .order_by(Event.starts_at, Event.id)
    )
    return list(rows.all())
