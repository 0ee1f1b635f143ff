"""Storing, claiming and finishing inbound updates. Plain functions on the caller's session: the
caller owns the transaction (and commits before it acknowledges anything).

A claim is a lease: ``claimed_by`` says which instance handles the update, ``claimed_until``
until when. An instance that dies leaves its claims to run out; a sweep on any instance then
takes them over (``claim_leftovers``, with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two
sweeps never take the same row). A live instance extends the claims it is still working on.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Executable, Table, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.inbox.entities import InboundUpdate

_TABLE = cast(Table, InboundUpdate.__table__)


@dataclass(frozen=True)
class StoredUpdate:
    update_id: int
    payload: Mapping[str, Any]


def _insert_if_new(insert: Callable[..., sqlite.Insert | postgresql.Insert]) -> Executable:
    return (
        insert(_TABLE)
        .on_conflict_do_nothing(index_elements=[_TABLE.c.update_id])
        .returning(_TABLE.c.update_id)
    )


# Built once: every webhook request runs it.
_INSERT_IF_NEW = {
    "sqlite": _insert_if_new(sqlite.insert),
    "postgresql": _insert_if_new(postgresql.insert),
}


async def store(
    session: AsyncSession,
    *,
    update_id: int,
    payload: Mapping[str, Any],
    now: datetime,
    claimed_by: str | None = None,
    claimed_until: datetime | None = None,
) -> bool:
    """Keep an update; False when it was there already (a redelivery: nothing to do).

    With ``claimed_by`` the row is claimed in the same statement, for the instance that will
    handle it right away; without, the next sweep of any instance takes it."""
    statement = _INSERT_IF_NEW[session.get_bind().dialect.name]
    row = {
        "update_id": update_id,
        "payload": dict(payload),
        "received_at": now,
        "claimed_by": claimed_by,
        "claimed_until": claimed_until,
        "processed_at": None,
    }
    stored = await session.scalar(statement, [row])
    return stored is not None


async def claim_leftovers(
    session: AsyncSession,
    *,
    now: datetime,
    claimed_by: str,
    claimed_until: datetime,
    limit: int = 100,
) -> list[StoredUpdate]:
    """Claim updates nobody handles: never claimed (stored while no instance was processing),
    or whose claim ran out (its instance died). Oldest first."""
    unhandled = (
        select(_TABLE.c.update_id)
        .where(
            _TABLE.c.processed_at.is_(None),
            (_TABLE.c.claimed_until.is_(None)) | (_TABLE.c.claimed_until < now),
        )
        .order_by(_TABLE.c.update_id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite's writer holds the database
    )
    claimed = await session.execute(
        update(_TABLE)
        .where(_TABLE.c.update_id.in_(unhandled.scalar_subquery()))
        .values(claimed_by=claimed_by, claimed_until=claimed_until)
        .returning(_TABLE.c.update_id, _TABLE.c.payload)
    )
    found = [StoredUpdate(row.update_id, row.payload) for row in claimed]
    return sorted(found, key=lambda stored: stored.update_id)


async def extend_claims(
    session: AsyncSession, *, update_ids: Collection[int], claimed_by: str, claimed_until: datetime
) -> None:
    """Keep the claims of updates still being handled from running out."""
    if not update_ids:
        return
    await session.execute(
        update(_TABLE)
        .where(
            _TABLE.c.update_id.in_(list(update_ids)),
            _TABLE.c.claimed_by == claimed_by,
            _TABLE.c.processed_at.is_(None),
        )
        .values(claimed_until=claimed_until)
    )


async def release_claims(session: AsyncSession, *, claimed_by: str) -> int:
    """Give up every unfinished claim in this name: at start, the claims of this instance's
    previous run (which ended before handling them) are free at once rather than at expiry."""
    released = await session.execute(
        update(_TABLE)
        .where(_TABLE.c.claimed_by == claimed_by, _TABLE.c.processed_at.is_(None))
        .values(claimed_by=None, claimed_until=None)
    )
    return int(getattr(released, "rowcount", 0) or 0)


_MARK_PROCESSED = (
    update(_TABLE)
    .where(_TABLE.c.update_id == bindparam("id"), _TABLE.c.processed_at.is_(None))
    .values(processed_at=bindparam("now"), claimed_until=None)
)


async def mark_processed(session: AsyncSession, *, update_id: int, now: datetime) -> None:
    await session.execute(_MARK_PROCESSED, {"id": update_id, "now": now})


async def purge_processed(session: AsyncSession, *, processed_before: datetime) -> int:
    """Forget handled updates older than Telegram would deliver again; returns how many."""
    deleted = await session.execute(delete(_TABLE).where(_TABLE.c.processed_at < processed_before))
    return int(getattr(deleted, "rowcount", 0) or 0)


async def unprocessed_count(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(_TABLE).where(_TABLE.c.processed_at.is_(None))
    )
    return int(count or 0)
