"""Which instance leads: the one that runs what must run once (the scheduler's jobs, the outbox
dispatcher, fetching updates from Telegram, the command menus).

On PostgreSQL any number of instances share one database. The leader is the one holding a
*session* advisory lock (``pg_try_advisory_lock``) on a connection of its own, outside the
pool: the lock lives exactly as long as that connection. The leader asks the connection for a
sign of life every second; when it is gone (the process died, the server ended the session, the
network broke) the lock is gone too, and the leader stops its work at once. The others stand by
and try the lock every few seconds, so a standby leads within seconds after the leader's
connection ends (``kill -9``: at once; a vanished host: when the server's TCP keepalives notice,
about ten seconds). The server also ends a session that said nothing for ten seconds
(``idle_session_timeout``), so a leader whose process hangs cannot keep the lock either.

On SQLite there is one process, and it always leads: a second process on the same file is
refused at start (an exclusive ``flock`` on ``<file>.lock``, released by the OS when the process
ends, however it ends).

``on_lead`` and ``on_lose`` take what the service starts and stops with the lead: on_lead in the
order given when the lead is taken, on_lose in reverse when it goes (lost, or handed on at a
stop). An on_lead that fails hands the lead on again (what had started is stopped).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from models.db import Database
from models.locks import LEADER_LOCK

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]
Role = Literal["leader", "standby"]

# How often a standby tries the lock, and the leader checks its connection.
RETRY_S = 2.0
CHECK_S = 1.0
# An answer to the check slower than this counts as a lost connection.
CHECK_TIMEOUT_S = 3.0
# After losing the lead, wait this long before trying again: the standbys (trying every
# RETRY_S) get it first, rather than the instance whose connection just failed.
HOLD_OFF_S = 2.5 * RETRY_S
CONNECT_TIMEOUT_S = 5.0
APPLICATION_NAME = "buurtagenda leadership"
# The lock connection's session, on the server's side: a silent client counts as gone.
SESSION_SETTINGS = {
    "idle_session_timeout": "10s",  # PostgreSQL 14+
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
}


class AlreadyRunning(Exception):
    """Another ``buurtagenda run`` uses this SQLite file."""


class Leadership:
    """The role of this instance and the hooks to run when it changes."""

    def __init__(self) -> None:
        self.is_leader = False
        self._leading = asyncio.Event()
        self._on_lead: list[Hook] = []
        self._on_lose: list[Hook] = []

    @property
    def role(self) -> Role:
        return "leader" if self.is_leader else "standby"

    def on_lead(self, hook: Hook) -> None:
        """Run ``hook`` each time this instance takes the lead (register before ``start``)."""
        self._on_lead.append(hook)

    def on_lose(self, hook: Hook) -> None:
        """Run ``hook`` each time the lead goes: lost, or handed on at a stop."""
        self._on_lose.append(hook)

    async def wait_until_leader(self) -> None:
        await self._leading.wait()

    def open(self) -> None:
        """Before anything else at start: refuse to start when this instance may not run."""

    async def start(self) -> None:
        """Lead now if it can (an error in an on_lead hook is raised), and keep trying."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Hand the lead on (the on_lose hooks run) and stop trying."""
        raise NotImplementedError

    async def _take_lead(self) -> None:
        """The on_lead hooks; when one fails, those that ran are undone and the error raised."""
        self.is_leader = True
        self._leading.set()
        try:
            for hook in self._on_lead:
                await hook()
        except BaseException:
            await self._give_up_lead()
            raise

    async def _give_up_lead(self) -> None:
        """The on_lose hooks, all of them whatever one of them raises."""
        self.is_leader = False
        self._leading.clear()
        for hook in reversed(self._on_lose):
            try:
                await hook()
            except Exception:
                log.exception("leadership: stopping the leader's work failed")


class SoleLeadership(Leadership):
    """SQLite: this process always leads; a second one on the same file refuses to start."""

    def __init__(self, database_file: str | None) -> None:
        super().__init__()
        self.database_file = database_file
        self.lock_file = f"{database_file}.lock" if database_file else None
        self._lock_fd: int | None = None

    def open(self) -> None:
        if self.lock_file is None:  # an in-memory database: nobody else can open it
            self.is_leader = True
            return
        if self._lock_fd is not None:
            return
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            other = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            who = f" (process {other})" if other.isdigit() else ""
            raise AlreadyRunning(
                f"another buurtagenda is already running on {self.database_file}{who}; "
                "with SQLite only one may (several instances need PostgreSQL)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)  # who holds it, for the refusal above
        self._lock_fd = fd
        # Nobody else can lead: its role is leader from here (what /healthz says while the
        # rest starts), the on_lead hooks run at ``start``.
        self.is_leader = True

    async def start(self) -> None:
        self.open()
        log.info("leadership: the only instance on this SQLite database, so it leads")
        await self._take_lead()

    async def stop(self) -> None:
        if self._leading.is_set():  # the on_lead hooks ran
            await self._give_up_lead()
        self.is_leader = False
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None


class AdvisoryLeadership(Leadership):
    """PostgreSQL: the holder of a session advisory lock leads; the others stand by."""

    def __init__(
        self,
        url: URL | str,
        *,
        key: int = LEADER_LOCK,
        retry_s: float = RETRY_S,
        check_s: float = CHECK_S,
        check_timeout_s: float = CHECK_TIMEOUT_S,
        hold_off_s: float = HOLD_OFF_S,
    ) -> None:
        super().__init__()
        # A connection of its own, never from (or back to) the pool: the lock lives with it.
        self._engine = create_async_engine(
            url,
            poolclass=NullPool,
            connect_args={
                "timeout": CONNECT_TIMEOUT_S,
                "server_settings": {"application_name": APPLICATION_NAME},
            },
        )
        self.key = key
        self.retry_s = retry_s
        self.check_s = check_s
        self.check_timeout_s = check_timeout_s
        self.hold_off_s = hold_off_s
        self._connection: AsyncConnection | None = None
        self._driver: Any = None  # asyncpg's connection under it
        self._lost = asyncio.Event()  # set by asyncpg when the connection ends
        self._stopping = asyncio.Event()
        self._campaign: asyncio.Task[None] | None = None
        self._said: str | None = None  # the last state logged, to log each change once

    async def start(self) -> None:
        if await self._try_lock():
            self._say("leads", "leadership: this instance leads (PostgreSQL advisory lock)")
            await self._take_lead()  # an error here fails the start, as on SQLite
        self._campaign = asyncio.create_task(self._run(), name="leadership")

    async def stop(self) -> None:
        self._stopping.set()
        if self._campaign is not None:
            await self._campaign
            self._campaign = None
        if self.is_leader:
            log.info("leadership: handing on the lead (stopping)")
            await self._give_up_lead()
        await self._disconnect()
        await self._engine.dispose()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            if self.is_leader:
                reason = await self._watch()
                if reason is None:
                    return  # stopping: stop() hands the lead on
                log.info("leadership: lost the lead (%s); stopping the leader's work", reason)
                await self._give_up_lead()
                await self._disconnect()
                self._say("standby", "leadership: standing by")
                await self._pause(self.hold_off_s)
            elif await self._try_lock():
                self._say("leads", "leadership: this instance leads now")
                try:
                    await self._take_lead()
                except Exception:
                    log.exception("leadership: could not take up the lead; handing it on")
                    await self._disconnect()
                    self._say("standby", "leadership: standing by")
                    await self._pause(self.hold_off_s)
            else:
                await self._pause(self.retry_s)

    async def _try_lock(self) -> bool:
        """One try at the lock (connecting first if needed); False also when unreachable."""
        try:
            if self._driver is None:
                await self._connect()
            got = bool(
                await self._driver.fetchval(
                    "SELECT pg_try_advisory_lock($1)", self.key, timeout=self.check_timeout_s
                )
            )
        except Exception as error:
            self._say(
                "unreachable",
                f"leadership: PostgreSQL not reachable ({type(error).__name__}); "
                f"trying again every {self.retry_s:g} s",
                level=logging.WARNING,
            )
            await self._disconnect()
            return False
        if not got:
            self._say(
                "standby",
                "leadership: standing by; another instance leads "
                f"(trying every {self.retry_s:g} s)",
            )
        return got

    async def _watch(self) -> str | None:
        """While leading: the reason the lead is lost, or None when stopping."""
        while True:
            lost = asyncio.ensure_future(self._lost.wait())
            stopping = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait(
                {lost, stopping}, timeout=self.check_s, return_when="FIRST_COMPLETED"
            )
            lost.cancel()
            stopping.cancel()
            if self._stopping.is_set():
                return None
            if self._lost.is_set():
                return "the database connection ended"
            try:
                await self._driver.fetchval("SELECT 1", timeout=self.check_timeout_s)
            except Exception as error:
                return f"the database connection failed: {type(error).__name__}"

    async def _connect(self) -> None:
        self._lost.clear()
        connection = await self._engine.connect()
        try:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            driver.add_termination_listener(lambda _connection: self._lost.set())
            for name, value in SESSION_SETTINGS.items():
                if name == "idle_session_timeout" and driver.get_server_version().major < 14:
                    continue
                await driver.execute(f"SET {name} = '{value}'")
        except BaseException:
            await connection.invalidate()
            await connection.close()
            raise
        self._connection, self._driver = connection, driver

    async def _disconnect(self) -> None:
        """Close the lock's connection (the server then drops the lock, if it still holds it)."""
        connection, self._connection, self._driver = self._connection, None, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            await connection.invalidate()  # no reset on a connection that may be broken
        with contextlib.suppress(Exception):
            await connection.close()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    def _say(self, state: str, message: str, *, level: int = logging.INFO) -> None:
        if self._said != state:
            self._said = state
            log.log(level, message)


def leadership_for(database: Database) -> Leadership:
    """The leadership that fits the database: advisory lock on PostgreSQL, sole on SQLite."""
    url = database.engine.url
    if database.is_sqlite:
        in_memory = not url.database or url.database == ":memory:" or "mode=memory" in str(url)
        return SoleLeadership(None if in_memory else url.database)
    return AdvisoryLeadership(url)


__all__ = [
    "AdvisoryLeadership",
    "AlreadyRunning",
    "Leadership",
    "SoleLeadership",
    "leadership_for",
]
