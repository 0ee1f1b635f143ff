"""Who leads, in one process against the real database: on PostgreSQL the holder of the advisory
lock, with the others standing by and taking over when its connection ends; on SQLite the one
process, a second one on the same file refused. And the service's wiring: what only the leader
runs. (Several real `buurtagenda run` processes: tests/test_instances.py.)"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING
from sqlalchemy import text

from bot.handlers.broadcasts import PROGRESS_KEY
from bot.menus import MEMBER_COMMANDS
from buurtagenda.config import Config, DatabaseConfig, HttpConfig, TelegramConfig
from buurtagenda.service import Service
from emulator import Limits, TelegramEmulator, serve
from models.db import Database
from models.leadership import AdvisoryLeadership, AlreadyRunning, SoleLeadership, leadership_for
from models.locks import LEADER_LOCK
from tests.conftest import POSTGRES_URL, SKIP_POSTGRES, postgres_database
from tests.service_process import free_port

# Quick enough for a test; the service's own are seconds (models/leadership.py).
FAST = {"retry_s": 0.2, "check_s": 0.2, "hold_off_s": 1.0}
WITHIN_S = 30  # a bound for waiting, not a measure
TOKEN = "7000003:AAWiringTestTokenForTheEmulator00000"


class Instance:
    """One contender, recording what its hooks were asked to do."""

    def __init__(
        self,
        name: str,
        key: int,
        on_lead: Callable[[], None] | None = None,
        check_s: float = FAST["check_s"],
    ) -> None:
        self.name = name
        settings = {**FAST, "check_s": check_s}
        self.leadership = AdvisoryLeadership(POSTGRES_URL, key=key, **settings)
        self.log: list[str] = []
        self.led = asyncio.Event()
        self.lost = asyncio.Event()

        async def lead() -> None:
            if on_lead is not None:
                on_lead()
            self.log.append("lead")
            self.led.set()

        async def lose() -> None:
            self.log.append("lose")
            self.lost.set()

        self.leadership.on_lead(lead)
        self.leadership.on_lose(lose)


@pytest.fixture
async def key() -> AsyncIterator[int]:
    """A lock key of this test's own."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    yield secrets.randbits(62)


async def lock_holder_pid(key: int) -> int | None:
    database = Database(POSTGRES_URL)
    try:
        async with database.read() as session:
            pid = await session.scalar(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND database = (SELECT oid FROM pg_database"
                    "                 WHERE datname = current_database())"
                    " AND ((classid::bigint << 32) | objid::bigint) = :key AND objsubid = 1"
                ),
                {"key": key},
            )
        return None if pid is None else int(pid)
    finally:
        await database.dispose()


async def terminate(pid: int) -> None:
    database = Database(POSTGRES_URL)
    try:
        async with database.read() as session:
            assert await session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await database.dispose()


@pytest.mark.postgres
async def test_one_leads_the_other_stands_by_and_takes_over_when_it_stops(key: int) -> None:
    first, second = Instance("first", key), Instance("second", key)
    await first.leadership.start()
    await second.leadership.start()
    try:
        assert (first.leadership.role, second.leadership.role) == ("leader", "standby")
        assert first.log == ["lead"] and second.log == []
        await first.leadership.stop()  # handed on: its work stops first
        assert first.log == ["lead", "lose"]
        async with asyncio.timeout(WITHIN_S):
            await second.leadership.wait_until_leader()
        assert second.log == ["lead"]
    finally:
        await first.leadership.stop()
        await second.leadership.stop()
    assert second.log == ["lead", "lose"]


@pytest.mark.postgres
async def test_a_leader_whose_connection_is_cut_stops_at_once_and_the_lead_moves(
    key: int,
) -> None:
    # No check within the test: the end of the connection itself must stop the leader.
    first, second = Instance("first", key, check_s=3600), Instance("second", key)
    await first.leadership.start()
    await second.leadership.start()
    try:
        pid = await lock_holder_pid(key)
        assert pid is not None
        await terminate(pid)
        # asyncpg reports the ended connection: the leader stops without waiting for a check.
        async with asyncio.timeout(WITHIN_S):
            await first.lost.wait()
        assert first.leadership.role == "standby"
        async with asyncio.timeout(WITHIN_S):
            await second.led.wait()
        assert second.leadership.role == "leader"
        assert await lock_holder_pid(key) not in (None, pid)
        # The first held off before trying again, so the lead moved.
        assert first.log == ["lead", "lose"] and first.leadership.role == "standby"
    finally:
        await first.leadership.stop()
        await second.leadership.stop()


@pytest.mark.postgres
async def test_a_leader_that_cannot_take_up_its_work_hands_the_lead_on(key: int) -> None:
    def fail() -> None:
        raise RuntimeError("the Bot API is away")

    failing, healthy = Instance("failing", key, on_lead=fail), Instance("healthy", key)
    with pytest.raises(RuntimeError, match="Bot API"):
        await failing.leadership.start()  # at start, as on SQLite: the start fails
    assert failing.log == ["lose"]  # what had started is stopped
    assert failing.leadership.role == "standby"
    await failing.leadership.stop()  # its connection (and the lock) go
    await healthy.leadership.start()
    try:
        assert healthy.leadership.role == "leader"
    finally:
        await healthy.leadership.stop()


@pytest.mark.postgres
async def test_standbys_wait_while_postgresql_is_unreachable(key: int) -> None:
    url = POSTGRES_URL.replace("127.0.0.1:5432", "127.0.0.1:9")  # nothing listens there
    assert url != POSTGRES_URL
    leadership = AdvisoryLeadership(url, key=key, **FAST)
    await leadership.start()  # no lead, no error: it keeps trying
    try:
        assert leadership.role == "standby"
    finally:
        await leadership.stop()


async def test_on_sqlite_a_second_process_on_the_same_file_is_refused(tmp_path: Path) -> None:
    database_file = str(tmp_path / "b.db")
    first, second = SoleLeadership(database_file), SoleLeadership(database_file)
    await first.start()
    assert first.role == "leader"
    with pytest.raises(
        AlreadyRunning, match=rf"already running on .*b\.db \(process {os.getpid()}\)"
    ):
        second.open()
    await first.stop()
    second.open()  # the first is gone: free again
    assert second.role == "leader"
    await second.stop()


async def test_the_leadership_fits_the_database(tmp_path: Path) -> None:
    on_file = Database(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    in_memory = Database("sqlite+aiosqlite:///:memory:")
    try:
        sole = leadership_for(on_file)
        assert isinstance(sole, SoleLeadership) and sole.lock_file == f"{tmp_path / 'b.db'}.lock"
        memory = leadership_for(in_memory)
        assert isinstance(memory, SoleLeadership) and memory.lock_file is None
        if POSTGRES_URL:
            postgres = Database(POSTGRES_URL)
            assert isinstance(leadership_for(postgres), AdvisoryLeadership)
            await postgres.dispose()
    finally:
        await on_file.dispose()
        await in_memory.dispose()


# --- the service's wiring: what runs on the leader only -----------------------------------------

LEADERS_JOBS = {"sweep_waitlists", "sweep_dialogs", "weekly_digest", "outbox-sweep"}


def leads(service: Service) -> bool:
    """Everything that must run once runs here: the scheduler's jobs, the dispatcher, the
    broadcast progress, polling."""
    assert service.bot is not None and service.bot.updater is not None
    jobs = {job.id for job in service.scheduler.get_jobs()}
    return (
        jobs >= LEADERS_JOBS
        and service.scheduler.state == STATE_RUNNING
        and service.dispatcher is not None
        and PROGRESS_KEY in service.bot.bot_data
        and service.bot.updater.running
    )


def stands_by(service: Service) -> bool:
    """Nothing of the leader's runs here; the bot is there to handle updates, HTTP serves."""
    assert service.bot is not None and service.bot.updater is not None
    return (
        service.scheduler.get_jobs() == []
        and service.scheduler.state == STATE_PAUSED
        and service.dispatcher is None
        and PROGRESS_KEY not in service.bot.bot_data
        and not service.bot.updater.running
        and service.bot.running
    )


@pytest.mark.postgres
async def test_only_the_leader_runs_what_must_run_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    await (await postgres_database()).dispose()  # migrated, emptied
    emulator = TelegramEmulator(token=TOKEN, limits=Limits.off())
    anna = emulator.user("Anna", language_code="nl")
    async with serve(emulator) as api_url:

        def config() -> Config:
            port = free_port()
            return Config(
                database=DatabaseConfig(url=POSTGRES_URL),
                http=HttpConfig(port=port, public_url=f"http://127.0.0.1:{port}"),
                telegram=TelegramConfig(token=TOKEN, api_base_url=api_url),
            )

        first, second = Service(config()), Service(config())
        await first.start()
        await second.start()
        try:
            assert (first.leadership.role, second.leadership.role) == ("leader", "standby")
            assert leads(first) and stands_by(second)
            # The command menus: published once, by the leader (a call per language and one
            # for everyone else).
            assert emulator.stats.requests["setMyCommands"] == len(MEMBER_COMMANDS) + 1
            async with httpx.AsyncClient() as client:
                for service, role in ((first, "leader"), (second, "standby")):
                    health = await client.get(f"{service.config.http.public_url}/healthz")
                    assert health.json() == {
                        "status": "ok",
                        "role": role,
                        "database": "ok",
                        "scheduler": "ok",
                    }
            await anna.send("/help").reply()

            pid = await lock_holder_pid(LEADER_LOCK)
            assert pid is not None
            await terminate(pid)
            async with asyncio.timeout(WITHIN_S):
                await second.leadership.wait_until_leader()
            assert stands_by(first)
            async with asyncio.timeout(WITHIN_S):
                while True:  # polled: its on_lead hooks are under way
                    if leads(second):
                        break
                    await asyncio.sleep(0.05)
            assert emulator.stats.requests["setMyCommands"] == 2 * (len(MEMBER_COMMANDS) + 1)
            reply = await anna.send("/help").reply()
            assert "Zo werkt Buurtagenda" in reply.content
        finally:
            await first.stop()
            await second.stop()
    # Never two getUpdates at once (a 409 the emulator gives a poll abandoned at a stop
    # reaches nobody).
    assert "Conflict" not in caplog.text
