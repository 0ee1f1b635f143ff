"""Reading under the event's lock: every decision about a registration starts here.

``lock_event`` locks the event's row (PostgreSQL: ``SELECT … FOR UPDATE``; SQLite: the write
transaction's ``BEGIN IMMEDIATE`` already holds the whole database), so two decisions about the
same event never overlap and capacity holds under concurrency. An event locked earlier in the
same transaction is not read again.

The statements are built once: building a select (coercing every clause) and computing its
cache key cost more than SQLite takes to run it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Executable, Row, Select, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from models.errors import NotFound
from models.events.entities import WITHOUT_SERIES_OR_NETWORK, Event
from models.registrations.entities import Registration


async def lock_event(
    session: AsyncSession, event_id: int | None = None, *, public_code: str | None = None
) -> Event:
    """Load the event for a decision (by id or by its public code), locking its row
    (PostgreSQL) until the transaction ends.

    On SQLite the write transaction already holds the database's write lock (BEGIN IMMEDIATE).
    An event locked earlier in the same transaction is not read again: the lock still holds,
    and the session's copy is the current state.
    """
    locked = _locked_events(session)
    if event_id is not None and event_id in locked:
        return locked[event_id]
    if event_id is not None:
        event = await session.scalar(_LOCK_EVENT, {"event_id": event_id})
    else:
        event = await session.scalar(_LOCK_EVENT_BY_CODE, {"public_code": public_code})
    if event is None:
        raise NotFound()
    locked[event.id] = event
    return event


async def lock_with_registration(
    session: AsyncSession, event_id: int, member_id: int
) -> tuple[Event, Registration | None]:
    """The event locked, then the member's registration for it (if they ever had one)."""
    event, row = await lock_reading(session, event_id, member_id, _EVENT_WITH_REGISTRATION)
    if row is None:
        return event, await registration_of(session, event, member_id)
    if row.Registration is not None:
        attach(row.Registration, event)
    return event, row.Registration


async def lock_registration(
    session: AsyncSession, registration_id: int
) -> tuple[Event, Registration]:
    """A registration by its id (an organiser's screen names it so), and its event locked."""
    registration = await session.get(Registration, registration_id, populate_existing=True)
    if registration is None:
        raise NotFound()
    return await lock_event(session, registration.event_id), registration


async def lock_reading(
    session: AsyncSession, event_id: int, member_id: int, with_event: Executable
) -> tuple[Event, Row[Any] | None]:
    """The event locked and, where one query may read both (``_holds_whole_database``), the row
    of ``with_event`` (the event with the member's state). None for the row: the caller reads
    the member's state itself, after the lock."""
    if not _holds_whole_database(session) or event_id in _locked_events(session):
        return await lock_event(session, event_id), None
    row = (
        await session.execute(with_event, {"event_id": event_id, "member_id": member_id})
    ).one_or_none()
    if row is None:
        raise NotFound()
    _locked_events(session)[event_id] = row.Event
    return row.Event, row


async def registration_of(
    session: AsyncSession, event: Event, member_id: int
) -> Registration | None:
    """The member's registration for the event, if they ever had one (also a cancelled one)."""
    registration = await session.scalar(
        _REGISTRATION_OF, {"event_id": event.id, "member_id": member_id}
    )
    if registration is not None:
        attach(registration, event)
    return registration


def attach(registration: Registration, event: Event) -> None:
    """Give a registration read without its event (the caller holds it) its ``event``."""
    set_committed_value(registration, "event", event)


def _holds_whole_database(session: AsyncSession) -> bool:
    """SQLite: a write transaction holds the whole database from its start (BEGIN IMMEDIATE),
    so the event and what an operation decides on can be read in one query. On PostgreSQL the
    event's row lock comes first and the rest is read after it (a join in the locking query
    would read the other tables as they were before the lock was granted)."""
    return session.get_bind().dialect.name == "sqlite"


def _locked_events(session: AsyncSession) -> dict[int, Event]:
    """The events locked in the session's current transaction (a new transaction starts empty)."""
    transaction = session.sync_session.get_transaction()
    memo = session.info.get(_LOCKED)
    if memo is None or memo[0] is not transaction:
        memo = session.info[_LOCKED] = (transaction, {})
    locked: dict[int, Event] = memo[1]
    return locked


def _locking(where: ColumnElement[bool]) -> Select[Event]:
    return (
        select(Event)
        .where(where)
        .with_for_update(of=Event)
        .options(*WITHOUT_SERIES_OR_NETWORK)
        .execution_options(populate_existing=True)
    )


_LOCK_EVENT = _locking(Event.id == bindparam("event_id"))
_LOCK_EVENT_BY_CODE = _locking(Event.public_code == bindparam("public_code"))
_LOCKED = "registrations_locked_events"  # session.info: (transaction, {event id: event})
# SQLite (see ``_holds_whole_database``): the event with the member's registration, one query.
_EVENT_WITH_REGISTRATION = (
    select(Event, Registration)
    .outerjoin(
        Registration,
        and_(Registration.event_id == Event.id, Registration.member_id == bindparam("member_id")),
    )
    .where(Event.id == bindparam("event_id"))
    .options(lazyload(Registration.event), *WITHOUT_SERIES_OR_NETWORK)
    .execution_options(populate_existing=True)
)
# The event is the one the operation holds (see ``attach``): no join to load it again.
_REGISTRATION_OF = (
    select(Registration)
    .where(
        Registration.event_id == bindparam("event_id"),
        Registration.member_id == bindparam("member_id"),
    )
    .options(lazyload(Registration.event))
    .execution_options(populate_existing=True)
)
