"""The database: engine set-up per dialect, and the two ways in (a read, a write transaction).

SQLite (the default) runs in WAL mode with a busy timeout and foreign keys on. A write transaction
starts with ``BEGIN IMMEDIATE``: SQLite then serialises writers at the start, which is what keeps
capacity from being exceeded (two deferred transactions that both read "one seat left" would
otherwise both try to upgrade to a write lock, and one would fail). On PostgreSQL the operations
lock the rows they decide on (``SELECT ... FOR UPDATE`` on the event), so writers for different
events do not wait for each other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 30_000
_IMMEDIATE = "buurtagenda_immediate"
# Set by ``models.outbox.operations.enqueue``: the earliest due time written in a transaction.
OUTBOX_DUE = "outbox_earliest_due"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine with the settings this service relies on for ``url``'s dialect."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (not the sqlite3 module) decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=NORMAL",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """Owns the engine; hands out sessions for reading and transactions for writing."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        writer = self.engine.execution_options(**{_IMMEDIATE: True})
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = async_sessionmaker(writer, expire_on_commit=False)
        self._outbox_listeners: list[Callable[[datetime], None]] = []

    def on_outbox_commit(self, listener: Callable[[datetime], None]) -> None:
        """Call ``listener(earliest_due)`` after a commit that wrote outbox rows (the dispatcher
        wakes up then, rather than at its next sweep)."""
        self._outbox_listeners.append(listener)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed when the block ends, rolled back on any error."""
        async with self._writer() as session:
            async with session.begin():
                yield session
            due = session.info.pop(OUTBOX_DUE, None)
        if due is not None:
            for listener in self._outbox_listeners:
                listener(due)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading; anything it changes is discarded."""
        async with self._reader() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
