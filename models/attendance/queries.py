"""Attendee lists and participation per buurtnetwerk: read-only views for organisers.

Everything here is for organisers only (``require_organiser``), and reads what the registrations
recorded at the time: the network (or other affiliation) a registration counts for is the one the
member had when registering, so the figures stay right after someone moves or is forgotten.

Texts (CSV headers, statuses, affiliation names) are gettext message ids marked with ``N_``; the
caller passes a ``translate`` function for the organiser's language.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import N_, NotFound
from models.events.entities import Event, EventKind, EventStatus
from models.members.entities import Affiliation, Member
from models.networks.entities import Network, NetworkKind
from models.networks.reference import slugify
from models.organisers.authorisation import require_organiser
from models.registrations.entities import HOLDS_SEATS, Registration, RegistrationStatus

S = RegistrationStatus
Translate = Callable[[str], str]

ANONYMOUS = N_("anoniem")
# Registrations without a network count under the member's role.
AFFILIATION_NAMES: dict[Affiliation | None, str] = {
    Affiliation.BUURTNETWERK: N_("Buurtnetwerk"),
    Affiliation.RAADSLID: N_("Raadslid"),
    Affiliation.BURGERLID: N_("Burgerlid"),
    Affiliation.GEMEENTE: N_("Gemeente"),
    Affiliation.TRAJEKT: N_("Trajekt"),
    Affiliation.BEWONER: N_("Bewoner, zonder netwerk"),
    None: N_("Onbekend"),
}
STATUS_NAMES = {
    S.CONFIRMED: N_("aangemeld"),
    S.OFFERED: N_("plek aangeboden"),
    S.ATTENDED: N_("aanwezig"),
    S.NO_SHOW: N_("niet gekomen"),
    S.WAITLISTED: N_("wachtlijst"),
}
KIND_NAMES = {
    EventKind.MASTERCLASS: N_("Masterclass"),
    EventKind.DIALOOG: N_("Dialoog met raads- en burgerleden"),
    EventKind.UITWISSELING: N_("Uitwisseling tussen buurtnetwerken"),
    EventKind.WORKSHOP: N_("Workshop"),
}
ATTENDEE_CSV_HEADERS = (
    N_("Naam"),
    N_("Netwerk of rol"),
    N_("Status"),
    N_("Personen"),
    N_("Plek op wachtlijst"),
)
# Which events /deelnemers offers: the coming ones, and those of the past few weeks.
RECENT_PAST = timedelta(days=30)


def _same(text: str) -> str:
    return text


# --- the attendee list of one event -----------------------------------------------------------


@dataclass(frozen=True)
class Attendee:
    registration_id: int
    name: str | None  # None: the member asked to be forgotten (shown as "anoniem")
    status: RegistrationStatus
    party_size: int  # the member plus the people they bring
    network_name: str | None
    affiliation: Affiliation | None
    waitlist_position: int | None = None

    @property
    def anonymous(self) -> bool:
        return self.name is None

    @property
    def checked_in(self) -> bool:
        return self.status is S.ATTENDED

    def group_label(self, translate: Translate = _same) -> str:
        return self.network_name or translate(AFFILIATION_NAMES[self.affiliation])


@dataclass(frozen=True)
class AttendeeGroup:
    """The people of one network, or of one role without a network (``network_name`` None)."""

    network_id: int | None
    network_name: str | None
    affiliation: Affiliation | None
    attendees: list[Attendee]

    @property
    def people(self) -> int:
        return sum(a.party_size for a in self.attendees)

    def label(self, translate: Translate = _same) -> str:
        return self.network_name or translate(AFFILIATION_NAMES[self.affiliation])


@dataclass(frozen=True)
class AttendeeTotals:
    """Counts of people (party sizes included), except ``registrations`` and ``anonymous``."""

    registrations: int  # registrations holding a seat (confirmed, offered, attended, no-show)
    people: int  # the people in those registrations
    confirmed: int  # not (yet) checked in
    offered: int
    attended: int
    no_show: int
    waitlisted: int  # people on the waitlist
    waitlist_registrations: int
    anonymous: int  # registrations of forgotten members (seats and waitlist)


@dataclass(frozen=True)
class AttendeeList:
    event: Event
    groups: list[AttendeeGroup]  # networks by name, then the other roles
    waitlist: list[Attendee]  # in queue order
    totals: AttendeeTotals

    @property
    def seated(self) -> list[Attendee]:
        """Everyone holding a seat, in the order of the groups."""
        return [attendee for group in self.groups for attendee in group.attendees]


async def organiser_event(session: AsyncSession, *, actor_id: int, public_code: str) -> Event:
    """The event behind a button or link, for an organiser (checked before anything is looked up,
    so a member learns nothing from a forged button)."""
    await require_organiser(session, actor_id)
    event = await session.scalar(select(Event).where(Event.public_code == public_code))
    if event is None:
        raise NotFound()
    return event


async def attendance_events(
    session: AsyncSession, *, actor_id: int, now: datetime, limit: int = 60
) -> list[Event]:
    """For /deelnemers: published events that ended at most ``RECENT_PAST`` ago or are still to
    come, soonest first."""
    await require_organiser(session, actor_id)
    rows = await session.scalars(
        select(Event)
        .where(
            Event.status == EventStatus.PUBLISHED,
            Event.ends_at > now - RECENT_PAST,
        )
        .order_by(Event.starts_at, Event.id)
        .limit(limit)
    )
    return list(rows.all())


async def attendee_list(session: AsyncSession, *, actor_id: int, event_id: int) -> AttendeeList:
    """Who is coming (or came), grouped by network, and the waitlist; organisers only.

    Seats: confirmed, offered, attended and no-show registrations, grouped by the network the
    registration counts for (else by role), networks by name, names alphabetical within a group
    ("anoniem" last). Cancelled registrations are left out. The waitlist is in queue order.
    """
    await require_organiser(session, actor_id)
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound()
    rows = (
        await session.execute(
            select(Registration, Member.display_name, Network.name)
            .outerjoin(Member, Member.id == Registration.member_id)
            .outerjoin(Network, Network.id == Registration.network_id)
            .where(Registration.event_id == event.id, Registration.status != S.CANCELLED)
            .order_by(Registration.queue_seq)
        )
    ).all()
    grouped: dict[tuple[int | None, Affiliation | None], list[Attendee]] = defaultdict(list)
    names: dict[tuple[int | None, Affiliation | None], str | None] = {}
    waitlist: list[Attendee] = []
    for registration, member_name, network_name in rows:
        affiliation = None if registration.network_id is not None else registration.affiliation
        attendee = Attendee(
            registration_id=registration.id,
            name=member_name,
            status=registration.status,
            party_size=registration.party_size,
            network_name=network_name,
            affiliation=registration.affiliation,
        )
        if registration.status is S.WAITLISTED:
            waitlist.append(_with_position(attendee, len(waitlist) + 1))
            continue
        key = (registration.network_id, affiliation)
        grouped[key].append(attendee)
        names[key] = network_name
    groups = [
        AttendeeGroup(
            network_id=key[0],
            network_name=names[key],
            affiliation=key[1],
            attendees=sorted(attendees, key=_name_order),
        )
        for key, attendees in grouped.items()
    ]
    groups.sort(key=_group_order)
    return AttendeeList(event, groups, waitlist, _totals(groups, waitlist))


def attendee_csv(attendees: AttendeeList, *, translate: Translate = _same) -> bytes:
    """The list as a CSV document that Dutch Excel opens as it should: UTF-8 with a byte order
    mark, ``;`` between fields, a header row in the organiser's language (``translate``)."""
    rows: list[list[str | int]] = [[translate(header) for header in ATTENDEE_CSV_HEADERS]]
    for group in attendees.groups:
        for attendee in group.attendees:
            rows.append(_attendee_row(attendee, group.label(translate), translate))
    for attendee in attendees.waitlist:
        rows.append(_attendee_row(attendee, attendee.group_label(translate), translate))
    return excel_csv(rows)


def _attendee_row(attendee: Attendee, group_label: str, translate: Translate) -> list[str | int]:
    return [
        attendee.name if attendee.name is not None else translate(ANONYMOUS),
        group_label,
        translate(STATUS_NAMES[attendee.status]),
        attendee.party_size,
        attendee.waitlist_position or "",
    ]


def _with_position(attendee: Attendee, position: int) -> Attendee:
    return Attendee(
        registration_id=attendee.registration_id,
        name=attendee.name,
        status=attendee.status,
        party_size=attendee.party_size,
        network_name=attendee.network_name,
        affiliation=attendee.affiliation,
        waitlist_position=position,
    )


def _name_order(attendee: Attendee) -> tuple[bool, str, int]:
    return (attendee.name is None, (attendee.name or "").casefold(), attendee.registration_id)


def _group_order(group: AttendeeGroup) -> tuple[int, str, str]:
    if group.network_name is not None:
        return (0, slugify(group.network_name), "")
    affiliations = list(AFFILIATION_NAMES)
    return (1, "", f"{affiliations.index(group.affiliation):02d}")


def _totals(groups: list[AttendeeGroup], waitlist: list[Attendee]) -> AttendeeTotals:
    seated = [attendee for group in groups for attendee in group.attendees]

    def people(status: RegistrationStatus) -> int:
        return sum(a.party_size for a in seated if a.status is status)

    return AttendeeTotals(
        registrations=len(seated),
        people=sum(a.party_size for a in seated),
        confirmed=people(S.CONFIRMED),
        offered=people(S.OFFERED),
        attended=people(S.ATTENDED),
        no_show=people(S.NO_SHOW),
        waitlisted=sum(a.party_size for a in waitlist),
        waitlist_registrations=len(waitlist),
        anonymous=sum(1 for a in [*seated, *waitlist] if a.anonymous),
    )


# --- participation per buurtnetwerk -------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """``registrations``: people with a seat; ``attended``: people checked in (see below)."""

    registrations: int = 0
    attended: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(self.registrations + other.registrations, self.attended + other.attended)


@dataclass(frozen=True)
class ParticipationRow:
    """One buurtnetwerk (``network_id`` set), or one role without a network."""

    network_id: int | None
    name: str | None  # the network's name; None for a role (see ``affiliation``)
    network_kind: NetworkKind | None
    affiliation: Affiliation | None
    by_kind: Mapping[EventKind, Figures] = field(default_factory=dict)

    @property
    def total(self) -> Figures:
        return sum(self.by_kind.values(), Figures())

    def figures(self, kind: EventKind) -> Figures:
        return self.by_kind.get(kind, Figures())

    def label(self, translate: Translate = _same) -> str:
        return self.name or translate(AFFILIATION_NAMES[self.affiliation])


@dataclass(frozen=True)
class ParticipationReport:
    since: datetime
    until: datetime  # exclusive
    events: Mapping[EventKind, int]  # published events per kind in the period
    networks: list[ParticipationRow]  # every network (also initiatiefgroepen), by name
    others: list[ParticipationRow]  # roles without a network that took part
    networks_without_participation: list[str]  # names of the networks with no registrations

    @property
    def kinds(self) -> list[EventKind]:
        """The kinds of event that took place in the period, in the usual order."""
        return [kind for kind in EventKind if self.events.get(kind)]

    @property
    def rows(self) -> list[ParticipationRow]:
        return [*self.networks, *self.others]

    @property
    def total(self) -> Figures:
        return sum((row.total for row in self.rows), Figures())

    def total_for(self, kind: EventKind) -> Figures:
        return sum((row.figures(kind) for row in self.rows), Figures())


async def participation(
    session: AsyncSession, *, actor_id: int, since: datetime, until: datetime
) -> ParticipationReport:
    """Registrations and attendance per buurtnetwerk and per kind of event; organisers only.

    The figures count **people** (a registration for two counts two) for **published events
    starting in [since, until)**; cancelled events count for nothing.

    - *registrations*: people whose registration holds a seat as it stands now: confirmed,
      offered, attended or no-show. A cancelled registration (the member changed their mind, an
      offer lapsed) does not count, nor a waitlist place that never became a seat: those people
      did not take part. Registrations for events still to come in the period count.
    - *attended*: people whose registration is marked attended (checked in by an organiser or by
      themselves with the code at the venue). Always at most *registrations*.

    A registration counts for the network the member had when registering (also after they moved
    or were forgotten); registrations without a network count under the member's role (raadslid,
    gemeente, ...), in ``others``. ``networks`` lists every active network of the reference data,
    initiatiefgroepen included, also those with nothing (an inactive network only when it has
    figures). ``networks_without_participation`` names the active networks with no registrations
    in the period: the organisers want to reach them.
    """
    await require_organiser(session, actor_id)
    in_period = (
        Event.status == EventStatus.PUBLISHED,
        Event.starts_at >= since,
        Event.starts_at < until,
    )
    events = {
        kind: int(count)
        for kind, count in (
            await session.execute(
                select(Event.kind, func.count()).where(*in_period).group_by(Event.kind)
            )
        ).all()
    }
    rows = (
        await session.execute(
            select(
                Registration.network_id,
                Registration.affiliation,
                Event.kind,
                Registration.status,
                func.sum(Registration.party_size),
            )
            .join(Event, Event.id == Registration.event_id)
            .where(*in_period, Registration.status.in_(HOLDS_SEATS))
            .group_by(
                Registration.network_id, Registration.affiliation, Event.kind, Registration.status
            )
        )
    ).all()
    by_network: dict[int, dict[EventKind, Figures]] = defaultdict(dict)
    by_affiliation: dict[Affiliation | None, dict[EventKind, Figures]] = defaultdict(dict)
    for network_id, affiliation, kind, status, people in rows:
        target = by_network[network_id] if network_id is not None else by_affiliation[affiliation]
        attended = int(people) if status is S.ATTENDED else 0
        target[kind] = target.get(kind, Figures()) + Figures(int(people), attended)
    networks = [
        ParticipationRow(
            network.id, network.name, network.kind, None, by_network.get(network.id, {})
        )
        for network in sorted(
            (await session.scalars(select(Network))).all(), key=lambda n: slugify(n.name)
        )
        if network.active or network.id in by_network
    ]
    order = list(AFFILIATION_NAMES)
    others = [
        ParticipationRow(None, None, None, affiliation, figures)
        for affiliation, figures in sorted(
            by_affiliation.items(), key=lambda item: order.index(item[0])
        )
    ]
    silent = [row.name or "" for row in networks if row.network_id not in by_network]
    return ParticipationReport(since, until, events, networks, others, silent)


def participation_csv(report: ParticipationReport, *, translate: Translate = _same) -> bytes:
    """Every network (also those with nothing) and every role that took part, with the figures
    per kind of event and in total; the same CSV dialect as ``attendee_csv``."""
    header: list[str | int] = [translate(N_("Netwerk of rol")), translate(N_("Soort"))]
    for kind in EventKind:
        name = translate(KIND_NAMES[kind])
        header += [
            translate(N_("{kind}: aangemeld")).format(kind=name),
            translate(N_("{kind}: aanwezig")).format(kind=name),
        ]
    header += [translate(N_("Totaal aangemeld")), translate(N_("Totaal aanwezig"))]
    rows = [header]
    kind_names = {
        NetworkKind.NETWORK: translate(N_("buurtnetwerk")),
        NetworkKind.INITIATIVE: translate(N_("initiatiefgroep")),
    }
    for row in report.rows:
        kind_name = kind_names[row.network_kind] if row.network_kind else translate(N_("rol"))
        line: list[str | int] = [row.label(translate), kind_name]
        for kind in EventKind:
            figures = row.figures(kind)
            line += [figures.registrations, figures.attended]
        line += [row.total.registrations, row.total.attended]
        rows.append(line)
    total: list[str | int] = [translate(N_("Totaal")), ""]
    for kind in EventKind:
        figures = report.total_for(kind)
        total += [figures.registrations, figures.attended]
    total += [report.total.registrations, report.total.attended]
    rows.append(total)
    return excel_csv(rows)


def period_bounds(choice: str, now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The periods organisers choose from, in local time: ``"year"`` (this calendar year, also
    what is still to come), ``"last_year"``, ``"12m"`` (the twelve months up to now)."""
    local = now.astimezone(tz)
    start_of_year = datetime(local.year, 1, 1, tzinfo=tz)
    if choice == "year":
        return start_of_year, datetime(local.year + 1, 1, 1, tzinfo=tz)
    if choice == "last_year":
        return datetime(local.year - 1, 1, 1, tzinfo=tz), start_of_year
    if choice == "12m":
        year, month = (local.year - 1, local.month)
        day = min(local.day, 28) if month == 2 else local.day
        return local.replace(year=year, day=day), now
    raise ValueError(f"unknown period {choice!r}")


def excel_csv(rows: Iterable[Sequence[str | int]]) -> bytes:
    """``;``-separated, CRLF, UTF-8 with a byte order mark: what Excel in Dutch expects. Cells
    that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) get a leading ``'``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([_safe_cell(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


def _safe_cell(cell: str | int) -> str | int:
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return f"'{cell}"
    return cell
