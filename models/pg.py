"""What only PostgreSQL gives the instances sharing it: notifications between them.

``Listener`` keeps one dedicated connection (not from the pool: a pooled connection is handed to
others, and LISTEN belongs to a session) that LISTENs on a few channels and passes each
notification's payload on. When that connection drops it says so (``on_state(False)``),
connects again with a growing pause, and says so again (``on_state(True)``): notifications sent
in between are lost, so whoever relies on them must assume anything changed meanwhile.

A connection that silently went away (a cable, a firewall) is noticed by a ``SELECT 1`` every
``check_s`` seconds; a closed one (a server restart, ``pg_terminate_backend``) at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

# The channels the service uses (payloads: see ``models.db.Database``).
OUTBOX_CHANNEL = "buurtagenda_outbox"
MEMBERS_CHANNEL = "buurtagenda_members"


def asyncpg_dsn(url: str) -> str:
    """The ``postgresql://`` DSN asyncpg takes, from the service's SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    """LISTENs on ``channels`` (name → callback with the payload) on a connection of its own."""

    def __init__(
        self,
        url: str,
        channels: dict[str, Callable[[str], None]],
        on_state: Callable[[bool], None],
        *,
        check_s: float = 5.0,
        retry_s: float = 0.5,
        retry_max_s: float = 10.0,
    ) -> None:
        self.dsn = asyncpg_dsn(url)
        self.channels = channels
        self.on_state = on_state
        self.check_s = check_s
        self.retry_s = retry_s
        self.retry_max_s = retry_max_s
        self.connected = False
        self.connection: Any = None
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._up = asyncio.Event()

    async def start(self, *, wait_s: float = 5.0) -> None:
        """Start listening; waits up to ``wait_s`` for the first connection (then goes on
        trying in the background)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="postgres-listener")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                await self._up.wait()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close()
        self._set_state(False)

    async def _run(self) -> None:
        pause = self.retry_s
        while True:
            try:
                await self._connect()
            except Exception as error:  # whatever it was: try again
                log.warning("listening to PostgreSQL failed (%s); retrying in %.1f s", error, pause)
                await asyncio.sleep(pause)
                pause = min(self.retry_max_s, pause * 2)
                continue
            pause = self.retry_s
            self._set_state(True)
            await self._watch()
            self._set_state(False)
            log.warning("the connection listening to PostgreSQL was lost; connecting again")
            await self._close()

    async def _connect(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        # An event per connection: asyncpg may call an old connection's termination listener
        # late, when the next one is up already.
        self._lost = lost = asyncio.Event()
        connection = await asyncpg.connect(self.dsn, timeout=self.check_s)
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            for channel, callback in self.channels.items():
                await connection.add_listener(channel, _pass_payload(callback))
        except BaseException:
            connection.terminate()
            raise
        self.connection = connection

    async def _watch(self) -> None:
        """Until the connection is lost: a closed connection sets ``_lost``; a silent one fails
        the periodic check."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.check_s):
                    await self._lost.wait()
            if self._lost.is_set():
                return
            try:
                await self.connection.fetchval("SELECT 1", timeout=self.check_s)
            except Exception:  # whatever broke: the connection is gone
                return

    async def _close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()

    def _set_state(self, connected: bool) -> None:
        if connected == self.connected:
            return
        self.connected = connected
        if connected:
            self._up.set()
        else:
            self._up.clear()
        try:
            self.on_state(connected)
        except Exception:
            log.exception("a listener of the PostgreSQL connection's state failed")


def _pass_payload(callback: Callable[[str], None]) -> Callable[[Any, int, str, str], None]:
    def on_notification(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            callback(payload)
        except Exception:
            log.exception("handling a PostgreSQL notification failed")

    return on_notification
