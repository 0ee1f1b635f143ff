"""Importing an ICS file: VTIMEZONE (also Outlook's Windows zone names), cancellations, drafts,
and what cannot be imported."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from models.events.entities import Event, EventKind, EventStatus
from models.programme import ProgrammeError, apply_import, plan_import

AMS = ZoneInfo("Europe/Amsterdam")
NEW_YEAR = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)

VTIMEZONE = """BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE"""


def calendar(*events: str, timezone: str = VTIMEZONE) -> str:
    body = "\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Gemeente Maastricht//Outlook//NL", timezone]
        + [f"BEGIN:VEVENT\n{event.strip()}\nEND:VEVENT" for event in events]
        + ["END:VCALENDAR"]
    )
    return body.replace("\n", "\r\n")


MASTERCLASS = """UID:040000008200E00074C5B7101A82E008@gemeentemaastricht.nl
SUMMARY:Masterclass: Omgevingswet\\, wat betekent dit voor jouw buurt?
DTSTART;TZID=W. Europe Standard Time:20270211T193000
DTEND;TZID=W. Europe Standard Time:20270211T213000
LOCATION:Stadhuis Maastricht\\, Markt 78
DESCRIPTION:Met Anhilde de Jong.\\nVragen vooraf zijn welkom.
STATUS:CONFIRMED"""

DIALOGUE = """UID:dialoog-voorjaar@trajekt.nl
SUMMARY:Buurtnetwerken in dialoog
CATEGORIES:Dialoog
DTSTART;TZID=Europe/Amsterdam:20270407T193000
DURATION:PT2H
STATUS:TENTATIVE"""

EXCHANGE_UTC = """UID:uitwisseling@trajekt.nl
SUMMARY:Van elkaar leren
X-BUURTAGENDA-KIND:uitwisseling
DTSTART:20270316T183000Z
DTEND:20270316T203000Z
URL:https://meet.example.org/leren"""


async def test_an_outlook_calendar_with_vtimezone(db, policy):
    text = calendar(MASTERCLASS, DIALOGUE, EXCHANGE_UTC)
    async with db.transaction() as session:
        plan = await plan_import(session, text.encode(), NEW_YEAR, filename="agenda.ics")
        assert plan.format == "ics" and len(plan.create) == 3
        await apply_import(session, plan, actor_id=None, now=NEW_YEAR, policy=policy)
    async with db.read() as session:
        events = {e.source_uid: e for e in (await session.scalars(select(Event))).all()}
    masterclass = events["040000008200E00074C5B7101A82E008@gemeentemaastricht.nl"]
    assert masterclass.starts_at.astimezone(AMS) == datetime(2027, 2, 11, 19, 30, tzinfo=AMS)
    assert masterclass.starts_at == datetime(2027, 2, 11, 18, 30, tzinfo=UTC)
    assert masterclass.title == "Masterclass: Omgevingswet, wat betekent dit voor jouw buurt?"
    assert masterclass.kind is EventKind.MASTERCLASS  # from the summary
    assert masterclass.location == "Stadhuis Maastricht, Markt 78"
    assert masterclass.description == "Met Anhilde de Jong.\nVragen vooraf zijn welkom."
    assert masterclass.status is EventStatus.PUBLISHED
    dialogue = events["dialoog-voorjaar@trajekt.nl"]
    assert dialogue.kind is EventKind.DIALOOG and dialogue.status is EventStatus.DRAFT
    assert dialogue.starts_at == datetime(2027, 4, 7, 17, 30, tzinfo=UTC)  # summer time
    assert (dialogue.ends_at - dialogue.starts_at).total_seconds() == 7200
    exchange = events["uitwisseling@trajekt.nl"]
    assert exchange.kind is EventKind.UITWISSELING
    assert exchange.online_url == "https://meet.example.org/leren"

    # The same file again: nothing; then the organisers' calendar cancels the masterclass.
    async with db.read() as session:
        again = await plan_import(session, text, NEW_YEAR)
    assert not again.has_changes and len(again.unchanged) == 3
    cancelled = calendar(MASTERCLASS.replace("STATUS:CONFIRMED", "STATUS:CANCELLED"))
    async with db.transaction() as session:
        plan = await plan_import(session, cancelled, NEW_YEAR)
        assert [p.uid for p in plan.cancel] == [masterclass.source_uid]
        await apply_import(session, plan, actor_id=None, now=NEW_YEAR, policy=policy)
    async with db.read() as session:
        gone = await session.get(Event, masterclass.id)
        assert gone.is_cancelled and gone.cancel_reason
        others = (await session.scalars(select(Event).where(Event.id != masterclass.id))).all()
    assert all(not e.is_cancelled for e in others)


async def test_a_moved_meeting_is_a_change(db, policy):
    async with db.transaction() as session:
        plan = await plan_import(session, calendar(MASTERCLASS), NEW_YEAR)
        await apply_import(session, plan, actor_id=None, now=NEW_YEAR, policy=policy)
    moved = calendar(
        MASTERCLASS.replace("20270211T193000", "20270218T193000").replace(
            "20270211T213000", "20270218T213000"
        )
    )
    async with db.read() as session:
        plan = await plan_import(session, moved, NEW_YEAR)
    ((planned,),) = [plan.change]
    assert {c.name for c in planned.changes} == {"starts_at", "ends_at"}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (MASTERCLASS + "\nRRULE:FREQ=MONTHLY", "Bijeenkomst 1 (regel 19): herhalende afspraken"),
        (
            MASTERCLASS.replace(
                "DTSTART;TZID=W. Europe Standard Time:20270211T193000",
                "DTSTART;VALUE=DATE:20270211",
            ),
            "geen hele dag",
        ),
        ("SUMMARY:Zonder uid\nDTSTART:20270211T183000Z", "het veld „UID” ontbreekt"),
        ("UID:x\nSUMMARY:Zonder begin", "het veld „DTSTART” ontbreekt"),
    ],
)
async def test_what_an_ics_file_cannot_hold(db, event, expected):
    with pytest.raises(ProgrammeError) as raised:
        async with db.read() as session:
            await plan_import(session, calendar(event), NEW_YEAR, filename="x.ics")
    assert expected in str(raised.value)


async def test_not_a_calendar(db):
    with pytest.raises(ProgrammeError) as raised:
        async with db.read() as session:
            await plan_import(session, "BEGIN:VCALENDAR\nrommel\n", NEW_YEAR, filename="x.ics")
    assert "agendabestand (ICS)" in str(raised.value)
    with pytest.raises(ProgrammeError) as raised:
        async with db.read() as session:
            await plan_import(session, calendar(), NEW_YEAR, filename="x.ics")
    assert "geen bijeenkomsten" in str(raised.value)
