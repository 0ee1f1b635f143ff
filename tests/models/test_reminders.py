"""Reminders land on the right instants (also across DST), respect quiet hours, and follow
every change: registering, cancelling, moving the event, changing one's preference."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models.events.operations import cancel_event, update_event
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.registrations import operations as ops
from models.reminders.operations import set_reminder_preference
from models.reminders.policy import Offset, ReminderPolicy, ReminderPreference
from tests.factories import make_event, make_member

AMS = ZoneInfo("Europe/Amsterdam")
P = ReminderPreference


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)


def test_day_offsets_keep_the_local_clock_time_across_dst():
    policy = ReminderPolicy()
    # Summer time starts Sunday 28 March 2027; an event on Thursday 1 April at 19:30.
    start = local(2027, 4, 1, 19, 30)
    due = policy.due_times(start, P.DEFAULT, now=local(2027, 3, 1, 9, 0))
    assert due["7d"] == local(2027, 3, 25, 19, 30).astimezone(UTC)  # 18:30 UTC (winter)
    assert due["1d"] == local(2027, 3, 31, 19, 30).astimezone(UTC)  # 17:30 UTC (summer)
    assert due["7d"].hour == 18 and due["1d"].hour == 17
    # ...and back: winter time starts Sunday 31 October 2027.
    autumn = policy.due_times(local(2027, 11, 2, 10, 0), P.DEFAULT, now=local(2027, 10, 1, 9, 0))
    assert autumn["7d"] == datetime(2027, 10, 26, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert autumn["1d"] == datetime(2027, 11, 1, 9, 0, tzinfo=UTC)  # 10:00 CET


def test_hour_offsets_are_exact_durations_across_dst():
    policy = ReminderPolicy()
    start = local(2027, 3, 28, 4, 0)  # two hours before: 01:00 CET, one real hour gone
    due = policy.due_times(start, P.ALSO_2H, now=local(2027, 3, 20, 12, 0))
    assert due["2h"] == start.astimezone(UTC) - timedelta(hours=2)


def test_quiet_hours_move_to_their_end_unless_that_is_after_the_start():
    policy = ReminderPolicy(offsets=(Offset(1, "d"),))
    # Event at 07:30: the day-before reminder would be 07:30, inside 21:30–08:00 -> 08:00.
    due = policy.due_times(local(2027, 5, 12, 7, 30), P.DEFAULT, now=local(2027, 5, 1, 9, 0))
    assert due["1d"] == local(2027, 5, 11, 8, 0).astimezone(UTC)
    # Event at 23:00 with a 2-hour reminder at 21:00: fine, before the quiet hours.
    late = ReminderPolicy(offsets=(Offset(2, "h"),), quiet_start=time(21, 30))
    due = late.due_times(local(2027, 5, 12, 23, 0), P.DEFAULT, now=local(2027, 5, 1, 9, 0))
    assert due["2h"] == local(2027, 5, 12, 21, 0).astimezone(UTC)
    # Event at 01:00 with a 2-hour reminder at 23:00: the end of the quiet hours (08:00) is after
    # the start, so it goes out at 23:00 after all.
    due = late.due_times(local(2027, 5, 13, 1, 0), P.DEFAULT, now=local(2027, 5, 1, 9, 0))
    assert due["2h"] == local(2027, 5, 12, 23, 0).astimezone(UTC)


def test_preferences():
    policy = ReminderPolicy()
    start, now = local(2027, 6, 10, 19, 30), local(2027, 5, 1, 9, 0)
    assert set(policy.due_times(start, P.DEFAULT, now)) == {"7d", "1d"}
    assert set(policy.due_times(start, P.DAY_BEFORE, now)) == {"1d"}
    assert set(policy.due_times(start, P.ALSO_2H, now)) == {"7d", "1d", "2h"}
    assert policy.due_times(start, P.NONE, now) == {}
    # Registered three days before: the 7-day reminder has passed and is left out.
    assert set(policy.due_times(start, P.DEFAULT, start - timedelta(days=3))) == {"1d"}


async def pending(db, kind=NotificationKind.REMINDER) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.kind == kind, OutboxMessage.status == DeliveryStatus.PENDING
                    )
                    .order_by(OutboxMessage.due_at)
                )
            ).all()
        )


async def test_registering_schedules_reminders_and_feedback_cancelling_skips_them(
    db, clock, policy
):
    event = await make_event(db, clock(), capacity=5)
    anna = await make_member(db)
    async with db.transaction() as session:
        await ops.register(
            session, event_id=event.id, member_id=anna.id, now=clock(), policy=policy
        )
    reminders = await pending(db)
    assert [r.due_at for r in reminders] == [
        event.starts_at - timedelta(days=7),
        event.starts_at - timedelta(days=1),
    ]
    feedback = await pending(db, NotificationKind.FEEDBACK_REQUEST)
    assert [f.due_at for f in feedback] == [event.ends_at + timedelta(hours=1)]
    async with db.transaction() as session:
        await ops.cancel(session, event_id=event.id, member_id=anna.id, now=clock(), policy=policy)
    assert await pending(db) == [] and await pending(db, NotificationKind.FEEDBACK_REQUEST) == []
    async with db.transaction() as session:  # registering again brings them back, once
        await ops.register(
            session, event_id=event.id, member_id=anna.id, now=clock(), policy=policy
        )
        await ops.register(
            session, event_id=event.id, member_id=anna.id, now=clock(), policy=policy
        )
    assert len(await pending(db)) == 2


async def test_waitlisted_members_get_reminders_once_confirmed(db, clock, policy):
    event = await make_event(db, clock(), capacity=1)
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    async with db.transaction() as session:
        await ops.register(session, event_id=event.id, member_id=a.id, now=clock(), policy=policy)
        await ops.register(session, event_id=event.id, member_id=b.id, now=clock(), policy=policy)
    assert {r.member_id for r in await pending(db)} == {a.id}
    async with db.transaction() as session:
        await ops.cancel(session, event_id=event.id, member_id=a.id, now=clock(), policy=policy)
        await ops.claim_seat(session, event_id=event.id, member_id=b.id, now=clock(), policy=policy)
    assert {r.member_id for r in await pending(db)} == {b.id}


async def test_moving_the_event_recomputes_pending_reminders(db, clock, policy):
    event = await make_event(db, clock(), capacity=5)
    anna = await make_member(db)
    async with db.transaction() as session:
        await ops.register(
            session, event_id=event.id, member_id=anna.id, now=clock(), policy=policy
        )
    later = event.starts_at + timedelta(days=3)
    async with db.transaction() as session:
        await update_event(
            session,
            event_id=event.id,
            actor_id=None,
            now=clock(),
            policy=policy,
            changes={"starts_at": later, "ends_at": later + timedelta(hours=2)},
        )
    assert [r.due_at for r in await pending(db)] == [
        later - timedelta(days=7),
        later - timedelta(days=1),
    ]
    async with db.transaction() as session:
        await cancel_event(
            session, event_id=event.id, actor_id=None, reason="Zaal dicht", now=clock()
        )
    assert await pending(db) == [] and await pending(db, NotificationKind.FEEDBACK_REQUEST) == []


async def test_changing_ones_preference_recomputes(db, clock, policy):
    event = await make_event(db, clock(), capacity=5)
    anna = await make_member(db)
    async with db.transaction() as session:
        await ops.register(
            session, event_id=event.id, member_id=anna.id, now=clock(), policy=policy
        )
    for preference, count in ((P.NONE, 0), (P.ALSO_2H, 3), (P.DAY_BEFORE, 1), (P.DEFAULT, 2)):
        async with db.transaction() as session:
            await set_reminder_preference(
                session,
                member_id=anna.id,
                preference=preference,
                policy=policy.reminders,
                now=clock(),
            )
        assert len(await pending(db)) == count, preference


async def test_each_new_registration_gets_its_own_reminders(db, clock, policy):
    """Regression: keys were built before the new registration had an id, and collided."""
    first = await make_event(db, clock(), capacity=5, title="Een")
    second = await make_event(db, clock(), capacity=5, title="Twee")
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    async with db.transaction() as session:
        for event, member in ((first, a), (second, b), (first, b)):
            await ops.register(
                session, event_id=event.id, member_id=member.id, now=clock(), policy=policy
            )
    assert len(await pending(db)) == 6
