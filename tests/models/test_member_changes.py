"""A commit announces which members it changed (``Database.on_members_commit``), so that nobody
keeps a member read before the change: on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.db import Database
from models.members.entities import Language, Member
from models.members.operations import mark_unreachable, set_language
from tests.factories import make_member


@pytest.fixture
def announced(db: Database) -> list[set[int | None]]:
    heard: list[set[int | None]] = []
    db.on_members_commit(heard.append)
    return heard


async def test_a_changed_member_is_announced_after_the_commit(db, announced):
    anna = await make_member(db, name="Anna")
    announced.clear()  # making her was a change too
    async with db.transaction() as session:
        await set_language(session, member_id=anna.id, language=Language.EN)
        assert announced == []  # not before the commit
    assert announced == [{anna.telegram_id}]


async def test_a_bulk_update_of_members_announces_some_unknown_member(db, announced):
    anna = await make_member(db, name="Anna")
    announced.clear()
    async with db.transaction() as session:
        await mark_unreachable(session, member_id=anna.id)
    assert announced == [{None}]


async def test_nothing_is_announced_for_a_rollback_a_read_or_other_rows(db, announced):
    anna = await make_member(db, name="Anna")
    announced.clear()
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await set_language(session, member_id=anna.id, language=Language.EN)
            raise RuntimeError("changed my mind")
    async with db.read() as session:
        member = await session.scalar(select(Member).where(Member.id == anna.id))
        assert member is not None
        member.display_name = "Anneke"  # discarded with the read session
        await session.flush()
    await make_member(db, name="Bram")
    assert len(announced) == 1  # only Bram's creation
