"""Many members at once: each in their own write transaction, on SQLite and on PostgreSQL.

SQLite serialises writers (``BEGIN IMMEDIATE``, behind an in-process queue), PostgreSQL locks the
event row (``SELECT ... FOR UPDATE``); either way each decision must see the previous one. The
order in which transactions took their turn is recorded *inside* the transaction, right after the
domain operation returned: the lock is still held then, so that order is exactly the order in
which the decisions were made (the order of returning from ``commit`` can differ by a scheduling
hiccup).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import FrozenClock
from models.db import Database
from models.errors import NoOpenOffer, NotEnoughSeats, OfferExpired, SeatTaken
from models.members.entities import Affiliation, Member, Role
from models.registrations import operations as ops
from models.registrations.entities import (
    HOLDS_SEATS,
    Registration,
    RegistrationChange,
    RegistrationStatus,
)
from models.registrations.policy import RegistrationPolicy
from tests.factories import make_event, make_member, network_id

S = RegistrationStatus
_telegram_ids = itertools.count(5_000_000)


@pytest.fixture
async def racing(db: Database) -> AsyncIterator[Database]:
    """The same database, with room for many transactions at once on PostgreSQL."""
    if db.is_sqlite:
        yield db  # one writer at a time anyway
        return
    database = Database(db.url, pool_size=10, max_overflow=0, pool_timeout=120)
    yield database
    await database.dispose()


async def add_members(db: Database, count: int) -> list[int]:
    """``count`` members in one transaction (spread over two networks and none)."""
    networks = [await network_id(db, "wyck"), await network_id(db, "amby"), None]
    async with db.transaction() as session:
        members = [
            Member(
                telegram_id=next(_telegram_ids),
                display_name=f"Lid {i}",
                network_id=networks[i % 3],
                affiliation=Affiliation.BUURTNETWERK if networks[i % 3] else Affiliation.BEWONER,
                role=Role.MEMBER,
            )
            for i in range(count)
        ]
        session.add_all(members)
        await session.flush()
        return [m.id for m in members]


async def registrations_of(db: Database, event_id: int) -> dict[int, Registration]:
    async with db.read() as session:
        rows = await session.scalars(select(Registration).where(Registration.event_id == event_id))
        return {r.member_id: r for r in rows if r.member_id is not None}


def seats_held(registrations: dict[int, Registration]) -> int:
    return sum(r.party_size for r in registrations.values() if r.status in HOLDS_SEATS)


@pytest.mark.slow
async def test_500_at_once_for_30_seats(
    db: Database, racing: Database, clock: FrozenClock, policy: RegistrationPolicy
) -> None:
    event = await make_event(db, clock(), capacity=30)
    members = await add_members(db, 500)
    party = {m: 2 if i % 7 == 3 else 1 for i, m in enumerate(members)}
    decided: list[int] = []  # member ids, in the order their registration was decided

    async def register(member_id: int) -> ops.Outcome:
        async with racing.transaction() as session:
            outcome = await ops.register(
                session,
                event_id=event.id,
                member_id=member_id,
                now=clock(),
                policy=policy,
                party_size=party[member_id],
                if_full="waitlist",
            )
            decided.append(member_id)  # still holding the lock: this is the decision order
        return outcome

    results = await asyncio.gather(*(register(m) for m in members), return_exceptions=True)

    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    assert sorted(decided) == sorted(members)
    stored = await registrations_of(db, event.id)
    assert len(stored) == 500
    assert seats_held(stored) == 30
    assert {r.status for r in stored.values()} == {S.CONFIRMED, S.WAITLISTED}
    # Arrival order is queue order: queue_seq is unique and follows the decision order.
    assert [stored[m].queue_seq for m in decided] == sorted(r.queue_seq for r in stored.values())
    # Replaying the arrivals one by one gives the same outcome: seats go to the first to come,
    # and a later party of one only gets in ahead of a waiting party of two that did not fit.
    held, expected, waiting, held_before = 0, {}, [], {}
    for member_id in decided:
        held_before[member_id] = held
        if held + party[member_id] <= 30:
            held += party[member_id]
            expected[member_id] = S.CONFIRMED
        else:
            expected[member_id] = S.WAITLISTED
            waiting.append(member_id)
    assert {m: r.status for m, r in stored.items()} == expected
    last_confirmed = max(i for i, m in enumerate(decided) if expected[m] is S.CONFIRMED)
    passed_over = [m for m in decided[:last_confirmed] if expected[m] is S.WAITLISTED]
    assert all(party[m] == 2 and held_before[m] == 29 for m in passed_over)
    # Everyone was told their own place in the queue as it was when they registered.
    outcomes = dict(zip(members, results, strict=True))
    for place, member_id in enumerate(waiting, start=1):
        outcome = outcomes[member_id]
        assert isinstance(outcome, ops.Outcome)
        assert outcome.waitlist_position == place
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(RegistrationChange)) == 500


async def test_last_call_seat_goes_to_one_claimer_only(
    db: Database, racing: Database, clock: FrozenClock, policy: RegistrationPolicy
) -> None:
    """A seat freed in the last call: three waiting claim it, a newcomer registers, at once."""
    rounds = 5
    events = [
        await make_event(db, clock(), capacity=1, starts_in=timedelta(hours=2), title=f"R{i}")
        for i in range(rounds)
    ]
    people = [await add_members(db, 5) for _ in range(rounds)]
    for event, (holder, *waiting, _newcomer) in zip(events, people, strict=True):
        for member_id in (holder, *waiting):
            async with db.transaction() as session:
                await ops.register(
                    session, event_id=event.id, member_id=member_id, now=clock(), policy=policy
                )

    async def round_(event_id: int, holder: int, claimers: list[int], newcomer: int) -> list[str]:
        cancelled = asyncio.Event()

        async def cancel() -> None:
            async with racing.transaction() as session:
                await ops.cancel(
                    session, event_id=event_id, member_id=holder, now=clock(), policy=policy
                )
            cancelled.set()

        async def claim(member_id: int) -> str:
            while True:
                after_cancel = cancelled.is_set()  # then this attempt sees the seat freed
                try:
                    async with racing.transaction() as session:
                        await ops.claim_seat(
                            session,
                            event_id=event_id,
                            member_id=member_id,
                            now=clock(),
                            policy=policy,
                        )
                    return "claimed"
                except SeatTaken:
                    if after_cancel:
                        return "taken"
                    await asyncio.sleep(0.005)

        async def register() -> str:
            async with racing.transaction() as session:
                outcome = await ops.register(
                    session, event_id=event_id, member_id=newcomer, now=clock(), policy=policy
                )
            return outcome.registration.status.value

        results = await asyncio.gather(cancel(), register(), *(claim(m) for m in claimers))
        return [r for r in results if r is not None]

    outcomes = await asyncio.gather(
        *(
            round_(event.id, holder, waiting, newcomer)
            for event, (holder, *waiting, newcomer) in zip(events, people, strict=True)
        )
    )
    for event, (holder, *waiting, newcomer), (newcomer_status, *claims) in zip(
        events, people, outcomes, strict=True
    ):
        stored = await registrations_of(db, event.id)
        assert seats_held(stored) == 1, "the one seat was given twice (or not at all)"
        winners = [m for m in (*waiting, newcomer) if stored[m].status is S.CONFIRMED]
        assert len(winners) == 1
        assert claims.count("claimed") == (1 if newcomer_status == "waitlisted" else 0)
        assert stored[holder].status is S.CANCELLED
        async with db.read() as session:
            claimed = await session.scalar(
                select(func.count())
                .select_from(RegistrationChange)
                .join(Registration)
                .where(Registration.event_id == event.id, RegistrationChange.reason == "claimed")
            )
        assert claimed == claims.count("claimed")


async def test_freed_seat_is_offered_once_whatever_races_it(
    db: Database, racing: Database, clock: FrozenClock, policy: RegistrationPolicy
) -> None:
    """Cancel, newcomers, an organiser's override and the sweep at once: the seat is offered to
    the first waiting, and to nobody else."""
    rounds = 6
    events = [await make_event(db, clock(), capacity=1, title=f"R{i}") for i in range(rounds)]
    organiser = await make_member(db, name="Org", network=None, role=Role.ORGANISER)
    people = [await add_members(db, 7) for _ in range(rounds)]
    for event, (holder, first, second, *_newcomers) in zip(events, people, strict=True):
        for member_id in (holder, first, second):
            async with db.transaction() as session:
                await ops.register(
                    session, event_id=event.id, member_id=member_id, now=clock(), policy=policy
                )

    async def register(event_id: int, member_id: int, session: AsyncSession) -> ops.Outcome:
        return await ops.register(
            session, event_id=event_id, member_id=member_id, now=clock(), policy=policy
        )

    async def attempt(call: Callable[[AsyncSession], Awaitable[object]]) -> str:
        try:
            async with racing.transaction() as session:
                await call(session)
        except NotEnoughSeats:
            return "refused"
        return "done"

    async def round_(event_id: int, holder: int, second: int, newcomers: list[int]) -> list[str]:
        second_registration = (await registrations_of(db, event_id))[second]
        return await asyncio.gather(
            attempt(
                lambda s: ops.cancel(
                    s, event_id=event_id, member_id=holder, now=clock(), policy=policy
                )
            ),
            attempt(
                lambda s: ops.override_confirm(
                    s,
                    registration_id=second_registration.id,
                    actor_id=organiser.id,
                    now=clock(),
                    policy=policy,
                )
            ),
            attempt(lambda s: ops.expire_offers(s, now=clock(), policy=policy)),
            *(attempt(functools.partial(register, event_id, m)) for m in newcomers),
        )

    results = await asyncio.gather(
        *(
            round_(event.id, holder, second, newcomers)
            for event, (holder, _first, second, *newcomers) in zip(events, people, strict=True)
        )
    )
    for event, (holder, first, second, *newcomers), attempts in zip(
        events, people, results, strict=True
    ):
        # The override came before the cancel (full) or after it (the seat is held): refused.
        assert attempts[1] == "refused"
        stored = await registrations_of(db, event.id)
        assert seats_held(stored) == 1
        assert stored[holder].status is S.CANCELLED
        # Before the cancel the event was full; after it the seat is held for the first waiting.
        assert stored[first].status is S.OFFERED
        assert stored[second].status is S.WAITLISTED
        assert {stored[m].status for m in newcomers} == {S.WAITLISTED}


async def test_claim_racing_the_expiry_sweep(
    db: Database, racing: Database, clock: FrozenClock, policy: RegistrationPolicy
) -> None:
    """The last moment to claim, and the sweep a second later: one of them wins, never both."""
    rounds = 10
    events = [await make_event(db, clock(), capacity=1, title=f"R{i}") for i in range(rounds)]
    people = [await add_members(db, 3) for _ in range(rounds)]
    for event, (holder, first, second) in zip(events, people, strict=True):
        for member_id in (holder, first, second):
            async with db.transaction() as session:
                await ops.register(
                    session, event_id=event.id, member_id=member_id, now=clock(), policy=policy
                )
        async with db.transaction() as session:
            await ops.cancel(
                session, event_id=event.id, member_id=holder, now=clock(), policy=policy
            )
    deadline = clock() + policy.offer_window

    async def claim(event_id: int, member_id: int) -> str:
        try:
            async with racing.transaction() as session:
                await ops.claim_seat(
                    session, event_id=event_id, member_id=member_id, now=deadline, policy=policy
                )
        except (OfferExpired, NoOpenOffer):
            return "too late"
        return "claimed"

    async def sweep() -> None:
        async with racing.transaction() as session:
            await ops.expire_offers(session, now=deadline + timedelta(seconds=1), policy=policy)

    claims = await asyncio.gather(
        *(claim(event.id, first) for event, (_h, first, _s) in zip(events, people, strict=True)),
        sweep(),
    )
    for event, (_holder, first, second), result in zip(events, people, claims[:-1], strict=True):
        stored = await registrations_of(db, event.id)
        assert seats_held(stored) == 1
        if result == "claimed":
            assert (stored[first].status, stored[second].status) == (S.CONFIRMED, S.WAITLISTED)
        else:
            assert (stored[first].status, stored[second].status) == (S.CANCELLED, S.OFFERED)
