"""Attendee lists, check-in and no-shows, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models.attendance import operations as attendance
from models.attendance import window as windows
from models.attendance.queries import attendee_csv, attendee_list
from models.db import Database
from models.errors import EventCancelled, NotAllowed, NotFound, NotRegistered
from models.events.entities import Event
from models.events.operations import cancel_event
from models.members.entities import Affiliation, Member, Role
from models.members.operations import forget_member
from models.organisers.entities import AuditEntry
from models.registrations import operations as ops
from models.registrations.entities import Registration, RegistrationChange, RegistrationStatus
from tests.factories import make_event, make_member, register

S = RegistrationStatus
HOUR = timedelta(hours=1)


async def status_of(db: Database, registration_id: int) -> RegistrationStatus:
    async with db.read() as session:
        registration = await session.get(Registration, registration_id)
    assert registration is not None
    return registration.status


async def code_for(db: Database, organiser: Member, event: Event, now) -> str:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await attendance.check_in_code(
            session, actor_id=organiser.id, event_id=event.id, now=now
        )


async def self_check_in(db, member, code, now, policy):  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        return await attendance.check_in_self(
            session, member_id=member.id, code=code, now=now, policy=policy
        )


@pytest.fixture
async def organiser(db: Database) -> Member:
    return await make_member(
        db, name="Olga", network=None, affiliation=Affiliation.GEMEENTE, role=Role.ORGANISER
    )


async def test_attendee_list_groups_by_network_with_waitlist_and_totals(
    db, clock, policy, organiser
):
    event = await make_event(db, clock(), capacity=4, title="Omgevingswet")
    anna = await make_member(db, name="anna", network="wyck")
    bob = await make_member(db, name="Bob", network="wyck")
    carla = await make_member(db, name="Carla", network="amby")
    dirk = await make_member(db, name="Dirk", network="belfort-daalhof")
    eva = await make_member(db, name="Eva", network=None, affiliation=Affiliation.RAADSLID)
    frits = await make_member(db, name="Frits", network="wyck")
    await register(db, clock, policy, event, bob)
    await register(db, clock, policy, event, anna, party_size=2)
    await register(db, clock, policy, event, eva)
    await register(db, clock, policy, event, dirk, party_size=2)  # full: waitlist 1
    await register(db, clock, policy, event, carla)  # waitlist 2
    frits_reg = await register(db, clock, policy, event, frits)  # waitlist 3, then cancels
    async with db.transaction() as session:
        await ops.cancel(session, event_id=event.id, member_id=frits.id, now=clock(), policy=policy)
    assert frits_reg.id

    async with db.read() as session:
        listing = await attendee_list(session, actor_id=organiser.id, event_id=event.id)
    assert [(g.label(), [a.name for a in g.attendees]) for g in listing.groups] == [
        ("Wyck", ["anna", "Bob"]),
        ("Raadslid", ["Eva"]),
    ]
    assert [g.people for g in listing.groups] == [3, 1]
    assert [(a.name, a.waitlist_position, a.party_size) for a in listing.waitlist] == [
        ("Dirk", 1, 2),
        ("Carla", 2, 1),
    ]
    totals = listing.totals
    assert (totals.registrations, totals.people, totals.confirmed) == (3, 4, 4)
    assert (totals.attended, totals.no_show, totals.offered) == (0, 0, 0)
    assert (totals.waitlisted, totals.waitlist_registrations, totals.anonymous) == (3, 2, 0)


async def test_only_organisers_see_the_list(db, clock, policy):
    event = await make_event(db, clock(), capacity=4)
    member = await make_member(db, name="Anna")
    async with db.read() as session:
        with pytest.raises(NotAllowed):
            await attendee_list(session, actor_id=member.id, event_id=event.id)
    async with db.transaction() as session:
        with pytest.raises(NotAllowed):
            await attendance.export_attendees(
                session, actor_id=member.id, event_id=event.id, now=clock()
            )


async def test_csv_is_excel_ready_and_translated(db, clock, policy, organiser):
    event = await make_event(db, clock(), capacity=1)
    anna = await make_member(db, name='Anna; de "Buurvrouw"', network="ceramique")
    sneaky = await make_member(db, name='=HYPERLINK("x")', network="wyck")
    await register(db, clock, policy, event, anna, party_size=1)
    await register(db, clock, policy, event, sneaky)  # waitlist
    async with db.transaction() as session:
        listing = await attendance.export_attendees(
            session, actor_id=organiser.id, event_id=event.id, now=clock()
        )
    body = attendee_csv(listing)
    assert body.startswith(b"\xef\xbb\xbf")  # the byte order mark Excel needs for UTF-8
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines == [
        "Naam;Netwerk of rol;Status;Personen;Plek op wachtlijst",
        '"Anna; de ""Buurvrouw""";Céramique;aangemeld;1;',
        '"\'=HYPERLINK(""x"")";Wyck;wachtlijst;1;1',  # not a formula: a leading '
        "",
    ]
    english = {"Naam": "Name", "Status": "Status", "aangemeld": "registered"}
    header = attendee_csv(listing, translate=lambda s: english.get(s, s.upper()))
    first, second = header.decode("utf-8-sig").split("\r\n")[:2]
    assert first == "Name;NETWERK OF ROL;Status;PERSONEN;PLEK OP WACHTLIJST"
    assert second.endswith(";Céramique;registered;1;")
    async with db.read() as session:
        exported = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "attendance.export")
        )
    assert exported is not None and exported.actor_id == organiser.id


async def test_check_in_code_only_while_check_in_is_open(db, clock, policy, organiser):
    event = await make_event(db, clock(), capacity=10, starts_in=timedelta(days=1))
    member = await make_member(db, name="Anna")
    with pytest.raises(attendance.CheckInClosed):
        await code_for(db, organiser, event, clock())
    with pytest.raises(attendance.CheckInClosed):
        await code_for(db, organiser, event, event.starts_at - HOUR - timedelta(seconds=1))
    async with db.transaction() as session:
        with pytest.raises(NotAllowed):
            await attendance.check_in_code(
                session, actor_id=member.id, event_id=event.id, now=event.starts_at
            )
    code = await code_for(db, organiser, event, event.starts_at - HOUR)
    assert len(code) == 4 and set(code) <= set(attendance.CODE_ALPHABET)
    assert not set(code) & set("0O1IL2Z5S8B")
    assert await code_for(db, organiser, event, event.starts_at) == code  # the same for all
    with pytest.raises(attendance.CheckInClosed):
        await code_for(db, organiser, event, event.ends_at)
    async with db.read() as session:
        stored = await session.get(Event, event.id)
        audits = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "event.check_in_code")
            )
        ).all()
    assert stored is not None and stored.check_in_code == code
    assert len(audits) == 1 and audits[0].after == {"check_in_code": code}


async def test_codes_of_events_at_the_same_time_differ(db, clock, policy, organiser, monkeypatch):
    first = await make_event(db, clock(), capacity=10, starts_in=timedelta(days=1))
    second = await make_event(db, clock(), capacity=10, starts_in=timedelta(days=1))
    drawn = iter(["AAAA", "AAAA", "CCCC"])
    monkeypatch.setattr(attendance, "new_check_in_code", lambda: next(drawn))
    assert await code_for(db, organiser, first, first.starts_at) == "AAAA"
    assert await code_for(db, organiser, second, second.starts_at) == "CCCC"


async def test_self_check_in_rules(db, clock, policy, organiser):
    event = await make_event(db, clock(), capacity=1, starts_in=timedelta(days=1))
    anna = await make_member(db, name="Anna")
    bob = await make_member(db, name="Bob")  # waitlisted
    cor = await make_member(db, name="Cor")  # not registered at all
    registration = await register(db, clock, policy, event, anna)
    await register(db, clock, policy, event, bob)
    code = await code_for(db, organiser, event, event.starts_at - HOUR / 2)
    during = event.starts_at + timedelta(minutes=5)

    for typed in ("", "K7P", "K7P2X", "zzzz" if code != "ZZZZ" else "yyyy"):
        with pytest.raises(attendance.WrongCode):
            await self_check_in(db, anna, typed, during, policy)
    with pytest.raises(attendance.CheckInNotYetOpen):
        await self_check_in(db, anna, code, event.starts_at - 2 * HOUR, policy)
    with pytest.raises(attendance.CheckInOver):
        await self_check_in(db, anna, code, event.ends_at, policy)
    with pytest.raises(attendance.NotOnTheList):
        await self_check_in(db, bob, code, during, policy)
    with pytest.raises(attendance.NotOnTheList):
        await self_check_in(db, cor, code, during, policy)
    assert await status_of(db, registration.id) is S.CONFIRMED

    typed = f" {code[:2].lower()} {code[2:]} "  # as people type it
    checked_in, outcome = await self_check_in(db, anna, typed, during, policy)
    assert checked_in.id == event.id and outcome.changed
    assert await status_of(db, registration.id) is S.ATTENDED
    _, again = await self_check_in(db, anna, code, during, policy)
    assert not again.changed
    async with db.read() as session:
        change = await session.scalar(
            select(RegistrationChange)
            .where(RegistrationChange.registration_id == registration.id)
            .order_by(RegistrationChange.id.desc())
        )
    assert change is not None
    assert (change.reason, change.actor_id, change.to_status) == (
        "self_check_in",
        anna.id,
        S.ATTENDED,
    )


async def test_registration_level_self_check_in_refuses_outside_the_window(db, clock, policy):
    event = await make_event(db, clock(), capacity=5, starts_in=timedelta(days=1))
    anna = await make_member(db, name="Anna")
    bob = await make_member(db, name="Bob")
    await register(db, clock, policy, event, anna)
    async with db.transaction() as session:
        with pytest.raises(NotAllowed):
            await ops.check_in_self(
                session, event_id=event.id, member_id=anna.id, now=clock(), policy=policy
            )
    async with db.transaction() as session:
        with pytest.raises(NotRegistered):
            await ops.check_in_self(
                session, event_id=event.id, member_id=bob.id, now=event.starts_at, policy=policy
            )
    async with db.transaction() as session:
        await cancel_event(session, event_id=event.id, actor_id=None, reason="ziek", now=clock())
    async with db.transaction() as session:
        with pytest.raises(EventCancelled):
            await ops.check_in_self(
                session, event_id=event.id, member_id=anna.id, now=event.starts_at, policy=policy
            )


async def test_organiser_taps_and_closing_records_no_shows(db, clock, policy, organiser):
    event = await make_event(db, clock(), capacity=10, starts_in=timedelta(days=1))
    other = await make_event(db, clock(), capacity=10, starts_in=timedelta(days=2))
    anna, bob, cor = [await make_member(db, name=n) for n in ("Anna", "Bob", "Cor")]
    member = await make_member(db, name="Mia")
    r_anna = await register(db, clock, policy, event, anna, party_size=2)
    r_bob = await register(db, clock, policy, event, bob)
    r_cor = await register(db, clock, policy, event, cor)
    r_other = await register(db, clock, policy, other, anna)
    during = event.starts_at + HOUR / 2

    async def tap(registration_id: int, attended: bool, actor: Member = organiser, on=event):  # type: ignore[no-untyped-def]
        async with db.transaction() as session:
            return await attendance.mark_attendance(
                session,
                actor_id=actor.id,
                event_id=on.id,
                registration_id=registration_id,
                attended=attended,
                now=during,
                policy=policy,
            )

    with pytest.raises(NotAllowed):
        await tap(r_anna.id, True, actor=member)
    with pytest.raises(NotFound):
        await tap(r_other.id, True)  # a registration of another event
    await tap(r_anna.id, True)
    await tap(r_bob.id, True)
    await tap(r_bob.id, False)  # a mistake, undone: absent
    assert await status_of(db, r_bob.id) is S.NO_SHOW

    async def close(now, actor: Member = organiser):  # type: ignore[no-untyped-def]
        async with db.transaction() as session:
            return await attendance.close_attendance(
                session, actor_id=actor.id, event_id=event.id, now=now, policy=policy
            )

    with pytest.raises(attendance.NotYetOver):
        await close(during)
    with pytest.raises(NotAllowed):
        await close(event.ends_at, actor=member)
    closed = await close(event.ends_at)
    assert (closed.marked, closed.attended, closed.no_show) == (1, 2, 2)
    assert await status_of(db, r_cor.id) is S.NO_SHOW
    assert await status_of(db, r_other.id) is S.CONFIRMED  # another event: untouched
    again = await close(event.ends_at + HOUR)
    assert (again.marked, again.attended, again.no_show) == (0, 2, 2)
    async with db.read() as session:
        reasons = (
            await session.scalars(
                select(RegistrationChange.reason).where(
                    RegistrationChange.registration_id == r_cor.id
                )
            )
        ).all()
        closes = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "attendance.close"))
        ).all()
        listing = await attendee_list(session, actor_id=organiser.id, event_id=event.id)
    assert list(reasons) == ["registered", "no_show"]
    assert len(closes) == 1 and closes[0].after == {"no_show": [r_cor.id]}
    assert (listing.totals.attended, listing.totals.no_show) == (2, 2)


async def test_forgotten_members_stay_on_the_list_as_anonymous(db, clock, policy, organiser):
    event = await make_event(db, clock(), capacity=10, starts_in=timedelta(days=1))
    anna = await make_member(db, name="Anna", network="amby")
    registration = await register(db, clock, policy, event, anna)
    _, outcome = await self_check_in(
        db, anna, await code_for(db, organiser, event, event.starts_at), event.starts_at, policy
    )
    assert outcome.changed
    async with db.transaction() as session:
        await forget_member(session, member_id=anna.id, now=event.ends_at, policy=policy)
    async with db.read() as session:
        listing = await attendee_list(session, actor_id=organiser.id, event_id=event.id)
    [group] = listing.groups
    assert group.label() == "Amby"
    [attendee] = group.attendees
    assert attendee.anonymous and attendee.registration_id == registration.id
    assert listing.totals.anonymous == 1 and listing.totals.attended == 1
    assert attendee_csv(listing).decode("utf-8-sig").split("\r\n")[1] == (
        "anoniem;Amby;aanwezig;1;"
    )


async def test_the_attendance_window_is_the_domains_and_agrees_with_its_operations(db, clock):  # type: ignore[no-untyped-def]
    """What the bot offers (names, the venue code, closing) is asked of the domain, and the
    domain's operations accept exactly then."""
    event = await make_event(db, clock(), starts_in=timedelta(days=1))
    organiser = await make_member(db, name="Olga", role=Role.ORGANISER)
    before, opening = event.starts_at - 2 * HOUR, event.starts_at - HOUR
    window = windows.attendance_window
    assert window(event, before) == windows.AttendanceWindow(False, False, False)
    assert window(event, opening) == windows.AttendanceWindow(True, True, False)
    assert window(event, event.ends_at) == windows.AttendanceWindow(True, False, True)
    with pytest.raises(attendance.CheckInClosed):
        await code_for(db, organiser, event, before)
    assert await code_for(db, organiser, event, opening)
    with pytest.raises(attendance.NotYetOver):
        attendance.require_over(event, opening)
    attendance.require_over(event, event.ends_at)
    draft = await make_event(db, clock(), starts_in=timedelta(days=1), publish=False)
    assert window(draft, opening) == windows.AttendanceWindow(False, False, False)
