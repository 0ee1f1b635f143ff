"""Participation per buurtnetwerk: a small programme with known figures, worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from models.attendance import operations as attendance
from models.attendance.queries import (
    ParticipationReport,
    participation,
    participation_csv,
    period_bounds,
)
from models.clock import FrozenClock
from models.db import Database
from models.errors import NotAllowed
from models.events.entities import Event, EventKind
from models.events.operations import cancel_event
from models.members.entities import Affiliation, Member, Role
from models.members.operations import forget_member
from models.networks.entities import Network
from models.registrations import operations as ops
from models.registrations.policy import RegistrationPolicy
from tests import factories
from tests.factories import make_event, make_member

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
YEAR_2027 = (datetime(2027, 1, 1, tzinfo=AMSTERDAM), datetime(2028, 1, 1, tzinfo=AMSTERDAM))
MC, DIA, UIT, WS = (
    EventKind.MASTERCLASS,
    EventKind.DIALOOG,
    EventKind.UITWISSELING,
    EventKind.WORKSHOP,
)


async def build_programme(
    db: Database, clock: FrozenClock, policy: RegistrationPolicy, organiser: Member
) -> None:
    """Starting 1 March 2027:

    E1 masterclass (+14 days, 4 seats): Anna (Wyck, with 1 guest) attended, Bob (Wyck) no-show,
       Carla (Amby) checked herself in; Dirk (Belfort-Daalhof) stayed on the waitlist.
    E2 dialoog (+30 days, no limit): Eva (raadslid) attended, Gijs (Amby) no-show, Hans (Wyck)
       attended and later asked to be forgotten; Fenna (Mariaberg) registered and cancelled.
    E3 uitwisseling (+45 days, still to come when the report is made): Carla with 1 guest.
    E4 workshop (+20 days): Dirk registered, then the workshop was cancelled.
    E5 masterclass in January 2028 (outside 2027): Anna.
    """
    now = clock()
    e1 = await make_event(db, now, kind=MC, capacity=4, starts_in=timedelta(days=14))
    e2 = await make_event(db, now, kind=DIA, starts_in=timedelta(days=30))
    e3 = await make_event(db, now, kind=UIT, starts_in=timedelta(days=45))
    e4 = await make_event(db, now, kind=WS, starts_in=timedelta(days=20))
    e5 = await make_event(db, now, kind=MC, starts_in=datetime(2028, 1, 15, 18, tzinfo=UTC) - now)
    anna = await make_member(db, name="Anna", network="wyck")
    bob = await make_member(db, name="Bob", network="wyck")
    carla = await make_member(db, name="Carla", network="amby")
    dirk = await make_member(db, name="Dirk", network="belfort-daalhof")
    eva = await make_member(db, name="Eva", network=None, affiliation=Affiliation.RAADSLID)
    fenna = await make_member(db, name="Fenna", network="mariaberg")
    gijs = await make_member(db, name="Gijs", network="amby")
    hans = await make_member(db, name="Hans", network="wyck")

    async def register(event: Event, member: Member, party_size: int = 1) -> int:
        return (await factories.register(db, clock, policy, event, member, party_size)).id

    anna_e1 = await register(e1, anna, 2)
    await register(e1, bob)
    await register(e1, carla)
    await register(e1, dirk)  # full: waitlist
    for member in (eva, gijs, hans, fenna):
        await register(e2, member)
    async with db.transaction() as session:
        await ops.cancel(session, event_id=e2.id, member_id=fenna.id, now=clock(), policy=policy)
    await register(e3, carla, 2)
    await register(e4, dirk)
    await register(e5, anna)
    async with db.transaction() as session:
        await cancel_event(session, event_id=e4.id, actor_id=None, reason="ziek", now=clock())

    async def code(event: Event) -> str:
        async with db.transaction() as session:
            return await attendance.check_in_code(
                session, actor_id=organiser.id, event_id=event.id, now=clock()
            )

    async def check_in(member: Member, typed: str) -> None:
        async with db.transaction() as session:
            await attendance.check_in_self(
                session, member_id=member.id, code=typed, now=clock(), policy=policy
            )

    async def close(event: Event) -> None:
        async with db.transaction() as session:
            await attendance.close_attendance(
                session, actor_id=organiser.id, event_id=event.id, now=clock(), policy=policy
            )

    clock.set(e1.starts_at - timedelta(minutes=20))
    async with db.transaction() as session:
        await attendance.mark_attendance(
            session,
            actor_id=organiser.id,
            event_id=e1.id,
            registration_id=anna_e1,
            attended=True,
            now=clock(),
            policy=policy,
        )
    await check_in(carla, await code(e1))
    clock.set(e1.ends_at)
    await close(e1)

    clock.set(e2.starts_at + timedelta(minutes=10))
    e2_code = await code(e2)
    await check_in(eva, e2_code)
    await check_in(hans, e2_code)
    clock.set(e2.ends_at + timedelta(minutes=5))
    await close(e2)
    async with db.transaction() as session:
        await forget_member(session, member_id=hans.id, now=clock(), policy=policy)
    clock.set(e2.ends_at + timedelta(days=1))


@pytest.fixture
async def organiser(db: Database) -> Member:
    return await make_member(
        db, name="Olga", network=None, affiliation=Affiliation.GEMEENTE, role=Role.ORGANISER
    )


async def report_for(db: Database, organiser: Member, since, until) -> ParticipationReport:  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return await participation(session, actor_id=organiser.id, since=since, until=until)


def figures(report: ParticipationReport) -> dict[str, dict[EventKind, tuple[int, int]]]:
    """{row label: {kind: (registrations, attended)}}, only rows and kinds with something."""
    return {
        row.label(): {
            kind: (f.registrations, f.attended)
            for kind, f in row.by_kind.items()
            if f.registrations or f.attended
        }
        for row in report.rows
        if row.total.registrations
    }


async def test_participation_per_network_and_kind(db, clock, policy, organiser):
    await build_programme(db, clock, policy, organiser)
    report = await report_for(db, organiser, *YEAR_2027)

    # Worked out by hand from the programme (people, party sizes included):
    # Wyck: masterclass Anna 2 (attended) + Bob 1 (no-show); dialoog Hans 1 (attended, forgotten).
    # Amby: masterclass Carla 1 (attended); dialoog Gijs 1 (no-show); uitwisseling Carla 2 (to
    # come). Raadslid: dialoog Eva 1 (attended). Not counted: Dirk's waitlist place, Fenna's
    # cancelled registration, the cancelled workshop, the masterclass of 2028.
    assert figures(report) == {
        "Wyck": {MC: (3, 2), DIA: (1, 1)},
        "Amby": {MC: (1, 1), DIA: (1, 0), UIT: (2, 0)},
        "Raadslid": {DIA: (1, 1)},
    }
    assert dict(report.events) == {MC: 1, DIA: 1, UIT: 1}
    assert report.kinds == [MC, DIA, UIT]
    assert (report.total.registrations, report.total.attended) == (9, 5)
    assert [
        (report.total_for(k).registrations, report.total_for(k).attended) for k in EventKind
    ] == [(4, 3), (3, 2), (2, 0), (0, 0)]
    wyck = next(row for row in report.networks if row.name == "Wyck")
    assert (wyck.total.registrations, wyck.total.attended) == (4, 3)

    async with db.read() as session:
        active = (await session.scalars(select(Network.name).where(Network.active.is_(True)))).all()
    # Every network is in the report, initiatiefgroepen too; all but two took part in nothing.
    assert sorted(row.name or "" for row in report.networks) == sorted(active)
    assert {"Mariaberg", "Heugemerveld"} <= {row.name for row in report.networks}
    assert set(report.networks_without_participation) == set(active) - {"Wyck", "Amby"}
    assert "Belfort-Daalhof" in report.networks_without_participation  # waitlist, cancelled
    assert "Mariaberg" in report.networks_without_participation  # cancelled
    assert [row.label() for row in report.others] == ["Raadslid"]


async def test_other_periods(db, clock, policy, organiser):
    await build_programme(db, clock, policy, organiser)
    # 2026: nothing at all; every network is named.
    report = await report_for(
        db,
        organiser,
        datetime(2026, 1, 1, tzinfo=AMSTERDAM),
        datetime(2027, 1, 1, tzinfo=AMSTERDAM),
    )
    assert figures(report) == {} and report.kinds == []
    assert len(report.networks_without_participation) == len(report.networks)
    # 2028: only Anna's masterclass (to come).
    report = await report_for(
        db,
        organiser,
        datetime(2028, 1, 1, tzinfo=AMSTERDAM),
        datetime(2029, 1, 1, tzinfo=AMSTERDAM),
    )
    assert figures(report) == {"Wyck": {MC: (1, 0)}}


async def test_only_organisers_see_participation(db, clock, policy):
    member = await make_member(db, name="Anna")
    async with db.read() as session:
        with pytest.raises(NotAllowed):
            await participation(session, actor_id=member.id, since=YEAR_2027[0], until=YEAR_2027[1])


async def test_participation_csv(db, clock, policy, organiser):
    await build_programme(db, clock, policy, organiser)
    report = await report_for(db, organiser, *YEAR_2027)
    body = participation_csv(report)
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines[0] == (
        "Netwerk of rol;Soort;Masterclass: aangemeld;Masterclass: aanwezig;"
        "Dialoog met raads- en burgerleden: aangemeld;Dialoog met raads- en burgerleden: aanwezig;"
        "Uitwisseling tussen buurtnetwerken: aangemeld;"
        "Uitwisseling tussen buurtnetwerken: aanwezig;Workshop: aangemeld;Workshop: aanwezig;"
        "Totaal aangemeld;Totaal aanwezig"
    )
    rows = {line.split(";")[0]: line for line in lines[1:] if line}
    assert rows["Wyck"] == "Wyck;buurtnetwerk;3;2;1;1;0;0;0;0;4;3"
    assert rows["Amby"] == "Amby;buurtnetwerk;1;1;1;0;2;0;0;0;4;1"
    assert rows["Mariaberg"] == "Mariaberg;initiatiefgroep;0;0;0;0;0;0;0;0;0;0"
    assert rows["Raadslid"] == "Raadslid;rol;0;0;1;1;0;0;0;0;1;1"
    assert rows["Totaal"] == "Totaal;;4;3;3;2;2;0;0;0;9;5"
    async with db.read() as session:
        networks = await session.scalar(
            select(func.count()).select_from(Network).where(Network.active.is_(True))
        )
    assert len(rows) == int(networks or 0) + 2  # every network, the raadslid row, the total


def test_periods():
    now = datetime(2027, 3, 10, 12, tzinfo=UTC)
    assert period_bounds("year", now, AMSTERDAM) == YEAR_2027
    assert period_bounds("last_year", now, AMSTERDAM) == (
        datetime(2026, 1, 1, tzinfo=AMSTERDAM),
        YEAR_2027[0],
    )
    since, until = period_bounds("12m", now, AMSTERDAM)
    assert until == now and since == datetime(2026, 3, 10, 13, tzinfo=AMSTERDAM)
    leap = datetime(2028, 2, 29, 12, tzinfo=UTC)
    assert period_bounds("12m", leap, AMSTERDAM)[0].date().isoformat() == "2027-02-28"
    # New Year's Eve in Maastricht is already the new year.
    assert period_bounds("year", datetime(2027, 12, 31, 23, 30, tzinfo=UTC), AMSTERDAM) == (
        datetime(2028, 1, 1, tzinfo=AMSTERDAM),
        datetime(2029, 1, 1, tzinfo=AMSTERDAM),
    )
    with pytest.raises(ValueError):
        period_bounds("ooit", now, AMSTERDAM)
