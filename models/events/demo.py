"""A demo programme dated relative to today, for the sandbox and ``buurtagenda seed --demo``.

Taken from the municipality's plan for the collective support (Stand van zaken, 2019): a
masterclass every quarter (the first two topics named in the plan, the others still to be
decided: "Ideeën zijn zeer welkom"), a dialogue with raads- en burgerleden every half year, a
session where networks learn from each other, and a start-up session for new boards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.events.entities import Event, EventKind
from models.events.operations import EventDraft, create_event

STADHUIS = "Stadhuis Maastricht, Markt 78"
CERAMIQUE = "Centre Céramique, Avenue Céramique 50"

MASTERCLASSES = [
    (
        "Omgevingswet: wat betekent dit voor jouw buurt?",
        "Anhilde de Jong (procesmanager, Gemeente Maastricht)",
        "Wat verandert er met de Omgevingswet, en hoe kan jouw buurtnetwerk op tijd meepraten over "
        "plannen in de buurt?",
        False,
    ),
    (
        "ABCD-methodiek en de Burgerbegroting",
        "Joop Hofman",
        "Werken vanuit wat een buurt al heeft (Asset-Based Community Development), en hoe bewoners "
        "via een burgerbegroting mee kunnen beslissen.",
        False,
    ),
    ("Masterclass 3", "", "Het onderwerp wordt nog bepaald. Ideeën zijn zeer welkom!", True),
    ("Masterclass 4", "", "Het onderwerp wordt nog bepaald. Ideeën zijn zeer welkom!", True),
]


@dataclass(frozen=True)
class DemoReport:
    created: int
    existing: int


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _next_weekday(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _at(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def demo_drafts(today: date, tz: ZoneInfo) -> list[EventDraft]:
    """The programme as drafts: pure, so it can be tested and previewed."""
    drafts: list[EventDraft] = []
    # Quarterly masterclasses: the second Thursday of each quarter's middle month, 19:30.
    slots: list[date] = []
    year, quarter = today.year, (today.month - 1) // 3
    while len(slots) < 4:
        day = _nth_weekday(year, quarter * 3 + 2, 3, 2)
        if day > today:
            slots.append(day)
        quarter += 1
        if quarter == 4:
            year, quarter = year + 1, 0
    for day, (title, speakers, description, tbd) in zip(slots, MASTERCLASSES, strict=True):
        start = _at(day, 19, 30, tz)
        drafts.append(
            EventDraft(
                kind=EventKind.MASTERCLASS,
                title=title,
                speakers=speakers,
                description=description,
                topic_tbd=tbd,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                location=STADHUIS,
                capacity=40,
                registration_deadline=start - timedelta(days=2),
                fair_share_per_network=3,
                fair_share_until=start - timedelta(days=7),
            )
        )
    # Half-yearly dialogues: the first Wednesday of April and of October, 19:30.
    dialogues: list[date] = []
    year = today.year
    while len(dialogues) < 2:
        for month in (4, 10):
            day = _nth_weekday(year, month, 2, 1)
            if day > today and len(dialogues) < 2:
                dialogues.append(day)
        year += 1
    for day in dialogues:
        start = _at(day, 19, 30, tz)
        drafts.append(
            EventDraft(
                kind=EventKind.DIALOOG,
                title="Buurtnetwerken in dialoog met raads- en burgerleden",
                description="Hoor als eerste van plannen voor je buurt, en vertel raads- en "
                "burgerleden wat er bij jullie speelt.",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                location=STADHUIS,
                capacity=60,
            )
        )
    exchange = _at(_next_weekday(today + timedelta(days=14), 1), 19, 30, tz)  # a Tuesday
    drafts.append(
        EventDraft(
            kind=EventKind.UITWISSELING,
            title="Van elkaar leren: hoe vind je nieuwe bewoners?",
            description="Buurtnetwerken vertellen elkaar wat werkt om bewoners te betrekken, en "
            "wat niet.",
            starts_at=exchange,
            ends_at=exchange + timedelta(hours=2),
            location=CERAMIQUE,
            capacity=20,
        )
    )
    startup = _at(_next_weekday(today + timedelta(days=7), 3), 19, 0, tz)  # a Thursday
    drafts.append(
        EventDraft(
            kind=EventKind.WORKSHOP,
            title="Opstartsessie voor nieuwe besturen",
            description="Voor nieuwe besturen en bestuursleden, en iedereen die het nog eens wil "
            "horen: Maastricht in Cijfers, het maken van een plan van aanpak, en "
            "subsidiemogelijkheden.",
            starts_at=startup,
            ends_at=startup + timedelta(hours=2, minutes=30),
            location=STADHUIS,
            capacity=25,
        )
    )
    return drafts


async def load_demo_programme(session: AsyncSession, *, now: datetime, tz: ZoneInfo) -> DemoReport:
    """Publish the demo programme; events already there (same title and start) are kept."""
    created = existing = 0
    for draft in demo_drafts(now.astimezone(tz).date(), tz):
        found = await session.scalar(
            select(Event.id).where(Event.title == draft.title, Event.starts_at == draft.starts_at)
        )
        if found is not None:
            existing += 1
            continue
        await create_event(session, draft=draft, actor_id=None, now=now, publish=True)
        created += 1
    return DemoReport(created, existing)
