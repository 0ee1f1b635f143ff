"""What a member may do on an event's card (``EventOverview.actions``), decided by the same rules
as the registration operations: for each state a member can be in, on SQLite and PostgreSQL.

Where the card offers an action, the operation behind it is then tried and must not be refused
for a reason the card knew (the event, the deadline, the party size, the member's status).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from models.clock import FrozenClock
from models.db import Database
from models.errors import EventStarted, OfferExpired, PartySizeInvalid, RegistrationClosed
from models.events.entities import Event
from models.events.operations import cancel_event
from models.events.queries import EventOverview, overview_by_code
from models.members.entities import Member
from models.registrations import operations as ops
from models.registrations.allowed import CardAction
from models.registrations.entities import RegistrationStatus
from models.registrations.policy import RegistrationPolicy
from tests.factories import make_event, make_member, register

A = CardAction
S = RegistrationStatus


async def card(
    db: Database, clock: FrozenClock, policy: RegistrationPolicy, event: Event, member: Member
) -> EventOverview:
    async with db.read() as session:
        return await overview_by_code(
            session, public_code=event.public_code, member=member, now=clock(), policy=policy
        )


async def actions(
    db: Database, clock: FrozenClock, policy: RegistrationPolicy, event: Event, member: Member
) -> set[CardAction]:
    return set((await card(db, clock, policy, event, member)).actions)


async def test_not_registered_for_an_open_event(db, clock, policy):
    event = await make_event(db, clock(), capacity=10)
    anna = await make_member(db)
    assert await actions(db, clock, policy, event, anna) == {
        A.ADD_TO_CALENDAR,
        A.REGISTER,
        A.REGISTER_WITH_GUEST,
    }
    # Nobody may bring anyone (the policy): registering alone only.
    alone = replace(policy, max_party_size=1)
    assert await actions(db, clock, alone, event, anna) == {A.ADD_TO_CALENDAR, A.REGISTER}


async def test_a_full_event_offers_the_waitlist(db, clock, policy):
    event = await make_event(db, clock(), capacity=1)
    await register(db, clock, policy, event, await make_member(db, name="Bram"))
    anna = await make_member(db)
    assert await actions(db, clock, policy, event, anna) == {A.ADD_TO_CALENDAR, A.JOIN_WAITLIST}
    # Having cancelled before is the same as never having registered.
    cor = await make_member(db, name="Cor")
    await register(db, clock, policy, event, cor)  # waitlisted
    async with db.transaction() as session:
        await ops.cancel(session, event_id=event.id, member_id=cor.id, now=clock(), policy=policy)
    assert await actions(db, clock, policy, event, cor) == {A.ADD_TO_CALENDAR, A.JOIN_WAITLIST}


async def test_registered_alone_and_with_the_most_people_allowed(db, clock, policy):
    event = await make_event(db, clock(), capacity=10)
    anna, bram = await make_member(db, name="Anna"), await make_member(db, name="Bram")
    await register(db, clock, policy, event, anna)
    await register(db, clock, policy, event, bram, party_size=policy.max_party_size)
    assert await actions(db, clock, policy, event, anna) == {
        A.ADD_TO_CALENDAR,
        A.CANCEL,
        A.BRING_GUEST,
    }
    assert await actions(db, clock, policy, event, bram) == {
        A.ADD_TO_CALENDAR,
        A.CANCEL,
        A.ONE_FEWER,
    }
    # Not offered, and refused by the operation for the same reason.
    async with db.transaction() as session:
        with pytest.raises(PartySizeInvalid):
            await ops.change_party_size(
                session,
                event_id=event.id,
                member_id=bram.id,
                party_size=policy.max_party_size + 1,
                now=clock(),
                policy=policy,
            )


async def test_waitlisted_may_leave_and_in_the_last_call_claim_a_free_seat(db, clock, policy):
    event = await make_event(db, clock(), capacity=2, starts_in=timedelta(days=2))
    anna, bram, cor = [await make_member(db, name=n) for n in ("Anna", "Bram", "Cor")]
    await register(db, clock, policy, event, anna, party_size=2)
    await register(db, clock, policy, event, bram)  # waitlisted, party of 1
    await register(db, clock, policy, event, cor, party_size=2)  # waitlisted, party of 2
    for member in (bram, cor):
        assert await actions(db, clock, policy, event, member) == {
            A.ADD_TO_CALENDAR,
            A.LEAVE_WAITLIST,
        }
    # Close to the start, Anna comes alone: one seat is free for whoever claims it first.
    last_call = FrozenClock(event.starts_at - policy.last_call + timedelta(minutes=5))
    async with db.transaction() as session:
        await ops.change_party_size(
            session,
            event_id=event.id,
            member_id=anna.id,
            party_size=1,
            now=last_call(),
            policy=policy,
        )
    assert await actions(db, last_call, policy, event, bram) == {
        A.ADD_TO_CALENDAR,
        A.LEAVE_WAITLIST,
        A.CLAIM,
    }
    # Cor's party of two does not fit the one seat: no claim for them.
    assert await actions(db, last_call, policy, event, cor) == {
        A.ADD_TO_CALENDAR,
        A.LEAVE_WAITLIST,
    }


async def test_an_offered_seat_is_claimed_or_let_go_until_the_offer_expires(db, clock, policy):
    event = await make_event(db, clock(), capacity=1)
    anna, bram = await make_member(db, name="Anna"), await make_member(db, name="Bram")
    await register(db, clock, policy, event, anna)
    await register(db, clock, policy, event, bram)
    async with db.transaction() as session:
        await ops.cancel(session, event_id=event.id, member_id=anna.id, now=clock(), policy=policy)
    offered = await card(db, clock, policy, event, bram)
    assert offered.status is S.OFFERED and offered.registration is not None
    assert set(offered.actions) == {A.ADD_TO_CALENDAR, A.CLAIM, A.DECLINE}

    # Past its deadline (before the sweep passed it on): no claim, the operation agrees.
    assert offered.registration.offer_expires_at is not None
    expired = FrozenClock(offered.registration.offer_expires_at + timedelta(seconds=1))
    assert await actions(db, expired, policy, event, bram) == {A.ADD_TO_CALENDAR, A.DECLINE}
    async with db.transaction() as session:
        with pytest.raises(OfferExpired):
            await ops.claim_seat(
                session, event_id=event.id, member_id=bram.id, now=expired(), policy=policy
            )


async def test_past_the_deadline_only_cancelling_is_left(db, clock, policy):
    event = await make_event(
        db, clock(), capacity=10, registration_deadline=clock() + timedelta(days=1)
    )
    anna, bram = await make_member(db, name="Anna"), await make_member(db, name="Bram")
    await register(db, clock, policy, event, anna)
    closed = FrozenClock(clock() + timedelta(days=2))
    assert await actions(db, closed, policy, event, anna) == {A.ADD_TO_CALENDAR, A.CANCEL}
    assert await actions(db, closed, policy, event, bram) == {A.ADD_TO_CALENDAR}
    async with db.transaction() as session:
        with pytest.raises(RegistrationClosed):
            await ops.change_party_size(
                session,
                event_id=event.id,
                member_id=anna.id,
                party_size=2,
                now=closed(),
                policy=policy,
            )
    async with db.transaction() as session:
        await ops.cancel(session, event_id=event.id, member_id=anna.id, now=closed(), policy=policy)


async def test_a_cancelled_event_offers_only_the_calendar(db, clock, policy):
    event = await make_event(db, clock(), capacity=10)
    anna, bram = await make_member(db, name="Anna"), await make_member(db, name="Bram")
    await register(db, clock, policy, event, anna)
    async with db.transaction() as session:
        await cancel_event(
            session, event_id=event.id, reason="Zaal niet beschikbaar", actor_id=None, now=clock()
        )
    for member in (anna, bram):
        assert await actions(db, clock, policy, event, member) == {A.ADD_TO_CALENDAR}


async def test_a_started_or_past_event_offers_only_the_calendar(db, clock, policy):
    event = await make_event(db, clock(), capacity=10, starts_in=timedelta(days=1))
    anna, bram = await make_member(db, name="Anna"), await make_member(db, name="Bram")
    await register(db, clock, policy, event, anna)
    for moment in (event.starts_at, event.ends_at + timedelta(days=1)):
        later = FrozenClock(moment)
        for member in (anna, bram):
            assert await actions(db, later, policy, event, member) == {A.ADD_TO_CALENDAR}
        async with db.transaction() as session:
            with pytest.raises(EventStarted):
                await ops.cancel(
                    session, event_id=event.id, member_id=anna.id, now=later(), policy=policy
                )
