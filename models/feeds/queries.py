"""Which events go in which feed, and when a feed changes by time alone.

The windows: a published event stays in the feeds until 30 days after it ended; a cancelled one
stays for 14 days after the cancellation (as "GEANNULEERD", so people notice), then it is
dropped. Drafts are never in a feed.

A selection also says when it last changed (``last_modified``: the latest change of what is in
it, or the moment something dropped out of it) and when time alone will change it next
(``next_change``), so a cache knows how long a rendering stays right.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.events.entities import Event, EventStatus
from models.networks.entities import Network
from models.registrations import operations as registrations
from models.registrations.entities import Registration, RegistrationChange, RegistrationStatus

PAST_WINDOW = timedelta(days=30)
CANCELLED_KEPT = timedelta(days=14)
# A member's registrations that show in their personal feed (others drop out of it).
PERSONAL_STATUSES = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.ATTENDED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.OFFERED,
)


def feed_visible_until(event: Event) -> datetime | None:
    """Until when an event is in the feeds; None: never (a draft)."""
    if event.status is EventStatus.PUBLISHED:
        return event.ends_at + PAST_WINDOW
    if event.status is EventStatus.CANCELLED:
        # Cancelling is the last change an event gets, so updated_at is the cancellation.
        return min(event.updated_at + CANCELLED_KEPT, event.ends_at + PAST_WINDOW)
    return None


@dataclass(frozen=True)
class FeedEntry:
    event: Event
    # The member's registration, in a personal feed; None in the public feeds.
    registration: Registration | None = None

    @property
    def last_change(self) -> datetime:
        if self.registration is None:
            return self.event.updated_at
        return max(self.event.updated_at, self.registration.updated_at)


@dataclass(frozen=True)
class FeedSelection:
    entries: list[FeedEntry]
    last_modified: datetime | None  # None: nothing was ever in this feed
    next_change: datetime | None  # None: time alone will not change it


def _select(
    candidates: Iterable[tuple[Event, Registration | None]], now: datetime
) -> FeedSelection:
    """Split candidates into what is shown now and what dropped out (and when)."""
    entries: list[FeedEntry] = []
    changes: list[datetime] = []
    boundaries: list[datetime] = []
    for event, registration in candidates:
        until = feed_visible_until(event)
        if until is None:
            continue
        if registration is not None and registration.status not in PERSONAL_STATUSES:
            # Dropped out of the personal feed when its status changed.
            changes.append(min(registration.updated_at, now))
            continue
        if until <= now:
            changes.append(until)
            continue
        entry = FeedEntry(event, registration)
        entries.append(entry)
        changes.append(min(entry.last_change, now))
        boundaries.append(until)
    entries.sort(key=lambda e: (e.event.starts_at, e.event.id))
    return FeedSelection(
        entries,
        last_modified=max(changes, default=None),
        next_change=min(boundaries, default=None),
    )


def _in_scope(network: Network | None) -> ColumnElement[bool]:
    if network is None:
        return Event.status != EventStatus.DRAFT
    return (Event.status != EventStatus.DRAFT) & (
        Event.network_id.is_(None) | (Event.network_id == network.id)
    )


async def public_feed(
    session: AsyncSession, *, now: datetime, network: Network | None = None
) -> FeedSelection:
    """``/agenda.ics`` (all published events; ``network=None``) or ``/netwerk/<slug>.ics``
    (the collective programme plus that network's own exchange sessions)."""
    # Every non-draft event ever is a candidate: the ones that dropped out tell last_modified
    # when they did. A neighbourhood programme has tens of events a year, so this stays small.
    events = (await session.scalars(select(Event).where(_in_scope(network)))).all()
    return _select(((event, None) for event in events), now)


async def personal_feed(session: AsyncSession, *, member_id: int, now: datetime) -> FeedSelection:
    """A member's ``/feed/<token>.ics``: their registrations (confirmed, attended, waitlisted,
    offered) for events that are published or recently cancelled."""
    rows = (
        await session.scalars(select(Registration).where(Registration.member_id == member_id))
    ).all()
    return _select(((r.event, r) for r in rows), now)


# What ids, public codes and slugs can look like. Anything else is simply not found, without a
# query: PostgreSQL answers an id beyond its INTEGER range or a NUL character with an error, not
# with "no such row".
MAX_ID = 2**31 - 1
_PUBLIC_CODE = re.compile(r"[a-z0-9]{1,16}")  # events.operations.new_public_code: base32
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # networks.reference.slugify
_SLUG_MAX = 80


async def feed_event(session: AsyncSession, *, event_id: int) -> Event | None:
    """One event for ``/event/<id>.ics``: published or cancelled; drafts and proposals are not
    the programme's (yet)."""
    if not 0 < event_id <= MAX_ID:
        return None
    event = await session.get(Event, event_id)
    if event is None or event.status in (EventStatus.DRAFT, EventStatus.PROPOSED):
        return None
    return event


async def published_event(session: AsyncSession, *, public_code: str) -> Event | None:
    """The event behind a poster's QR code: published ones only."""
    if not _PUBLIC_CODE.fullmatch(public_code):
        return None
    return await session.scalar(
        select(Event).where(Event.public_code == public_code, Event.status == EventStatus.PUBLISHED)
    )


async def network_by_slug(session: AsyncSession, slug: str) -> Network | None:
    if len(slug) > _SLUG_MAX or not _SLUG.fullmatch(slug):
        return None
    return await session.scalar(
        select(Network).where(Network.slug == slug, Network.active.is_(True))
    )


async def active_networks(session: AsyncSession) -> list[Network]:
    return list((await session.scalars(select(Network).where(Network.active.is_(True)))).all())


# --- the public agenda page ---------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaItem:
    event: Event
    seats_left: int | None  # None: no limit
    waitlist_length: int
    registration_open: bool


@dataclass(frozen=True)
class Agenda:
    items: list[AgendaItem]
    last_modified: datetime | None
    next_change: datetime | None
    # When it was read: the page shows a date's year only where it is needed as of then. As the
    # events come nearer, a year shown stays right and one left out stays unneeded, so this is no
    # reason to render the page again.
    now: datetime


async def agenda(session: AsyncSession, *, now: datetime, network: Network | None = None) -> Agenda:
    """The coming events for the page, soonest first: published ones, and recently cancelled
    ones (marked) so that someone who saw a poster learns it does not go on."""
    events = (await session.scalars(select(Event).where(_in_scope(network)))).all()
    shown: list[Event] = []
    changes: list[datetime] = []
    boundaries: list[datetime] = []
    for event in sorted(events, key=lambda event: (event.starts_at, event.id)):
        until = feed_visible_until(event)
        assert until is not None  # drafts are out of scope
        until = min(until, event.ends_at)  # the page shows what is still to come
        if until <= now:
            changes.append(until)
            continue
        shown.append(event)
        changes.append(min(event.updated_at, now))
        closes = _registration_closes(event)
        (changes if closes <= now else boundaries).append(closes)
        boundaries.append(until)
    items = [
        AgendaItem(
            event,
            seats_left=await registrations.seats_left(session, event),
            waitlist_length=await registrations.waitlist_length(session, event.id),
            registration_open=event.is_published and now < _registration_closes(event),
        )
        for event in shown
    ]
    if shown:
        # Seats left change with registrations: their last change counts as a change too.
        latest = await session.scalar(
            select(func.max(Registration.updated_at)).where(
                Registration.event_id.in_([event.id for event in shown])
            )
        )
        if latest is not None:
            changes.append(min(latest, now))
    return Agenda(items, max(changes, default=None), min(boundaries, default=None), now)


def _registration_closes(event: Event) -> datetime:
    deadline = event.registration_deadline
    return min(deadline, event.starts_at) if deadline is not None else event.starts_at


# --- data versions: cheap checks whether anything changed ---------------------------------------


async def data_version(session: AsyncSession, *, registrations: bool) -> Sequence[object]:
    """A small tuple that changes whenever events (and, if asked, registrations) change.

    Every event change raises its revision (the sum catches it; the count catches new events);
    every registration change writes a history row (count and highest id catch it). Networks are
    counted too; a renamed network shows up with the next event change.
    """
    columns = [
        select(func.count()).select_from(Event).scalar_subquery(),
        select(func.coalesce(func.sum(Event.revision), 0)).scalar_subquery(),
        select(func.max(Event.updated_at)).scalar_subquery(),
        select(func.count()).select_from(Network).where(Network.active.is_(True)).scalar_subquery(),
    ]
    if registrations:
        columns += [
            select(func.count()).select_from(RegistrationChange).scalar_subquery(),
            select(func.coalesce(func.max(RegistrationChange.id), 0)).scalar_subquery(),
        ]
    row = (await session.execute(select(*columns))).one()
    return tuple(row)
