"""Series: a year of masterclasses or dialogues at once, and moving one or all of them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from models.errors import EventStarted, InvalidEvent, NotAllowed, NotFound
from models.events.entities import Cadence, Event, EventKind, EventStatus, Series
from models.events.series import (
    SeriesExists,
    SeriesInvalid,
    create_series,
    series_dates,
    series_events,
    update_series,
)
from models.members.entities import Role
from models.organisers.entities import AuditEntry
from models.outbox.entities import NotificationKind
from models.registrations import operations as ops
from tests.factories import make_member

AMS = ZoneInfo("Europe/Amsterdam")


def test_the_dates_of_a_year():
    assert series_dates(Cadence.QUARTERLY, 2027) == [
        date(2027, 2, 11),
        date(2027, 5, 13),
        date(2027, 8, 12),
        date(2027, 11, 11),
    ]
    assert all(day.weekday() == 3 for day in series_dates(Cadence.QUARTERLY, 2028))
    assert series_dates(Cadence.HALF_YEARLY, 2027) == [date(2027, 4, 7), date(2027, 10, 6)]


async def test_a_quarterly_series_skips_the_dates_already_past(db, clock):
    # T0 is 1 March 2027: the February masterclass is past.
    organiser = await make_member(db, role=Role.ORGANISER, network=None)
    async with db.transaction() as session:
        series = await create_series(
            session,
            actor_id=organiser.id,
            kind=EventKind.MASTERCLASS,
            cadence=Cadence.QUARTERLY,
            year=2027,
            location="Stadhuis Maastricht, Markt 78",
            capacity=40,
            now=clock(),
            publish=True,
        )
    async with db.read() as session:
        events = await series_events(session, series.id)
    assert [e.title for e in events] == [
        "Masterclass 2 (2027)",
        "Masterclass 3 (2027)",
        "Masterclass 4 (2027)",
    ]
    first = events[0]
    assert first.starts_at.astimezone(AMS) == datetime(2027, 5, 13, 19, 30, tzinfo=AMS)
    assert first.ends_at - first.starts_at == timedelta(hours=2)
    assert all(e.topic_tbd and e.status is EventStatus.PUBLISHED for e in events)
    assert all(e.capacity == 40 and e.location.startswith("Stadhuis") for e in events)
    # Winter time stays 19:30 local too.
    assert events[-1].starts_at.astimezone(AMS).strftime("%H:%M") == "19:30"
    assert events[-1].starts_at.utcoffset() == timedelta(0)  # stored as UTC
    async with db.read() as session:
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert actions == ["event.create"] * 3 + ["series.create"]


async def test_half_yearly_dialogues_as_drafts(db, clock):
    organiser = await make_member(db, role=Role.ORGANISER, network=None)
    async with db.transaction() as session:
        series = await create_series(
            session,
            actor_id=organiser.id,
            kind=EventKind.DIALOOG,
            cadence=Cadence.HALF_YEARLY,
            year=2028,
            local_time="20:00",
            duration_minutes=90,
            now=clock(),
        )
    async with db.read() as session:
        events = await series_events(session, series.id)
    assert len(events) == 2 and all(e.status is EventStatus.DRAFT for e in events)
    assert events[0].title == "Dialoog met raads- en burgerleden 1 (2028)"
    assert events[0].starts_at.astimezone(AMS) == datetime(2028, 4, 5, 20, 0, tzinfo=AMS)
    assert events[0].ends_at - events[0].starts_at == timedelta(minutes=90)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"local_time": "7:30pm"}, SeriesInvalid),
        ({"duration_minutes": 5}, SeriesInvalid),
        ({"year": 2040}, SeriesInvalid),
        ({"year": 2026}, SeriesInvalid),
        ({"capacity": 0}, InvalidEvent),
    ],
)
async def test_impossible_series_are_refused(db, clock, fields, error):
    organiser = await make_member(db, role=Role.ORGANISER, network=None)
    arguments = {
        "kind": EventKind.MASTERCLASS,
        "cadence": Cadence.QUARTERLY,
        "year": 2027,
        **fields,
    }
    with pytest.raises(error):
        async with db.transaction() as session:
            await create_series(session, actor_id=organiser.id, now=clock(), **arguments)
    async with db.read() as session:
        assert (await session.scalars(select(Event))).all() == []


async def test_a_series_of_a_year_whose_dates_are_all_past_is_refused(db):
    organiser = await make_member(db, role=Role.ORGANISER, network=None)
    december = datetime(2027, 12, 1, tzinfo=UTC)
    with pytest.raises(SeriesInvalid):
        async with db.transaction() as session:
            await create_series(
                session,
                actor_id=organiser.id,
                kind=EventKind.MASTERCLASS,
                cadence=Cadence.QUARTERLY,
                year=2027,
                now=december,
            )


async def test_only_organisers_and_no_duplicates(db, clock):
    member = await make_member(db, name="Bram")
    organiser = await make_member(db, role=Role.ORGANISER, network=None)
    arguments = {"kind": EventKind.MASTERCLASS, "cadence": Cadence.QUARTERLY, "year": 2027}
    with pytest.raises(NotAllowed):
        async with db.transaction() as session:
            await create_series(session, actor_id=member.id, now=clock(), **arguments)
    async with db.transaction() as session:
        await create_series(session, actor_id=organiser.id, now=clock(), **arguments)
    with pytest.raises(SeriesExists):
        async with db.transaction() as session:
            await create_series(session, actor_id=organiser.id, now=clock(), **arguments)


async def make_series(db, clock, organiser):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        series = await create_series(
            session,
            actor_id=organiser.id,
            kind=EventKind.MASTERCLASS,
            cadence=Cadence.QUARTERLY,
            year=2027,
            location="Stadhuis Maastricht, Markt 78",
            now=clock(),
            publish=True,
        )
    async with db.read() as session:
        return series, await series_events(session, series.id)


async def test_moving_all_coming_events_tells_who_is_registered(db, clock, policy):
    organiser = await make_member(db, role=Role.ORGANISER, network=None)
    anna = await make_member(db, name="Anna")
    series, events = await make_series(db, clock, organiser)
    async with db.transaction() as session:
        await ops.register(
            session, event_id=events[1].id, member_id=anna.id, now=clock(), policy=policy
        )
    clock.set(events[0].ends_at + timedelta(days=1))  # the May one is past
    async with db.transaction() as session:
        result = await update_series(
            session,
            actor_id=organiser.id,
            series_id=series.id,
            changes={"local_time": "20:00", "location": "Centre Céramique"},
            apply_to="all",
            now=clock(),
            policy=policy,
        )
    assert [e.id for e in result.events] == [events[1].id, events[2].id]
    assert [n.kind for n in result.notifications] == [NotificationKind.EVENT_CHANGED]
    async with db.read() as session:
        moved = await series_events(session, series.id)
        stored = await session.get(Series, series.id)
    assert moved[0].starts_at.astimezone(AMS).strftime("%H:%M") == "19:30"  # past: untouched
    for event in moved[1:]:
        local = event.starts_at.astimezone(AMS)
        assert local.strftime("%H:%M") == "20:00" and local.weekday() == 3
        assert event.ends_at - event.starts_at == timedelta(hours=2)
        assert event.location == "Centre Céramique"
    assert stored.local_time == "20:00" and stored.location == "Centre Céramique"
    async with db.read() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "series.update"))
    assert entry.before == {"local_time": "19:30", "location": "Stadhuis Maastricht, Markt 78"}
    assert entry.after["apply_to"] == "all"


async def test_moving_one_event_to_another_day(db, clock, policy):
    organiser = await make_member(db, role=Role.ORGANISER, network=None)
    series, events = await make_series(db, clock, organiser)
    target = events[1]
    async with db.transaction() as session:
        result = await update_series(
            session,
            actor_id=organiser.id,
            series_id=series.id,
            changes={"date": date(2027, 8, 19), "duration_minutes": 150},
            apply_to="one",
            event_id=target.id,
            now=clock(),
            policy=policy,
        )
    (moved,) = result.events
    assert moved.starts_at.astimezone(AMS) == datetime(2027, 8, 19, 19, 30, tzinfo=AMS)
    assert moved.ends_at - moved.starts_at == timedelta(minutes=150)
    async with db.read() as session:
        others = [e for e in await series_events(session, series.id) if e.id != target.id]
        stored = await session.get(Series, series.id)
    assert all(
        e.starts_at == o.starts_at for e, o in zip(others, [events[0], events[2]], strict=True)
    )
    assert stored.duration_minutes == 120  # the series' default is unchanged


async def test_update_refusals(db, clock, policy):
    organiser = await make_member(db, role=Role.ORGANISER, network=None)
    member = await make_member(db, name="Bram")
    series, events = await make_series(db, clock, organiser)

    async def attempt(actor_id=organiser.id, **kwargs):  # type: ignore[no-untyped-def]
        arguments = {
            "series_id": series.id,
            "changes": {"local_time": "20:00"},
            "apply_to": "one",
            "event_id": events[0].id,
            **kwargs,
        }
        async with db.transaction() as session:
            await update_series(session, actor_id=actor_id, now=clock(), policy=policy, **arguments)

    with pytest.raises(NotAllowed):
        await attempt(actor_id=member.id)
    with pytest.raises(InvalidEvent):
        await attempt(changes={"title": "x"})
    with pytest.raises(InvalidEvent):  # a new date is for one event only
        await attempt(changes={"date": date(2027, 6, 1)}, apply_to="all", event_id=None)
    with pytest.raises(SeriesInvalid):
        await attempt(changes={"local_time": "25:00"})
    with pytest.raises(NotFound):
        await attempt(event_id=None)
    with pytest.raises(NotFound):
        await attempt(series_id=series.id + 1)
    clock.set(events[0].starts_at + timedelta(minutes=1))
    with pytest.raises(EventStarted):
        await attempt()
