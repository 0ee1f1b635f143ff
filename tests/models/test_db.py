"""The database layer's trips: BEGIN and deferred writes go with the next statement or COMMIT;
a read session sends no BEGIN until it writes.

A deferred write (``models.db.DEFERRED``) must behave as if it had run at once: a later read in
the transaction sees it, a commit keeps it, a rollback drops it, and its error still reaches the
caller (at the next trip). Run on both databases: on PostgreSQL the option changes nothing.
"""

from __future__ import annotations

from typing import Any, cast

import aiosqlite
import pytest
from sqlalchemy import Table, func, insert, select
from sqlalchemy.exc import IntegrityError

from models.db import DEFERRED, Database
from models.members.entities import Member

DEFERRED_INSERT = insert(cast(Table, Member.__table__)).execution_options(**{DEFERRED: True})


def member(telegram_id: int) -> dict[str, object]:
    return {"telegram_id": telegram_id, "display_name": f"Lid {telegram_id}"}


async def count_members(db: Database) -> int:
    async with db.read() as session:
        found = await session.scalar(select(func.count()).select_from(Member))
    return int(found or 0)


async def test_a_deferred_write_is_seen_by_the_next_read_and_kept_by_the_commit(db: Database):
    async with db.transaction() as session:
        await session.execute(DEFERRED_INSERT, member(901))
        seen = await session.scalar(select(Member.display_name).where(Member.telegram_id == 901))
        assert seen == "Lid 901"
        await session.execute(DEFERRED_INSERT, member(902))  # the last act: goes with COMMIT
    assert await count_members(db) == 2


async def test_a_rollback_drops_deferred_writes(db: Database):
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await session.execute(DEFERRED_INSERT, member(903))
            raise RuntimeError("changed my mind")
    assert await count_members(db) == 0


async def test_an_error_in_a_deferred_write_still_fails_the_transaction(db: Database):
    async with db.transaction() as session:
        await session.execute(DEFERRED_INSERT, member(904))
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await session.execute(DEFERRED_INSERT, member(905))
            await session.execute(DEFERRED_INSERT, member(904))  # the same Telegram id again
    assert await count_members(db) == 1  # 905 went with the failed transaction


async def test_a_read_session_sees_each_commit_as_it_comes(db: Database):
    """Reads run statement by statement (PostgreSQL's READ COMMITTED; on SQLite without a BEGIN):
    what another transaction committed between two reads is seen by the second."""
    async with db.read() as reading:
        assert await reading.scalar(select(func.count()).select_from(Member)) == 0
        async with db.transaction() as writing:
            await writing.execute(insert(Member), member(906))
        assert await reading.scalar(select(func.count()).select_from(Member)) == 1


async def test_what_a_read_session_writes_is_discarded(db: Database):
    async with db.read() as session:
        await session.execute(insert(Member), member(907))
        assert await session.scalar(select(func.count()).select_from(Member)) == 1
    assert await count_members(db) == 0


async def test_a_read_session_costs_one_trip_per_select_on_sqlite(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
):
    """No BEGIN of its own and nothing to roll back at the end: each trip to aiosqlite's thread
    is a hand-over and a wake-up of the event loop, the larger part of a small query's cost."""
    trips: list[str] = []
    execute = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await execute(self, fn, *args, **kwargs)

    async with sqlite_db.read() as session:  # the pool's connection is opened outside the count
        await session.scalar(select(func.count()).select_from(Member))
    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    async with sqlite_db.read() as session:
        await session.scalar(select(func.count()).select_from(Member))
        await session.scalar(select(Member).where(Member.telegram_id == 1))
    assert trips == ["_execute_and_fetch", "_execute_and_fetch"]
    trips.clear()
    async with sqlite_db.read() as session:  # a write: BEGIN before it, ROLLBACK at the end
        await session.execute(insert(Member), member(908))
    assert trips == ["_execute_and_fetch", "rollback"]
