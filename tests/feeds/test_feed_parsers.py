"""The feeds read back by independent parsers: vobject (validating), Home Assistant's ``ical``,
``ics``, dateutil and libical (strict); events around the DST changes land on the right UTC
instants."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import ics
import pytest
import vobject
from dateutil import tz as dateutil_tz
from ical.calendar_stream import IcsCalendarStream

from calendars.ical import render_calendar
from models.events.operations import cancel_event
from models.feeds import operations as tokens
from models.registrations import operations as registrations
from tests.factories import make_event, make_member, network_id
from tests.feeds.calendar_items import SETTINGS, item
from tests.feeds.helpers import make_app
from tests.feeds.libical import libical_problems

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Around the changes of 2027: 28 March 01:00 UTC (to CEST) and 31 October 01:00 UTC (to CET).
INSTANTS = [
    datetime(2027, 3, 28, 0, 30, tzinfo=UTC),  # 01:30 CET, just before
    datetime(2027, 3, 28, 1, 30, tzinfo=UTC),  # 03:30 CEST, just after
    datetime(2027, 3, 27, 23, 0, tzinfo=UTC),  # spans the change
    datetime(2027, 10, 31, 0, 30, tzinfo=UTC),  # 02:30 CEST, the first 02:30
    datetime(2027, 10, 31, 1, 30, tzinfo=UTC),  # 02:30 CET, the second 02:30
    datetime(2027, 10, 30, 18, 0, tzinfo=UTC),  # 20:00 CEST the day before
    datetime(2027, 11, 1, 18, 0, tzinfo=UTC),  # 19:00 CET the day after
]


async def fetch(app, path: str) -> str:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get(path)
    assert response.status_code == 200
    return response.text


def parsed_by_all(text: str) -> dict[str, dict[str, tuple[datetime, datetime, str]]]:
    """uid -> (start in UTC, end in UTC, status), as each parser understood it."""
    results: dict[str, dict[str, tuple[datetime, datetime, str]]] = {}
    calendar = vobject.readOne(text, validate=True)
    results["vobject"] = {
        e.uid.value: (
            e.dtstart.value.astimezone(UTC),
            e.dtend.value.astimezone(UTC),
            e.status.value,
        )
        for e in calendar.vevent_list
    }
    stream = IcsCalendarStream.calendar_from_ics(text)
    results["ical"] = {
        e.uid: (e.dtstart.astimezone(UTC), e.dtend.astimezone(UTC), str(e.status.value))
        for e in stream.events
    }
    results["ics"] = {
        e.uid: (e.begin.datetime.astimezone(UTC), e.end.datetime.astimezone(UTC), e.status)
        for e in ics.Calendar(text).events
    }
    return results


async def test_all_parsers_read_the_agenda_feed_with_exact_instants(sqlite_db, clock):
    events = []
    for number, start in enumerate(INSTANTS):
        events.append(
            await make_event(
                sqlite_db,
                clock(),
                starts_in=start - clock(),
                title=f"Bijeenkomst {number}: café-overleg over de Maas 👋",
                description="Ëën lange beschrijving; met komma's, puntkomma's\nen regels. " * 5,
            )
        )
    async with sqlite_db.transaction() as session:
        await cancel_event(
            session, event_id=events[0].id, actor_id=None, reason="Storm", now=clock()
        )
    text = await fetch(make_app(sqlite_db, clock), "/agenda.ics")
    for parser, found in parsed_by_all(text).items():
        assert len(found) == len(INSTANTS), parser
        for event, start in zip(events, INSTANTS, strict=True):
            uid = event.feed_uid
            status = "CANCELLED" if event is events[0] else "CONFIRMED"
            assert found[uid] == (start, start + timedelta(hours=2), status), (parser, uid)
    assert "SUMMARY:GEANNULEERD: Bijeenkomst 0" in text.replace("\r\n ", "")


async def test_all_parsers_read_a_personal_feed(sqlite_db, clock, policy):
    anna, ben = await make_member(sqlite_db, name="Anna"), await make_member(sqlite_db, name="Ben")
    full = await make_event(sqlite_db, clock(), capacity=1)
    async with sqlite_db.transaction() as session:
        for member in (anna, ben):
            await registrations.register(
                session, event_id=full.id, member_id=member.id, now=clock(), policy=policy
            )
        plain = (await tokens.feed_token_for(session, member_id=ben.id, now=clock())).plain
    text = await fetch(make_app(sqlite_db, clock), f"/feed/{plain}.ics")
    for parser, found in parsed_by_all(text).items():
        assert [status for _, _, status in found.values()] == ["TENTATIVE"], parser
    summary = vobject.readOne(text).vevent.summary.value
    assert summary.startswith("[wachtlijst] ")


@pytest.mark.parametrize("year", [2026, 2027, 2030, 2037])
def test_the_vtimezone_agrees_with_the_tz_database(year):
    text = render_calendar([item()], name="x", settings=SETTINGS).decode()
    from_vobject = vobject.readOne(text).vtimezone.gettzinfo()
    from_dateutil = dateutil_tz.tzical(io.StringIO(text)).get("Europe/Amsterdam")
    moment = datetime(year, 1, 1, tzinfo=UTC)
    while moment.year == year:  # every 30 minutes around the changes, daily otherwise
        local = moment.astimezone(AMSTERDAM)
        for tzinfo in (from_vobject, from_dateutil):
            assert moment.astimezone(tzinfo).utcoffset() == local.utcoffset(), (tzinfo, moment)
        near_change = moment.month in (3, 10) and moment.day >= 24
        moment += timedelta(minutes=30) if near_change else timedelta(days=1)


# --- libical, the strictest of them ------------------------------------------------------------


async def test_libical_accepts_every_feed_and_document(sqlite_db, clock, policy):
    """Each kind of document the service serves, with each kind of event in it, passes libical's
    parser and its restriction check (RFC 5545's cardinalities; iTIP's rules if a METHOD said
    the feed were a scheduling message)."""
    anna, ben = await make_member(sqlite_db, name="Anna"), await make_member(sqlite_db, name="Ben")
    full = await make_event(sqlite_db, clock(), capacity=1, title="Vol")
    online = await make_event(
        sqlite_db,
        clock(),
        starts_in=timedelta(days=3),
        location=None,
        online_url="https://meet.example.nl/buurt",
        network_id=await network_id(sqlite_db, "wyck"),
    )
    called_off = await make_event(sqlite_db, clock(), starts_in=timedelta(days=5))
    async with sqlite_db.transaction() as session:
        for member in (anna, ben):
            await registrations.register(
                session, event_id=full.id, member_id=member.id, now=clock(), policy=policy
            )
        await registrations.register(
            session, event_id=called_off.id, member_id=ben.id, now=clock(), policy=policy
        )
        await cancel_event(
            session, event_id=called_off.id, actor_id=None, reason="Storm", now=clock()
        )
        plain = (await tokens.feed_token_for(session, member_id=ben.id, now=clock())).plain
    app = make_app(sqlite_db, clock)
    paths = ["/agenda.ics", "/netwerk/wyck.ics", f"/feed/{plain}.ics"]
    paths += [f"/event/{event.id}.ics" for event in (full, online, called_off)]
    for path in paths:
        body = (await fetch(app, path)).encode()
        assert "BEGIN:VEVENT" in body.decode(), path
        assert libical_problems(body) == [], path
    for lang in ("nl", "en"):
        body = render_calendar(
            [item(1), item(2, online_url="https://x.example", location=None)],
            name="x",
            settings=SETTINGS,
            lang=lang,
        )
        assert libical_problems(body) == []


def test_libical_refuses_a_publish_without_organizer():
    """The check has teeth: the feeds as they were (METHOD:PUBLISH, no ORGANIZER) fail it."""
    body = render_calendar([item()], name="x", settings=SETTINGS)
    assert libical_problems(body) == []
    publish = body.replace(b"CALSCALE:GREGORIAN\r\n", b"CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n")
    problems = libical_problems(publish)
    assert problems and "ORGANIZER" in " ".join(problems)
