"""What the programme looks like for one member: read-only views the front ends render."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from models.errors import NotFound
from models.events.entities import WITHOUT_SERIES_OR_NETWORK, Event, EventStatus
from models.members.entities import Member
from models.organisers.authorisation import require_organiser
from models.registrations import operations as registrations
from models.registrations.allowed import CardAction, card_actions, registration_refusal
from models.registrations.entities import ACTIVE, Registration, RegistrationStatus, seats_held_sum
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
    # What the member may do on the card now, by the registration rules (``allowed.py``).
    actions: frozenset[CardAction] = frozenset()

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
    """``event_overview`` for several events, in one query."""
    for event in events:
        if not event.visible_to(member.network_id, organiser=member.is_organiser):
            raise NotFound()
    if not events:
        return []
    rows = await session.execute(
        _OVERVIEWS_BY_IDS, {"event_ids": [event.id for event in events], "member_id": member.id}
    )
    by_id = {row.Event.id: _overview_of(row, now, policy) for row in rows}
    return [by_id[event.id] for event in events]


async def overview_by_code(
    session: AsyncSession,
    *,
    public_code: str,
    member: Member,
    now: datetime,
    policy: RegistrationPolicy,
) -> EventOverview:
    """The card of the event behind a deep link or a button, if this member may see it: the
    event, the member's registration, seats and waitlist, in one query."""
    row = (
        await session.execute(
            _OVERVIEW_BY_CODE, {"public_code": public_code, "member_id": member.id}
        )
    ).one_or_none()
    if row is None or not row.Event.visible_to(member.network_id, organiser=member.is_organiser):
        raise NotFound()
    return _overview_of(row, now, policy)


@dataclass(frozen=True)
class AgendaPage:
    overviews: list[EventOverview]
    page: int  # the page shown (a page past the end shows the last one)
    pages: int


async def agenda_page(
    session: AsyncSession,
    *,
    member: Member,
    now: datetime,
    policy: RegistrationPolicy,
    page: int,
    per_page: int,
) -> AgendaPage:
    """One page of the coming published events this member may see (the collective programme
    and their network's own sessions), soonest first, as overviews: one query, with the total
    for the page count (two when asked for a page past the end)."""
    parameters = {"member_id": member.id, "now": now, "network_id": member.network_id}
    page = max(page, 0)

    async def read(page: int) -> list[Row[Any]]:
        offset = {"limit": per_page, "offset": page * per_page}
        return list((await session.execute(_AGENDA, parameters | offset)).all())

    rows = await read(page)
    if not rows and page > 0:
        # Past the end (events ended or were cancelled since the button was made): the last page.
        total = int(await session.scalar(_AGENDA_COUNT, parameters) or 0)
        page = max(0, math.ceil(total / per_page) - 1)
        rows = await read(page)
    total = int(rows[0].total) if rows else 0
    return AgendaPage(
        [_overview_of(row, now, policy) for row in rows],
        page,
        max(1, math.ceil(total / per_page)),
    )


def _overview_of(row: Row[Any], now: datetime, policy: RegistrationPolicy) -> EventOverview:
    event: Event = row.Event
    registration: Registration | None = row.Registration
    if registration is not None:
        set_committed_value(registration, "event", event)
    waitlisted = registration is not None and registration.status is RegistrationStatus.WAITLISTED
    seats_left = None if event.capacity is None else max(0, event.capacity - int(row.held))
    return EventOverview(
        event=event,
        seats_left=seats_left,
        waitlist_length=int(row.waiting),
        registration=registration,
        waitlist_position=int(row.ahead) + 1 if waitlisted else None,
        last_call=policy.is_last_call(now, event.starts_at),
        registration_open=registration_refusal(event, now) is None,
        started=now >= event.starts_at,
        actions=card_actions(event, registration, seats_left=seats_left, now=now, policy=policy),
    )


# --- statements ---------------------------------------------------------------------------------
# An overview is the event, the member's registration (if they ever had one) and three counts
# over the event's other registrations, in one statement: a card costs one trip to the database.
_other = aliased(Registration, name="other")
_of_event = _other.event_id == Event.id
_waiting = _other.status == RegistrationStatus.WAITLISTED
_HELD = select(seats_held_sum(_other)).where(_of_event).correlate(Event).scalar_subquery()
_WAITING = select(func.count()).where(_of_event, _waiting).correlate(Event).scalar_subquery()
# Waitlisted ahead of the member: counted only when the member is waiting.
_AHEAD = case(
    (
        Registration.status == RegistrationStatus.WAITLISTED,
        select(func.count())
        .where(_of_event, _waiting, _other.queue_seq < Registration.queue_seq)
        .correlate(Event, Registration)
        .scalar_subquery(),
    ),
    else_=0,
)
_OVERVIEWS = (
    select(
        Event, Registration, _HELD.label("held"), _WAITING.label("waiting"), _AHEAD.label("ahead")
    )
    .outerjoin(
        Registration,
        and_(Registration.event_id == Event.id, Registration.member_id == bindparam("member_id")),
    )
    .options(*WITHOUT_SERIES_OR_NETWORK, lazyload(Registration.event))
)
_OVERVIEW_BY_CODE = _OVERVIEWS.where(Event.public_code == bindparam("public_code"))
_EVENT_BY_CODE = select(Event).where(Event.public_code == bindparam("public_code"))
_OVERVIEWS_BY_IDS = _OVERVIEWS.where(Event.id.in_(bindparam("event_ids", expanding=True)))
# The agenda: published, not ended, the collective programme and the member's network's own
# sessions (a member without a network: ``= NULL`` is never true, so only the collective one).
_COMING = (
    Event.status == EventStatus.PUBLISHED,
    Event.ends_at > bindparam("now"),
    or_(Event.network_id.is_(None), Event.network_id == bindparam("network_id")),
)
_AGENDA = (
    _OVERVIEWS.where(*_COMING)
    .add_columns(func.count().over().label("total"))
    .order_by(Event.starts_at, Event.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_AGENDA_COUNT = select(func.count()).select_from(Event).where(*_COMING)


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
        event = await session.scalar(_EVENT_BY_CODE, {"public_code": public_code})
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

    await require_organiser(session, actor_id)
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
    await require_organiser(session, actor_id)
    rows = await session.scalars(
        select(Event)
        .where(
            Event.ends_at > now,
            Event.status.in_([EventStatus.DRAFT, EventStatus.PUBLISHED, EventStatus.PROPOSED]),
        )
        .order_by(Event.starts_at, Event.id)
    )
    return list(rows.all())
