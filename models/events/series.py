"""Series: the year's masterclasses (every quarter) or dialogues (every half year) in one go.

``create_series`` makes the dated events of a year, each a placeholder ("Masterclass 2 (2027)",
topic still to be decided) that organisers fill in later:

- quarterly: the second Thursday of the middle month of each quarter (February, May, August,
  November);
- half-yearly: the first Wednesday of April and of October.

Dates already past are skipped. ``update_series`` moves one event or all coming events of the
series to another time or place; it goes through ``update_event``, so everyone registered hears
of it and their reminders move along.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import N_, DomainError, EventStarted, InvalidEvent, NotFound
from models.events.entities import Cadence, Event, EventKind, EventStatus, Series
from models.events.limits import check_length
from models.events.operations import EventDraft, check_changeable, create_event, update_event
from models.organisers import audit
from models.organisers.authorisation import require_organiser
from models.outbox.entities import OutboxMessage
from models.registrations.policy import RegistrationPolicy
from models.reminders.policy import AMSTERDAM

MONDAY, TUESDAY, WEDNESDAY, THURSDAY = range(4)
# (month, weekday, n): the n-th such weekday of the month.
SLOTS: dict[Cadence, tuple[tuple[int, int, int], ...]] = {
    Cadence.QUARTERLY: ((2, THURSDAY, 2), (5, THURSDAY, 2), (8, THURSDAY, 2), (11, THURSDAY, 2)),
    Cadence.HALF_YEARLY: ((4, WEDNESDAY, 1), (10, WEDNESDAY, 1)),
}
# Event titles are data (Dutch, as the programme is); organisers replace them with the topic.
TITLES = {
    EventKind.MASTERCLASS: "Masterclass",
    EventKind.DIALOOG: "Dialoog met raads- en burgerleden",
    EventKind.UITWISSELING: "Uitwisseling",
    EventKind.WORKSHOP: "Workshop",
}
SERIES_FIELDS = (
    "title",
    "kind",
    "cadence",
    "local_time",
    "duration_minutes",
    "location",
    "capacity",
)
CHANGEABLE = {"local_time", "duration_minutes", "location", "capacity"}
YEARS_AHEAD = 5
DURATION_MINUTES = (15, 12 * 60)
_LOCAL_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class SeriesExists(DomainError):
    message = N_("Er is al een reeks „{title}”.")


class SeriesInvalid(DomainError):
    message = N_("Deze reeks klopt niet.")


@dataclass
class SeriesUpdate:
    """What ``update_series`` changed, and who must hear of it."""

    events: list[Event] = field(default_factory=list)
    notifications: list[OutboxMessage] = field(default_factory=list)


def series_dates(cadence: Cadence, year: int) -> list[date]:
    """The dates of one year of a series (also those already past)."""
    return [_nth_weekday(year, month, weekday, n) for month, weekday, n in SLOTS[cadence]]


async def create_series(
    session: AsyncSession,
    *,
    actor_id: int | None,
    kind: EventKind,
    cadence: Cadence,
    year: int,
    now: datetime,
    local_time: str = "19:30",
    duration_minutes: int = 120,
    location: str | None = None,
    capacity: int | None = None,
    title: str | None = None,
    publish: bool = False,
    tz: ZoneInfo = AMSTERDAM,
) -> Series:
    """A series and its dated events for ``year`` (those still to come), topics to be decided."""
    if actor_id is not None:
        await require_organiser(session, actor_id)
    _check_defaults(local_time, duration_minutes)
    if not now.astimezone(tz).year <= year <= now.astimezone(tz).year + YEARS_AHEAD:
        raise SeriesInvalid(N_("Kies een jaar van nu tot over {years} jaar."), years=YEARS_AHEAD)
    base = (title or "").strip() or TITLES[kind]
    series_title = f"{base} {year}"
    if await session.scalar(select(Series.id).where(Series.title == series_title)) is not None:
        raise SeriesExists(title=series_title)
    location = (location or "").strip() or None
    check_length("location", location)
    series = Series(
        title=series_title,
        kind=kind,
        cadence=cadence,
        location=location,
        local_time=local_time,
        duration_minutes=duration_minutes,
        capacity=capacity,
        created_at=now,
    )
    session.add(series)
    await session.flush()
    created = 0
    for number, day in enumerate(series_dates(cadence, year), start=1):
        starts_at = _at(day, local_time, tz)
        if starts_at <= now:
            continue
        draft = EventDraft(
            kind=kind,
            title=f"{base} {number} ({year})",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=duration_minutes),
            description="",
            topic_tbd=True,
            location=location,
            capacity=capacity,
            series_id=series.id,
        )
        await create_event(session, draft=draft, actor_id=actor_id, now=now, publish=publish)
        created += 1
    if created == 0:
        raise SeriesInvalid(N_("Alle data van deze reeks in {year} zijn al voorbij."), year=year)
    await audit.record(
        session,
        actor_id=actor_id,
        action="series.create",
        object_type="series",
        object_id=series.id,
        now=now,
        after={**audit.snapshot(series, SERIES_FIELDS), "year": year, "events": created},
    )
    return series


async def update_series(
    session: AsyncSession,
    *,
    actor_id: int | None,
    series_id: int,
    changes: dict[str, Any],
    apply_to: Literal["one", "all"],
    event_id: int | None = None,
    now: datetime,
    policy: RegistrationPolicy,
    tz: ZoneInfo = AMSTERDAM,
) -> SeriesUpdate:
    """Another time, length, place or capacity for one event of the series, or for all coming
    ones (then also for the series itself). ``changes`` may hold ``local_time`` ("20:00"),
    ``duration_minutes``, ``location``, ``capacity``, and for one event a new ``date``."""
    if actor_id is not None:
        await require_organiser(session, actor_id)
    series = await session.get(Series, series_id, with_for_update=True)
    if series is None:
        raise NotFound()
    allowed = CHANGEABLE | ({"date"} if apply_to == "one" else set())
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidEvent(reason=", ".join(sorted(unknown)))
    if "location" in changes:
        changes = {**changes, "location": (changes["location"] or "").strip() or None}
        check_length("location", changes["location"])
    _check_defaults(
        changes.get("local_time", series.local_time),
        changes.get("duration_minutes", series.duration_minutes),
    )
    if apply_to == "one":
        if event_id is None:
            raise NotFound()
        event = await session.get(Event, event_id)
        if event is None or event.series_id != series.id:
            raise NotFound()
        check_changeable(event)
        if event.starts_at <= now:
            raise EventStarted()
        targets = [event]
    else:
        targets = list(
            (
                await session.scalars(
                    select(Event)
                    .where(
                        Event.series_id == series.id,
                        Event.starts_at > now,
                        Event.status.in_([EventStatus.DRAFT, EventStatus.PUBLISHED]),
                    )
                    .order_by(Event.starts_at)
                )
            ).all()
        )
    result = SeriesUpdate()
    for target in targets:
        event_changes = _event_changes(target, changes, tz)
        updated, notifications = await update_event(
            session,
            event_id=target.id,
            actor_id=actor_id,
            changes=event_changes,
            now=now,
            policy=policy,
        )
        result.events.append(updated)
        result.notifications += notifications
    if apply_to == "all":
        before = audit.snapshot(series, tuple(changes))
        for name, value in changes.items():
            setattr(series, name, value)
        after = audit.snapshot(series, tuple(changes))
    else:
        before = {}
        after = {"event_id": event_id, **changes}
    await audit.record(
        session,
        actor_id=actor_id,
        action="series.update",
        object_type="series",
        object_id=series.id,
        now=now,
        before=before,
        after={**after, "apply_to": apply_to, "events": [e.id for e in result.events]},
    )
    await session.flush()
    return result


async def series_events(session: AsyncSession, series_id: int) -> list[Event]:
    return list(
        (
            await session.scalars(
                select(Event).where(Event.series_id == series_id).order_by(Event.starts_at)
            )
        ).all()
    )


def _event_changes(event: Event, changes: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """The series-level ``changes`` as field changes of one event."""
    result: dict[str, Any] = {}
    local_start = event.starts_at.astimezone(tz)
    if "date" in changes or "local_time" in changes or "duration_minutes" in changes:
        day = changes.get("date", local_start.date())
        if not isinstance(day, date) or isinstance(day, datetime):
            raise SeriesInvalid()
        clock = changes.get("local_time", local_start.strftime("%H:%M"))
        starts_at = _at(day, clock, tz)
        length = (
            timedelta(minutes=changes["duration_minutes"])
            if "duration_minutes" in changes
            else event.ends_at - event.starts_at
        )
        result["starts_at"] = starts_at
        result["ends_at"] = starts_at + length
    for name in ("location", "capacity"):
        if name in changes:
            result[name] = changes[name]
    return result


def _check_defaults(local_time: object, duration_minutes: object) -> None:
    if not isinstance(local_time, str) or not _LOCAL_TIME.match(local_time):
        raise SeriesInvalid(N_("Schrijf de tijd als uu:mm, bijvoorbeeld 19:30."))
    low, high = DURATION_MINUTES
    if not isinstance(duration_minutes, int) or not low <= duration_minutes <= high:
        raise SeriesInvalid(
            N_("Een bijeenkomst duurt van {low} tot {high} minuten."), low=low, high=high
        )


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _at(day: date, local_time: str, tz: ZoneInfo) -> datetime:
    hour, minute = (int(part) for part in local_time.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


__all__ = [
    "SLOTS",
    "SeriesExists",
    "SeriesInvalid",
    "SeriesUpdate",
    "create_series",
    "series_dates",
    "series_events",
    "update_series",
]
