"""Caches that agree between instances: a member changed through one ``Database`` is forgotten
by another's ``RecentMembers`` (PostgreSQL NOTIFY after the commit), and a cache whose listening
connection dropped keeps nothing until it listens again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import text, update

from bot.context import RecentMembers
from models.db import Database
from models.members.entities import Language, Member
from models.members.operations import (
    ensure_member,
    forget_member,
    member_by_telegram_id,
    set_language,
)
from models.registrations.policy import RegistrationPolicy
from tests.conftest import POSTGRES_URL, postgres_database

pytestmark = pytest.mark.postgres


@pytest.fixture
async def one() -> AsyncIterator[Database]:
    database = await postgres_database()
    yield database
    await database.dispose()


@pytest.fixture
async def other(one: Database) -> AsyncIterator[Database]:
    """The other instance: its own connections, listening."""
    database = Database(POSTGRES_URL)
    await database.start_listening()
    yield database
    await database.dispose()


def cache_of(database: Database) -> RecentMembers:
    recent = RecentMembers(ttl_s=3600)  # only a notification can make it forget
    database.on_members_commit(recent.forget)
    database.on_listening(recent.listening)
    return recent


async def eventually(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` (a notification arrives on the listener's own time)."""
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 (nothing to wait on but the condition)
            await asyncio.sleep(0.01)


async def kept(database: Database, recent: RecentMembers, telegram_id: int) -> None:
    """Read and keep the member, as the bot does. The notification of an earlier commit may
    still come in while it is read; such a read is not kept (rightly): read again then."""
    for _ in range(100):
        generation = recent.generation
        async with database.read() as session:
            member = await member_by_telegram_id(session, telegram_id)
        assert member is not None
        recent.keep(member, generation)
        if recent.get(telegram_id) is member:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"member {telegram_id} was never kept")


async def new_member(database: Database, telegram_id: int) -> int:
    async with database.transaction() as session:
        member, _ = await ensure_member(session, telegram_id=telegram_id, display_name="Anna")
        return member.id


async def test_a_language_changed_on_one_instance_is_forgotten_by_the_other(
    one: Database, other: Database
) -> None:
    recent = cache_of(other)
    assert recent.keeping
    anna = await new_member(one, 501)
    await new_member(one, 502)
    await kept(other, recent, 501)
    await kept(other, recent, 502)
    async with one.transaction() as session:
        await set_language(session, member_id=anna, language=Language.EN)
    await eventually(lambda: recent.get(501) is None)
    assert recent.get(502) is not None  # only who changed
    await kept(other, recent, 501)
    async with one.transaction() as session:  # /vergeetmij
        await forget_member(
            session, member_id=anna, now=datetime.now(UTC), policy=RegistrationPolicy()
        )
    await eventually(lambda: recent.get(501) is None)
    async with one.transaction() as session:  # an UPDATE statement: which rows, not known
        await session.execute(update(Member).values(reachable=True))
    await eventually(lambda: recent.get(502) is None)


async def test_a_dropped_listening_connection_empties_the_cache_until_it_is_back(
    one: Database, other: Database
) -> None:
    recent = cache_of(other)
    await new_member(one, 601)
    await kept(other, recent, 601)
    async with other.read() as session:
        anna = await member_by_telegram_id(session, 601)
    assert anna is not None
    seen: list[tuple[bool, bool, bool]] = []  # listening; Anna still kept; Anna kept if offered

    def look(listening: bool) -> None:  # called right after the cache heard the same
        still = recent.get(601) is not None
        recent.keep(anna, recent.generation)
        seen.append((listening, still, recent.get(601) is not None))

    other.on_listening(look)
    assert other.listener is not None and other.listener.connection is not None
    pid = other.listener.connection.get_server_pid()
    async with one.engine.begin() as connection:  # the connection drops (a restart, a network)
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await eventually(lambda: len(seen) >= 3)
    assert seen[1] == (False, False, False)  # emptied, and keeps nothing while deaf
    assert seen[2] == (True, False, True)  # listening again: forgot, keeps members again
    assert recent.keeping
