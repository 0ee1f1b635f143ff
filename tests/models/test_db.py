"""The database layer's trips: BEGIN and deferred writes go with the next statement or COMMIT.

A deferred write (``models.db.DEFERRED``) must behave as if it had run at once: a later read in
the transaction sees it, a commit keeps it, a rollback drops it, and its error still reaches the
caller (at the next trip). Run on both databases: on PostgreSQL the option changes nothing.
"""

from __future__ import annotations

from typing import cast

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
