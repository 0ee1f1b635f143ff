"""What a member may rate on their own (/feedback): the events they came to that are over."""

from __future__ import annotations

from datetime import timedelta

from models.events.operations import cancel_event
from models.feedback.operations import events_to_rate, record_rating
from models.registrations import operations as registrations
from tests.factories import make_event, make_member, register


async def test_the_events_a_member_came_to_most_recent_first(db, clock, policy):
    anna, ben = await make_member(db, name="Anna"), await make_member(db, name="Ben")
    first = await make_event(db, clock(), title="Eerste", starts_in=timedelta(days=1))
    second = await make_event(db, clock(), title="Tweede", starts_in=timedelta(days=2))
    cancelled_seat = await make_event(db, clock(), title="Afgemeld", starts_in=timedelta(days=3))
    not_going_on = await make_event(db, clock(), title="Geannuleerd", starts_in=timedelta(days=3))
    coming = await make_event(db, clock(), title="Later", starts_in=timedelta(days=30))
    await make_event(db, clock(), title="Niet aangemeld", starts_in=timedelta(days=1))
    for event in (first, second, cancelled_seat, not_going_on, coming):
        await register(db, clock, policy, event, anna)
    await register(db, clock, policy, first, ben)
    async with db.transaction() as session:
        await registrations.cancel(
            session, event_id=cancelled_seat.id, member_id=anna.id, now=clock(), policy=policy
        )
        await cancel_event(
            session, event_id=not_going_on.id, actor_id=None, reason="ziek", now=clock()
        )
    clock.advance(timedelta(days=5))
    async with db.transaction() as session:
        await record_rating(session, event_id=first.id, member_id=anna.id, rating=5, now=clock())
        await record_rating(session, event_id=first.id, member_id=ben.id, rating=1, now=clock())
    async with db.read() as session:
        to_rate = await events_to_rate(
            session, member_id=anna.id, now=clock(), since=clock() - timedelta(days=365)
        )
        nothing_yet = await events_to_rate(
            session, member_id=anna.id, now=clock(), since=clock() - timedelta(days=1)
        )
    assert [(item.event.title, item.rating) for item in to_rate] == [
        ("Tweede", None),
        ("Eerste", 5),  # Ben's rating is not hers
    ]
    assert nothing_yet == []
