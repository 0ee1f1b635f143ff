"""Several `buurtagenda run` processes, as an operator starts them: on one PostgreSQL database
they all come up (at the same moment, on an empty database), exactly one leads, and the lead
moves when the leader is killed or loses its database connection; on one SQLite file a second
one refuses to start; a database migrated by newer code is refused.

The processes share one Telegram (the Bot API emulator, served here): only the leader fetches
updates, so every message is answered once, and no process ever gets Telegram's 409 for a second
`getUpdates`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from emulator import Limits, TelegramEmulator, serve
from emulator.people import Person
from models.locks import LEADER_LOCK
from models.migrations import head_revision
from tests.conftest import POSTGRES_URL, SKIP_POSTGRES
from tests.service_process import ServiceProcess

TOKEN = "7000002:AAFailoverTestTokenForTheEmulator00"
# What the issue asks of a failover; measured and printed (pytest -s), and only bounded here.
FAILOVER_BOUND_S = 15.0
WITHIN_S = 90  # how long a process may take to start on a busy machine: a bound, not a measure


@pytest.fixture
async def empty_postgres() -> AsyncIterator[str]:
    async with empty_postgres_database() as database_url:
        yield database_url


@asynccontextmanager
async def empty_postgres_database() -> AsyncIterator[str]:
    """A database of its own, empty (not even migrated), dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    url = make_url(POSTGRES_URL)
    name = f"{url.database}_instances"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@asynccontextmanager
async def all_at_the_same_moment(database_url: str, processes: int) -> AsyncIterator[None]:
    """Hold back the start-up of ``processes`` processes started in the block until all of them
    are at it, then let them go together (starting a process takes seconds, differently each
    time: without this, they would seldom meet).

    The migrations' first read is of ``alembic_version``: created here as Alembic would, and
    locked until every process waits (for that table, or for the one that got there first)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as holder, engine.connect() as observer:
            await holder.execute(
                text(
                    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,"
                    " CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
                )
            )
            await holder.commit()
            await holder.execute(text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
            yield
            async with asyncio.timeout(WITHIN_S):
                while True:  # polled: PostgreSQL only tells by being asked
                    waiting = await observer.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                        )
                    )
                    await observer.rollback()
                    if waiting == processes:
                        break
                    await asyncio.sleep(0.05)
            await holder.rollback()  # all go
    finally:
        await engine.dispose()


async def role(service: ServiceProcess) -> str:
    response = await service.get("/healthz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok", body
    return str(body["role"])


async def the_leader(services: Sequence[ServiceProcess], within_s: float) -> ServiceProcess:
    """The one of ``services`` whose /healthz says leader, once one does (never two)."""
    async with asyncio.timeout(within_s):
        while True:
            roles = await asyncio.gather(*(role(service) for service in services))
            leaders = [s for s, r in zip(services, roles, strict=True) if r == "leader"]
            assert len(leaders) <= 1, roles
            if leaders:
                return leaders[0]
            await asyncio.sleep(0.1)


async def until_standby(service: ServiceProcess, within_s: float) -> None:
    async with asyncio.timeout(within_s):
        while True:  # polled: the role is only seen over HTTP
            if await role(service) == "standby":
                return
            await asyncio.sleep(0.05)


async def answered_once(emulator: TelegramEmulator, person: Person, asked: int) -> None:
    """``/help`` answered (one message each time): ``asked`` answers in all, no second one.

    Also waits until the leader confirmed the update (its next getUpdates): one fetched but not
    confirmed when its leader is killed is fetched again by the next (getUpdates' own window,
    not the leadership's)."""
    sent = person.send("/help")
    reply = await sent.reply()
    await sent.delivered(timeout=WITHIN_S)
    assert "Zo werkt Buurtagenda" in reply.content
    helps = [m for m in person.messages if "Zo werkt Buurtagenda" in m.content]
    assert len(helps) == asked, [m.content[:40] for m in person.messages]


async def terminate_lock_connection(database_url: str) -> int:
    """End the leader's lock connection from the server's side; its pid."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            pid = await connection.scalar(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND database = (SELECT oid FROM pg_database"
                    "                 WHERE datname = current_database())"
                    " AND ((classid::bigint << 32) | objid::bigint) = :key AND objsubid = 1"
                ),
                {"key": LEADER_LOCK},
            )
            assert pid is not None, "nobody holds the leader's lock"
            ended = await connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            assert ended
            return int(pid)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_three_instances_start_together_one_leads_and_the_lead_moves(
    tmp_path: Path, empty_postgres: str
) -> None:
    emulator = TelegramEmulator(token=TOKEN, limits=Limits.off())
    anna = emulator.user("Anna", language_code="nl")
    async with serve(emulator) as api_url:
        env = {
            "BUURTAGENDA_TELEGRAM_TOKEN": TOKEN,
            "BUURTAGENDA_TELEGRAM_API_BASE_URL": api_url,
            "BUURTAGENDA_DATABASE_URL": empty_postgres,
        }
        services = [ServiceProcess(tmp_path, env) for _ in range(3)]
        try:
            # Three at the same moment on an empty database: migrations, reference data and
            # the instance's identity are written once, the others wait for that and go on.
            async with all_at_the_same_moment(empty_postgres, processes=3):
                await asyncio.gather(*(service.start() for service in services))
            for service in services:
                await service.wait_for_line("Buurtagenda is running", within_s=WITHIN_S)
            roles = sorted([await role(service) for service in services])
            assert roles == ["leader", "standby", "standby"]
            leader = await the_leader(services, within_s=WITHIN_S)
            await answered_once(emulator, anna, asked=1)

            # kill -9: the server ends its session, the lock goes with it.
            others = [service for service in services if service is not leader]
            killed_at = time.monotonic()
            leader.kill()
            second = await the_leader(others, within_s=WITHIN_S)
            failover_s = time.monotonic() - killed_at
            print(f"kill -9 of the leader: a standby led after {failover_s:.2f} s")
            assert failover_s < FAILOVER_BOUND_S
            await answered_once(emulator, anna, asked=2)

            # Its database connection cut: the leader stops its work at once and stands by;
            # the lead moves to the last one.
            cut_at = time.monotonic()
            await terminate_lock_connection(empty_postgres)
            await until_standby(second, within_s=WITHIN_S)
            stood_by_s = time.monotonic() - cut_at
            third = await the_leader(others, within_s=WITHIN_S)
            moved_s = time.monotonic() - cut_at
            print(
                f"lock connection cut: the leader stood by after {stood_by_s:.2f} s, "
                f"the lead moved after {moved_s:.2f} s"
            )
            assert third is not second
            assert moved_s < FAILOVER_BOUND_S
            await second.wait_for_line("lost the lead (the database connection ended)")
            await answered_once(emulator, anna, asked=3)
        finally:
            for service in services:
                service.kill()
            for service in services:
                await service.wait()
    for service in services:
        assert "Traceback" not in service.output, service.output
        assert "Conflict" not in service.output, service.output  # one getUpdates at a time
    assert sum("leadership: this instance leads" in s.output for s in services) == 3
    assert sum("could not" in s.output for s in services) == 0, [s.output for s in services]


async def test_a_second_run_on_the_same_sqlite_file_refuses_to_start(tmp_path: Path) -> None:
    env = {"BUURTAGENDA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"}
    first = ServiceProcess(tmp_path, env)
    await first.start()
    try:
        await first.wait_for_line("Buurtagenda is running", within_s=WITHIN_S)
        second = ServiceProcess(tmp_path, env)
        await second.start()
        assert await second.wait(within_s=WITHIN_S) == 3, second.output
        assert second.output.splitlines() == [
            f"buurtagenda: another buurtagenda is already running on {tmp_path / 'b.db'} "
            f"(process {first.pid}); with SQLite only one may "
            "(several instances need PostgreSQL)"
        ]
        assert await role(first) == "leader"  # the first carries on
        # A crash leaves no lock behind: the OS releases it with the process.
        first.kill()
        await first.wait()
        third = ServiceProcess(tmp_path, env)
        await third.start()
        try:
            await third.wait_for_line("Buurtagenda is running", within_s=WITHIN_S)
            assert await role(third) == "leader"
        finally:
            assert await third.stop() == 0, third.output
    finally:
        first.kill()


async def test_a_schema_newer_than_the_code_is_refused_on_sqlite(tmp_path: Path) -> None:
    await refuses_a_newer_schema(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")


@pytest.mark.postgres
async def test_a_schema_newer_than_the_code_is_refused_on_postgresql(tmp_path: Path) -> None:
    async with empty_postgres_database() as database_url:
        await refuses_a_newer_schema(tmp_path, database_url)


async def refuses_a_newer_schema(tmp_path: Path, database_url: str) -> None:
    env = {"BUURTAGENDA_DATABASE_URL": database_url}
    upgrade = ServiceProcess(tmp_path, env, "db", "upgrade")
    await upgrade.start()
    assert await upgrade.wait(within_s=WITHIN_S) == 0, upgrade.output
    # What a newer version would leave behind: a revision this code has never heard of.
    newer = "0099_from_the_future"
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :newer"), {"newer": newer}
            )
        run = ServiceProcess(tmp_path, env)
        await run.start()
        assert await run.wait(within_s=WITHIN_S) == 3, run.output
        refusal = [line for line in run.output.splitlines() if line.startswith("buurtagenda:")]
        assert refusal == [
            f"buurtagenda: the database schema is at revision {newer}, newer than this version "
            f"of buurtagenda knows (its newest is {head_revision()}); run the newer version, or "
            "restore the "
            "backup taken before the upgrade"
        ], run.output
        assert "Traceback" not in run.output and "CRITICAL" not in run.output, run.output
        async with engine.connect() as connection:  # nothing was touched
            assert (await connection.scalar(text("SELECT version_num FROM alembic_version"))) == (
                newer
            )
    finally:
        await engine.dispose()
