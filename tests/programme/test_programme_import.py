"""Programme files: dry run, import, idempotence, changes and cancellations, export round trips,
ICS with VTIMEZONE, and bad files that name the entry and line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from models.errors import NotAllowed
from models.events.entities import Event, EventKind, EventStatus
from models.events.operations import cancel_event, update_event
from models.members.entities import Role
from models.organisers.entities import AuditEntry
from models.outbox.entities import NotificationKind, OutboxMessage
from models.programme import (
    ProgrammeError,
    apply_import,
    describe_plan,
    export_programme,
    plan_import,
)
from models.programme.toml_schema import toml_moment
from models.registrations import operations as ops
from tests.factories import make_event, make_member, network_id

AMS = ZoneInfo("Europe/Amsterdam")
EXAMPLE = (Path(__file__).resolve().parents[2] / "examples" / "programma.toml").read_text()
# 1 January 2027: the whole example programme is still to come.
NEW_YEAR = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)


async def events_in(db):  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return list((await session.scalars(select(Event).order_by(Event.starts_at))).all())


async def do_import(db, data, now, policy, actor_id=None, filename=None):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        plan = await plan_import(session, data, now, actor_id=actor_id, filename=filename)
        result = await apply_import(session, plan, actor_id=actor_id, now=now, policy=policy)
    return plan, result


async def test_the_example_programme_dry_run_then_import_then_again(db, policy):
    async with db.read() as session:
        plan = await plan_import(session, EXAMPLE, NEW_YEAR)
    assert len(plan.create) == 9 and not plan.change and not plan.cancel
    assert "Omgevingswet: wat betekent dit voor jouw buurt?" in describe_plan(plan)
    assert await events_in(db) == []  # a dry run changes nothing

    organiser = await make_member(db, role=Role.ORGANISER, network=None)
    _, result = await do_import(db, EXAMPLE, NEW_YEAR, policy, actor_id=organiser.id)
    assert result.created == 9
    events = await events_in(db)
    by_uid = {e.source_uid: e for e in events}
    omgevingswet = by_uid["masterclass-2027-1"]
    assert omgevingswet.speakers == "Anhilde de Jong (procesmanager, Gemeente Maastricht)"
    assert omgevingswet.starts_at.astimezone(AMS) == datetime(2027, 2, 11, 19, 30, tzinfo=AMS)
    assert omgevingswet.capacity == 40 and omgevingswet.fair_share_per_network == 3
    assert omgevingswet.description.startswith("Met de Omgevingswet verandert")
    assert "\n" not in omgevingswet.description  # the line-ending backslashes join the lines
    assert by_uid["masterclass-2027-2"].speakers == "Joop Hofman"
    assert by_uid["masterclass-2027-3"].topic_tbd
    assert by_uid["masterclass-2027-3"].ends_at - by_uid["masterclass-2027-3"].starts_at == (
        timedelta(minutes=120)
    )
    assert by_uid["masterclass-2027-4"].status is EventStatus.DRAFT
    assert by_uid["uitwisseling-2027-wyck-jaarplan"].network_id == await network_id(db, "wyck")
    assert by_uid["dialoog-2027-voorjaar"].kind is EventKind.DIALOOG
    assert all(
        e.status is EventStatus.PUBLISHED for e in events if e.source_uid != ("masterclass-2027-4")
    )

    plan, result = await do_import(db, EXAMPLE, NEW_YEAR, policy, actor_id=organiser.id)
    assert not plan.has_changes and len(plan.unchanged) == 9
    assert (result.created, result.changed, result.cancelled) == (0, 0, 0)
    async with db.read() as session:
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert actions.count("event.create") == 9 and actions.count("programme.import") == 2


async def test_changes_are_listed_old_to_new_and_people_hear_of_them(db, policy):
    await do_import(db, EXAMPLE, NEW_YEAR, policy)
    anna = await make_member(db, name="Anna")
    (event,) = [e for e in await events_in(db) if e.source_uid == "masterclass-2027-2"]
    async with db.transaction() as session:
        await ops.register(
            session, event_id=event.id, member_id=anna.id, now=NEW_YEAR, policy=policy
        )
    changed = (
        EXAMPLE.replace("begin = 2027-05-13T19:30:00", "begin = 2027-05-13T20:00:00")
        .replace("einde = 2027-05-13T21:30:00", "einde = 2027-05-13T22:00:00")
        .replace(
            'titel = "Masterclass 4 (2027)"\nonderwerp_nog_open = true',
            'titel = "Wonen en zorg in de buurt"',
        )
        .replace('status = "concept"', 'status = "gepubliceerd"')
    )
    async with db.read() as session:
        plan = await plan_import(session, changed, NEW_YEAR)
    assert not plan.create and not plan.cancel and len(plan.unchanged) == 7
    changes = {p.uid: {c.name: (c.old, c.new) for c in p.changes} for p in plan.change}
    old_start, new_start = changes["masterclass-2027-2"]["starts_at"]
    assert new_start - old_start == timedelta(minutes=30)
    assert set(changes["masterclass-2027-2"]) == {"starts_at", "ends_at"}
    assert changes["masterclass-2027-4"]["title"] == (
        "Masterclass 4 (2027)",
        "Wonen en zorg in de buurt",
    )
    assert changes["masterclass-2027-4"]["status"] == (EventStatus.DRAFT, EventStatus.PUBLISHED)
    # onderwerp_nog_open was left out: it stays as it is.
    assert "topic_tbd" not in changes["masterclass-2027-4"]
    assert "begin" in describe_plan(plan) or "starts_at" in describe_plan(plan)

    _, result = await do_import(db, changed, NEW_YEAR, policy)
    assert result.changed == 2
    assert [n.kind for n in result.notifications] == [NotificationKind.EVENT_CHANGED]
    by_uid = {e.source_uid: e for e in await events_in(db)}
    assert by_uid["masterclass-2027-2"].starts_at.astimezone(AMS).hour == 20
    assert by_uid["masterclass-2027-4"].status is EventStatus.PUBLISHED
    plan, _ = await do_import(db, changed, NEW_YEAR, policy)
    assert not plan.has_changes


async def test_a_file_cancels_only_what_it_marks_cancelled(db, policy):
    await do_import(db, EXAMPLE, NEW_YEAR, policy)
    anna = await make_member(db, name="Anna")
    by_uid = {e.source_uid: e for e in await events_in(db)}
    async with db.transaction() as session:
        await ops.register(
            session,
            event_id=by_uid["dialoog-2027-najaar"].id,
            member_id=anna.id,
            now=NEW_YEAR,
            policy=policy,
        )
    cancellation = """
[[bijeenkomst]]
uid = "dialoog-2027-najaar"
status = "geannuleerd"
reden = "De gemeenteraad vergadert die avond."

[[bijeenkomst]]
uid = "bestaat-niet"
status = "geannuleerd"
"""
    async with db.read() as session:
        plan = await plan_import(session, cancellation, NEW_YEAR)
    assert [p.uid for p in plan.cancel] == ["dialoog-2027-najaar"]
    assert [p.uid for p in plan.skipped] == ["bestaat-niet"]
    _, result = await do_import(db, cancellation, NEW_YEAR, policy)
    assert result.cancelled == 1
    assert [n.kind for n in result.notifications] == [NotificationKind.EVENT_CANCELLED]
    events = await events_in(db)
    cancelled = [e for e in events if e.is_cancelled]
    assert [e.source_uid for e in cancelled] == ["dialoog-2027-najaar"]
    assert cancelled[0].cancel_reason == "De gemeenteraad vergadert die avond."
    assert len(events) == 9  # the rest, not in this file, is left alone

    # The whole example again: nothing changes; a cancelled event is not reopened, also not
    # when the file gives it another evening.
    plan, _ = await do_import(db, EXAMPLE, NEW_YEAR, policy)
    assert not plan.has_changes and not plan.skipped
    moved = EXAMPLE.replace("2027-10-06T19:30", "2027-10-13T19:30").replace(
        "2027-10-06T21:30", "2027-10-13T21:30"
    )
    plan, _ = await do_import(db, moved, NEW_YEAR, policy)
    assert not plan.has_changes
    assert [(p.uid, p.note) for p in plan.skipped] == [
        ("dialoog-2027-najaar", "in Buurtagenda geannuleerd; wordt niet heropend")
    ]


async def test_past_events_are_left_alone(db, policy):
    await do_import(db, EXAMPLE, NEW_YEAR, policy)
    march = datetime(2027, 3, 1, tzinfo=UTC)
    moved = EXAMPLE.replace('locatie = "Stadhuis Maastricht, Markt 78"', 'locatie = "Mosae Forum"')
    async with db.read() as session:
        plan = await plan_import(session, moved, march)
    skipped = {p.uid for p in plan.skipped}
    assert skipped == {"masterclass-2027-1"}  # February is over; the others still move
    assert "masterclass-2027-2" in {p.uid for p in plan.change}


async def test_export_then_import_changes_nothing(db, clock, policy):
    organiser = await make_member(db, role=Role.ORGANISER, network=None)
    await make_event(
        db,
        clock(),
        title='Wat "buurtkracht" is \\ en niet',
        description='Eerste regel\nTweede regel met """ drie aanhalingstekens\n\tingesprongen',
        capacity=12,
        online_url="https://meet.example.org/abc",
    )
    await make_event(db, clock(), starts_in=timedelta(days=20), publish=False, title="Concept")
    await make_event(
        db,
        clock(),
        starts_in=timedelta(days=30),
        kind=EventKind.UITWISSELING,
        title="Alleen Malberg",
        network_id=await network_id(db, "malberg"),
    )
    # In the hour that occurs twice when the clocks go back (31 October 2027, 02:30 CET).
    ambiguous = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    await make_event(db, clock(), starts_in=ambiguous - clock(), title="Nachtwandeling")
    gone = await make_event(db, clock(), starts_in=timedelta(days=40), title="Gaat niet door")
    async with db.transaction() as session:
        await cancel_event(session, event_id=gone.id, actor_id=None, reason="Ziek", now=clock())
    async with db.read() as session:
        text = await export_programme(session, actor_id=organiser.id)
    assert text.count("[[bijeenkomst]]") == 5
    assert "2027-10-31T02:30:00+01:00" in text
    assert 'status = "concept"' in text and 'reden = "Ziek"' in text
    assert 'netwerk = "malberg"' in text
    async with db.read() as session:
        plan = await plan_import(session, text, clock())
    assert not plan.has_changes, describe_plan(plan)
    assert len(plan.unchanged) == 5
    # And once more after applying (nothing), and after a real change elsewhere.
    await do_import(db, text, clock(), policy)
    assert len(await events_in(db)) == 5


async def test_export_is_for_organisers(db):
    member = await make_member(db, name="Bram")
    with pytest.raises(NotAllowed):
        async with db.read() as session:
            await export_programme(session, actor_id=member.id)


async def test_a_member_cannot_import(db, policy):
    member = await make_member(db, name="Bram")
    with pytest.raises(NotAllowed):
        async with db.read() as session:
            await plan_import(session, EXAMPLE, NEW_YEAR, actor_id=member.id)
    async with db.read() as session:
        plan = await plan_import(session, EXAMPLE, NEW_YEAR)
    with pytest.raises(NotAllowed):
        async with db.transaction() as session:
            await apply_import(session, plan, actor_id=member.id, now=NEW_YEAR, policy=policy)
    assert await events_in(db) == []


async def test_a_change_made_in_the_bot_shows_up_in_the_next_import(db, policy):
    await do_import(db, EXAMPLE, NEW_YEAR, policy)
    by_uid = {e.source_uid: e for e in await events_in(db)}
    async with db.transaction() as session:
        await update_event(
            session,
            event_id=by_uid["masterclass-2027-2"].id,
            actor_id=None,
            changes={"capacity": 50},
            now=NEW_YEAR,
            policy=policy,
        )
    async with db.read() as session:
        plan = await plan_import(session, EXAMPLE, NEW_YEAR)
    assert [(p.uid, [(c.name, c.old, c.new) for c in p.changes]) for p in plan.change] == [
        ("masterclass-2027-2", [("capacity", 50, 40)])
    ]


def test_ambiguous_local_times_keep_their_offset():
    assert (
        toml_moment(datetime(2027, 10, 31, 0, 30, tzinfo=UTC), AMS) == "2027-10-31T02:30:00+02:00"
    )
    assert (
        toml_moment(datetime(2027, 10, 31, 1, 30, tzinfo=UTC), AMS) == "2027-10-31T02:30:00+01:00"
    )
    assert toml_moment(datetime(2027, 2, 11, 18, 30, tzinfo=UTC), AMS) == "2027-02-11T19:30:00"


# --- bad files ---------------------------------------------------------------------------------

GOOD_ENTRY = """
[[bijeenkomst]]
uid = "een"
soort = "masterclass"
titel = "Omgevingswet"
begin = 2027-02-11T19:30:00
einde = 2027-02-11T21:30:00
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("versie = 1\n[[bijeenkomst]\nuid = 1\n", "Regel 2, kolom"),
        ("versie = 2\n" + GOOD_ENTRY, "versie 2"),
        ("versie = 1\n", "geen bijeenkomsten"),
        ('tijdzone = "Mars/Olympus"\n' + GOOD_ENTRY, "Onbekende tijdzone „Mars/Olympus”"),
        ('titel = "x"\n' + GOOD_ENTRY, "Onbekende sleutel „titel”"),
        (GOOD_ENTRY + GOOD_ENTRY, "Bijeenkomst 2 (regel 9): de uid „een” staat er twee keer in."),
        (GOOD_ENTRY + 'zaal = "B"\n', "Bijeenkomst 1 (regel 2): onbekend veld „zaal”."),
        (
            GOOD_ENTRY.replace('soort = "masterclass"', 'soort = "lezing"'),
            "onbekende soort „lezing”",
        ),
        (
            GOOD_ENTRY.replace("begin = 2027-02-11T19:30:00", 'begin = "11 februari"'),
            "„begin” moet een datum met tijd zijn",
        ),
        (
            GOOD_ENTRY.replace("begin = 2027-02-11T19:30:00", "begin = 2027-02-11"),
            "„begin” heeft een datum én een tijd nodig",
        ),
        (
            GOOD_ENTRY.replace('uid = "een"\n', ""),
            "Bijeenkomst 1 (regel 2): het veld „uid” ontbreekt.",
        ),
        (GOOD_ENTRY.replace("einde = 2027-02-11T21:30:00", ""), "het veld „einde” ontbreekt"),
        (GOOD_ENTRY + "duur = 90\n", "geef „einde” of „duur”, niet allebei"),
        (GOOD_ENTRY + 'plaatsen = "veel"\n', "„plaatsen” moet een heel getal zijn"),
        (GOOD_ENTRY + 'status = "misschien"\n', "onbekende status „misschien”"),
        (
            GOOD_ENTRY + 'netwerk = "atlantis"\n',
            "Bijeenkomst 1 (regel 2): onbekend buurtnetwerk „atlantis”.",
        ),
        (
            GOOD_ENTRY.replace("einde = 2027-02-11T21:30:00", "einde = 2027-02-11T18:00:00"),
            "Bijeenkomst 1 (regel 2): deze bijeenkomst kan zo niet. Het einde ligt vóór het begin.",
        ),
        (GOOD_ENTRY + 'online = "zoom.us/j/1"\n', "Een online link begint met https://"),
        (b"\xff\xfe\x00b", "geen tekst (UTF-8)"),
    ],
)
async def test_bad_files_say_what_and_where(db, text, expected):
    with pytest.raises(ProgrammeError) as raised:
        async with db.read() as session:
            await plan_import(session, text, NEW_YEAR)
    assert expected in str(raised.value)


async def test_a_bad_file_changes_nothing(db, policy):
    await do_import(db, EXAMPLE, NEW_YEAR, policy)
    broken = EXAMPLE.replace('titel = "ABCD-methodiek en de Burgerbegroting"', 'titel = ""')
    broken = broken.replace("begin = 2027-02-11T19:30:00", "begin = 2027-02-11T20:00:00")
    with pytest.raises(ProgrammeError) as raised:
        async with db.read() as session:
            await plan_import(session, broken, NEW_YEAR)
    assert "Bijeenkomst 2 (regel 72)" in str(raised.value)
    async with db.read() as session:
        count = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert count == 0
    by_uid = {e.source_uid: e for e in await events_in(db)}
    assert by_uid["masterclass-2027-1"].starts_at.astimezone(AMS).hour == 19


async def test_errors_are_translatable_in_parts(db):
    with pytest.raises(ProgrammeError) as raised:
        async with db.read() as session:
            await plan_import(session, GOOD_ENTRY + 'zaal = "B"\n', NEW_YEAR)
    seen = []

    def translate(msgid, **params):  # type: ignore[no-untyped-def]
        seen.append(msgid)
        return "»" + msgid.format(**params)

    rendered = raised.value.render(translate)
    assert seen == ["Bijeenkomst {number} (regel {line})", "onbekend veld „{key}”."]
    assert rendered == "»Bijeenkomst 1 (regel 2): »onbekend veld „zaal”."


# --- the length of texts (models/events/limits.py), refused in the dry run already --------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            f'locatie = "{"x" * 301}"\n',
            "Bijeenkomst 1 (regel 2): deze bijeenkomst kan zo niet. "
            "De plek is te lang (hoogstens 300 tekens).",
        ),
        (
            f'sprekers = "{"x" * 401}"\n',
            "Bijeenkomst 1 (regel 2): deze bijeenkomst kan zo niet. "
            "De tekst over de sprekers is te lang (hoogstens 400 tekens).",
        ),
        (
            f'beschrijving = "{"x" * 4001}"\n',
            "Bijeenkomst 1 (regel 2): deze bijeenkomst kan zo niet. "
            "De beschrijving is te lang (hoogstens 4000 tekens).",
        ),
    ],
)
async def test_an_over_long_text_is_refused_in_a_dry_run_naming_entry_and_field(
    db, extra, expected
):
    with pytest.raises(ProgrammeError) as raised:
        async with db.read() as session:
            await plan_import(session, GOOD_ENTRY + extra, NEW_YEAR)
    assert str(raised.value) == expected
    assert await events_in(db) == []


async def test_an_over_long_place_in_an_ics_file_is_refused(db):
    ics = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//test//test//NL",
            "BEGIN:VEVENT",
            "UID:lang@example.org",
            "SUMMARY:Masterclass Omgevingswet",
            "DTSTART:20270211T183000Z",
            "DTEND:20270211T203000Z",
            "LOCATION:" + "x" * 301,
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    with pytest.raises(ProgrammeError) as raised:
        async with db.read() as session:
            await plan_import(session, ics, NEW_YEAR, filename="programma.ics")
    assert "Bijeenkomst 1 (regel 4): deze bijeenkomst kan zo niet. De plek is te lang" in str(
        raised.value
    )


async def test_a_change_to_an_over_long_place_is_refused_and_nothing_changes(db, policy):
    await do_import(db, GOOD_ENTRY, NEW_YEAR, policy)
    longer = GOOD_ENTRY + f'locatie = "{"x" * 301}"\n'
    with pytest.raises(ProgrammeError, match="De plek is te lang"):
        await do_import(db, longer, NEW_YEAR, policy)
    [event] = await events_in(db)
    assert event.location is None and event.revision == 1


async def test_an_over_long_cancel_reason_is_refused_in_a_dry_run(db, policy):
    await do_import(db, GOOD_ENTRY, NEW_YEAR, policy)
    cancelling = f'[[bijeenkomst]]\nuid = "een"\nstatus = "geannuleerd"\nreden = "{"x" * 1001}"\n'
    with pytest.raises(ProgrammeError) as raised:
        async with db.read() as session:
            await plan_import(session, cancelling, NEW_YEAR)
    assert str(raised.value) == (
        "Bijeenkomst 1 (regel 1): deze bijeenkomst kan zo niet. "
        "De reden is te lang (hoogstens 1000 tekens)."
    )
    [event] = await events_in(db)
    assert event.status is EventStatus.PUBLISHED
