"""The programme: validation, publishing, changes that people hear about, cancellation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models.errors import EventCancelled, InvalidEvent, NotAllowed
from models.events.entities import EventKind, EventStatus
from models.events.operations import (
    EventDraft,
    cancel_event,
    create_event,
    event_by_code,
    publish_event,
    upcoming_events,
    update_event,
)
from models.members.entities import Role
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.registrations import operations as ops
from tests.factories import make_event, make_member, network_id


def draft(now, **overrides):
    start = now + timedelta(days=10)
    fields = {
        "kind": EventKind.MASTERCLASS,
        "title": "ABCD-methodiek en de Burgerbegroting",
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "speakers": "Joop Hofman",
    }
    fields.update(overrides)
    return EventDraft(**fields)


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": "   "},
        {"title": "x" * 201},
        {"ends_in": timedelta(hours=-1)},
        {"starts_in": timedelta(days=-1)},
        {"capacity": 0},
        {"deadline_after_start": True},
        {"fair_share_per_network": 5, "capacity": 3},
        {"online_url": "zoom.us/j/1"},
    ],
)
async def test_impossible_events_are_refused(db, clock, overrides):
    overrides = dict(overrides)
    start = clock() + overrides.pop("starts_in", timedelta(days=10))
    fields = {"starts_at": start, "ends_at": start + overrides.pop("ends_in", timedelta(hours=2))}
    if overrides.pop("deadline_after_start", False):
        fields["registration_deadline"] = start + timedelta(hours=1)
    fields.update(overrides)
    with pytest.raises(InvalidEvent):
        async with db.transaction() as session:
            await create_event(session, draft=draft(clock(), **fields), actor_id=None, now=clock())


async def test_only_organisers_create(db, clock):
    member = await make_member(db)
    with pytest.raises(NotAllowed):
        async with db.transaction() as session:
            await create_event(session, draft=draft(clock()), actor_id=member.id, now=clock())


async def test_draft_then_publish(db, clock):
    organiser = await make_member(db, role=Role.ORGANISER, network=None)
    async with db.transaction() as session:
        event = await create_event(
            session, draft=draft(clock()), actor_id=organiser.id, now=clock()
        )
    assert event.status is EventStatus.DRAFT and len(event.public_code) == 8
    async with db.read() as session:
        assert await upcoming_events(session, now=clock()) == []
    async with db.transaction() as session:
        published = await publish_event(
            session, event_id=event.id, actor_id=organiser.id, now=clock()
        )
    assert published.status is EventStatus.PUBLISHED and published.revision == 2
    async with db.read() as session:
        assert [e.id for e in await upcoming_events(session, now=clock())] == [event.id]
        assert (await event_by_code(session, event.public_code)).id == event.id


async def test_moving_an_event_tells_everyone_in_with_old_and_new(db, clock, policy):
    event = await make_event(db, clock(), capacity=1)
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    async with db.transaction() as session:
        await ops.register(session, event_id=event.id, member_id=a.id, now=clock(), policy=policy)
        await ops.register(session, event_id=event.id, member_id=b.id, now=clock(), policy=policy)
    new_start = event.starts_at + timedelta(days=1)
    async with db.transaction() as session:
        updated, notices = await update_event(
            session,
            event_id=event.id,
            actor_id=None,
            now=clock(),
            policy=policy,
            changes={
                "starts_at": new_start,
                "ends_at": new_start + timedelta(hours=2),
                "location": "Trefcentrum Wyck",
            },
        )
    assert updated.revision == 2
    assert {n.member_id for n in notices} == {a.id, b.id}
    assert notices[0].payload["old"]["location"] == "Stadhuis Maastricht, Markt 78"
    assert notices[0].payload["new"]["location"] == "Trefcentrum Wyck"
    async with db.transaction() as session:  # a change of description alone is no news
        _, quiet = await update_event(
            session,
            event_id=event.id,
            actor_id=None,
            now=clock(),
            policy=policy,
            changes={"description": "Met koffie"},
        )
    assert quiet == []


async def test_raising_capacity_offers_seats_to_the_waitlist(db, clock, policy):
    event = await make_event(db, clock(), capacity=1)
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    async with db.transaction() as session:
        await ops.register(session, event_id=event.id, member_id=a.id, now=clock(), policy=policy)
        await ops.register(session, event_id=event.id, member_id=b.id, now=clock(), policy=policy)
    async with db.transaction() as session:
        _, notices = await update_event(
            session,
            event_id=event.id,
            actor_id=None,
            now=clock(),
            policy=policy,
            changes={"capacity": 2},
        )
    assert [(n.kind, n.member_id) for n in notices] == [(NotificationKind.SEAT_OFFERED, b.id)]


async def test_cancel_tells_everyone_and_stops_reminders(db, clock, policy):
    event = await make_event(db, clock(), capacity=5)
    a = await make_member(db)
    async with db.transaction() as session:
        await ops.register(session, event_id=event.id, member_id=a.id, now=clock(), policy=policy)
        session.add(
            OutboxMessage(
                kind=NotificationKind.REMINDER,
                member_id=a.id,
                event_id=event.id,
                due_at=event.starts_at - timedelta(days=1),
                idempotency_key="r1",
            )
        )
    with pytest.raises(InvalidEvent):
        async with db.transaction() as session:
            await cancel_event(session, event_id=event.id, actor_id=None, reason=" ", now=clock())
    async with db.transaction() as session:
        cancelled, notices = await cancel_event(
            session, event_id=event.id, actor_id=None, reason="De spreker is ziek", now=clock()
        )
    assert cancelled.status is EventStatus.CANCELLED and cancelled.revision == 2
    assert [n.payload["reason"] for n in notices] == ["De spreker is ziek"]
    async with db.read() as session:
        reminder = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == "r1")
        )
        assert reminder is not None and reminder.status is DeliveryStatus.SKIPPED
    with pytest.raises(EventCancelled):
        async with db.transaction() as session:
            await update_event(
                session,
                event_id=event.id,
                actor_id=None,
                now=clock(),
                policy=policy,
                changes={"title": "Toch"},
            )


async def test_network_sessions_show_only_to_that_network(db, clock):
    wyck = await network_id(db, "wyck")
    common = await make_event(db, clock(), title="Masterclass")
    own = await make_event(
        db, clock(), title="Uitwisseling Wyck", kind=EventKind.UITWISSELING, network_id=wyck
    )
    async with db.read() as session:
        assert [e.id for e in await upcoming_events(session, now=clock())] == [common.id]
        assert {e.id for e in await upcoming_events(session, now=clock(), network_id=wyck)} == {
            common.id,
            own.id,
        }


async def test_capacity_cannot_drop_below_the_seats_taken(db, clock, policy):
    event = await make_event(db, clock(), capacity=3)
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    async with db.transaction() as session:
        await ops.register(session, event_id=event.id, member_id=a.id, now=clock(), policy=policy)
        await ops.register(
            session, event_id=event.id, member_id=b.id, now=clock(), policy=policy, party_size=2
        )
    with pytest.raises(InvalidEvent) as refused:
        async with db.transaction() as session:
            await update_event(
                session,
                event_id=event.id,
                actor_id=None,
                now=clock(),
                policy=policy,
                changes={"capacity": 2},
            )
    assert refused.value.params == {"held": 3}
    async with db.transaction() as session:  # exactly the seats taken is fine
        updated, _ = await update_event(
            session,
            event_id=event.id,
            actor_id=None,
            now=clock(),
            policy=policy,
            changes={"capacity": 3},
        )
    assert updated.capacity == 3
