"""The database: engine set-up per dialect, and the two ways in (a read, a write transaction).

SQLite (the default) runs in WAL mode with a busy timeout and foreign keys on. A write transaction
starts with ``BEGIN IMMEDIATE``: SQLite then serialises writers at the start, which is what keeps
capacity from being exceeded (two deferred transactions that both read "one seat left" would
otherwise both try to upgrade to a write lock, and one would fail). On PostgreSQL the operations
lock the rows they decide on (``SELECT ... FOR UPDATE`` on the event), so writers for different
events do not wait for each other.

Within one process, SQLite writers also queue on an ``asyncio.Lock`` before ``BEGIN IMMEDIATE``:
writers waiting in SQLite's busy handler sleep in growing steps (up to 100 ms) however soon the
lock is free, which made a write under load take a second now and then; queued in the event
loop, the next writer starts as soon as the previous one commits. Other processes (the
scheduler) still meet at SQLite's lock. A writer that waited the whole busy timeout for the
in-process lock goes on without it (as if there were none), so nothing can hang on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import weakref
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiosqlite
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import PoolResetState

from models.pg import MEMBERS_CHANNEL, OUTBOX_CHANNEL, Listener

log = logging.getLogger(__name__)
SQLITE_BUSY_TIMEOUT_MS = 30_000
_IMMEDIATE = "buurtagenda_immediate"
# Set by ``models.outbox.operations.enqueue``: the earliest due time written in a transaction.
OUTBOX_DUE = "outbox_earliest_due"
# Set by ``models.members.changes``: the Telegram ids whose member row a transaction changed
# (None among them: some member rows, not known which).
MEMBERS_CHANGED = "members_changed"
# Execution option of a write whose result nobody reads (a history row): on SQLite it waits
# for the transaction's next trip to the database (see ``_OneTripConnection``).
DEFERRED = "buurtagenda_deferred"
# Execution option of a read transaction that must see one snapshot (``Database.snapshot``): on
# SQLite its BEGIN goes with the first SELECT instead of waiting for a write that never comes.
_SNAPSHOT = "buurtagenda_snapshot"
# PostgreSQL: what a transaction announces to the other instances, sent inside it (so only a
# commit delivers it, and with it). Payload: "<origin>|<due time>" / "<origin>|<ids or *>".
_NOTIFY_OUTBOX = text(f"SELECT pg_notify('{OUTBOX_CHANNEL}', :outbox)")
_NOTIFY_MEMBERS = text(f"SELECT pg_notify('{MEMBERS_CHANNEL}', :members)")
_NOTIFY_BOTH = text(
    f"SELECT pg_notify('{OUTBOX_CHANNEL}', :outbox), pg_notify('{MEMBERS_CHANNEL}', :members)"
)
_SOME_MEMBERS = "*"  # some members changed, not known which
_MAX_PAYLOAD = 7000  # PostgreSQL's limit is 8000 bytes


class _OneTripCursor(aiosqlite.Cursor):
    """An aiosqlite cursor that executes and fetches in one trip to the connection's thread.

    aiosqlite runs every call on its own thread and SQLAlchemy makes four such calls per
    statement (open the cursor, execute, fetch all, close): each a hand-over to the thread and a
    wake-up of the event loop, together most of what a small query costs. Here the cursor is
    made and closed on the caller's side (no I/O; the sqlite3 connection is opened with
    ``check_same_thread=False``, and SQLAlchemy never uses one connection from two places at
    once) and the rows are fetched in the same trip as the execute.
    """

    _rows: list[Any] | None = None

    def _execute_and_fetch(
        self, waiting: list[_Statement], sql: str, parameters: Any
    ) -> list[Any] | None:
        _run(self._cursor, waiting)
        self._cursor.execute(sql, parameters)
        return self._cursor.fetchall() if self._cursor.description else None

    def _execute_many(self, waiting: list[_Statement], sql: str, parameters: Any) -> None:
        _run(self._cursor, waiting)
        self._cursor.executemany(sql, parameters)

    async def execute(self, sql: str, parameters: Any = None) -> _OneTripCursor:
        parameters = [] if parameters is None else parameters
        if self._connection.take_deferral():
            self._connection.defer(sql, parameters)  # goes with the next trip
            self._rows = None
            return self
        self._rows = await self._conn._execute(  # type: ignore[no-untyped-call]
            self._execute_and_fetch, self._connection.take_waiting(sql), sql, parameters
        )
        return self

    async def executemany(self, sql: str, parameters: Any) -> _OneTripCursor:
        self._rows = None
        await self._conn._execute(  # type: ignore[no-untyped-call]
            self._execute_many, self._connection.take_waiting(None), sql, parameters
        )
        return self

    @property
    def _connection(self) -> _OneTripConnection:
        return self._conn  # type: ignore[return-value]

    def _take(self, size: int | None) -> list[Any]:
        if self._rows is None:
            return []
        if size is None:
            rows, self._rows = self._rows, []
            return rows
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchone(self) -> Any:
        rows = self._take(1)
        return rows[0] if rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._take(self.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._take(None)

    async def close(self) -> None:
        self._rows = None
        self._cursor.close()


class _CursorOpening:
    def __init__(self, cursor: _OneTripCursor) -> None:
        self.cursor = cursor

    def __await__(self) -> Generator[Any, None, _OneTripCursor]:
        return self._opened().__await__()  # no I/O: ready at once, no turn of the event loop

    async def _opened(self) -> _OneTripCursor:
        return self.cursor

    async def __aenter__(self) -> _OneTripCursor:
        return self.cursor

    async def __aexit__(self, *_: object) -> None:
        await self.cursor.close()


_Statement = tuple[str, Any]  # SQL and its parameters


def _is_select(sql: str | None) -> bool:
    return sql is not None and sql.lstrip()[:6].upper() == "SELECT"


def _run(cursor: Any, statements: list[_Statement]) -> None:
    for sql, parameters in statements:
        cursor.execute(sql, parameters)


class _OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection that also saves the trips of BEGIN, of writes nobody waits for,
    and of an empty COMMIT.

    A transaction's BEGIN is not sent on its own: it waits here and goes in the same trip as the
    transaction's first statement. A statement executed with the ``DEFERRED`` option (an
    INSERT whose result nobody reads, such as a history row) waits the same way, for the next
    statement or the COMMIT, in order; an error in it is then raised there. A transaction
    that sent nothing has nothing to commit or roll back.

    A read session's BEGIN (``defer_begin(..., reads_alone=True)``) waits for its first write:
    until then each SELECT runs on its own (SQLite's autocommit), which is what PostgreSQL's
    READ COMMITTED gives every statement anyway. Nothing is then open at the end, so closing a
    read session costs no ROLLBACK, a trip to the driver's thread per session otherwise. A read
    session that does write still has its BEGIN sent before that write, and it is rolled back.
    """

    _pending_begin: str | None = None
    _begin_waits_for_write = False
    _deferred: list[_Statement] | None = None
    _defer_next = False

    def cursor(self) -> Any:
        return _CursorOpening(_OneTripCursor(self, self._conn.cursor()))

    def defer_begin(self, sql: str, *, reads_alone: bool = False) -> None:
        self._pending_begin = sql
        self._begin_waits_for_write = reads_alone

    def defer_next_statement(self) -> None:
        self._defer_next = True

    def take_deferral(self) -> bool:
        defer, self._defer_next = self._defer_next, False
        return defer

    def defer(self, sql: str, parameters: Any) -> None:
        self._deferred = [*(self._deferred or []), (sql, parameters)]

    def take_waiting(self, sql: str | None) -> list[_Statement]:
        """What must run before ``sql`` (None: a write, or the end): BEGIN, then the deferred
        writes. A read session's BEGIN stays waiting while only SELECTs come."""
        deferred, self._deferred = self._deferred or [], None
        if self._begin_waits_for_write and not deferred and _is_select(sql):
            return []
        begin, self._pending_begin = self._pending_begin, None
        return [(begin, ()), *deferred] if begin is not None else deferred

    def _commit_after(self, waiting: list[_Statement]) -> None:
        _run(self._conn.cursor(), waiting)
        self._conn.commit()

    async def commit(self) -> None:
        sent_nothing = self._pending_begin is not None and not self._deferred
        waiting = self.take_waiting(None)
        if not sent_nothing:
            await self._execute(self._commit_after, waiting)  # type: ignore[no-untyped-call]

    async def rollback(self) -> None:
        sent_nothing = self._pending_begin is not None
        self._deferred = self._pending_begin = None  # deferred writes go with the transaction
        if not sent_nothing:
            await super().rollback()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine with the settings this service relies on for ``url``'s dialect."""
    if url.startswith("sqlite"):
        # As many connections as SQLAlchemy's default allows at most (5 + 10 overflow), but all
        # kept: an overflow connection is closed when returned, and under load each new one cost
        # a thread, a file open and the PRAGMAs, again and again.
        file_db = ":memory:" not in url and "mode=memory" not in url
        if file_db and not {"poolclass", "pool_size", "max_overflow"} & kwargs.keys():
            kwargs.update(pool_size=15, max_overflow=0)
        engine = create_async_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            # A returned connection is rolled back only if a transaction is open (``_on_reset``).
            pool_reset_on_return=None,
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        driver = getattr(dbapi_connection, "_connection", None)
        if type(driver) is aiosqlite.Connection:
            driver.__class__ = _OneTripConnection  # see _OneTripCursor
        # Let SQLAlchemy (not the sqlite3 module) decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=NORMAL",
            # Pages read through a memory map, not a read() each: a connection re-reads
            # pages after another connection's commit, which is every write here.
            "PRAGMA mmap_size=268435456",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        immediate = options.get(_IMMEDIATE, False)
        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        driver = connection.connection.driver_connection
        if isinstance(driver, _OneTripConnection):
            # Sent with the first write; a snapshot's with its first read.
            reads_alone = not immediate and not options.get(_SNAPSHOT, False)
            driver.defer_begin(begin, reads_alone=reads_alone)
        else:
            connection.exec_driver_sql(begin)

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _on_execute(
        connection: Connection, _cursor: Any, _sql: str, _params: Any, context: Any, many: bool
    ) -> None:
        if not many and context is not None and context.execution_options.get(DEFERRED):
            driver = connection.connection.driver_connection
            if isinstance(driver, _OneTripConnection):
                driver.defer_next_statement()

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        # SQLAlchemy's default rolls back every returned connection, even one just committed:
        # a trip to the driver's thread per transaction. Only an open transaction needs it.
        driver = getattr(dbapi_connection, "_connection", None)
        open_transaction = driver is None or driver.in_transaction
        if state.asyncio_safe and not state.terminate_only and open_transaction:
            dbapi_connection.rollback()


class Database:
    """Owns the engine; hands out sessions for reading and transactions for writing.

    After a commit it tells whoever registered which members changed and when new outbox rows
    are due. On PostgreSQL it tells the other instances too: the transaction sends a NOTIFY,
    and ``start_listening`` LISTENs (``models.pg.Listener``) and passes what the others
    committed to the same listeners, so they hear every instance's commits alike.
    """

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        writer = self.engine.execution_options(**{_IMMEDIATE: True})
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = async_sessionmaker(writer, expire_on_commit=False)
        self._outbox_listeners: list[Callable[[datetime], None]] = []
        self._member_listeners: list[Callable[[set[int | None]], None]] = []
        self._listening_listeners: list[Callable[[bool], None]] = []
        # Marks our own notifications, which our listeners have heard already.
        self.origin = secrets.token_hex(6)
        self.listener: Listener | None = None
        # SQLite: one writer at a time per event loop (see the module's docstring).
        self._write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def on_outbox_commit(self, listener: Callable[[datetime], None]) -> None:
        """Call ``listener(earliest_due)`` after a commit that wrote outbox rows (the dispatcher
        wakes up then, rather than at its next sweep)."""
        self._outbox_listeners.append(listener)

    def on_members_commit(self, listener: Callable[[set[int | None]], None]) -> None:
        """Call ``listener(telegram_ids)`` after a commit that changed member rows (None in the
        set: some, not known which), for whoever keeps members read earlier."""
        self._member_listeners.append(listener)

    def off_outbox_commit(self, listener: Callable[[datetime], None]) -> None:
        with contextlib.suppress(ValueError):
            self._outbox_listeners.remove(listener)

    @property
    def listening(self) -> bool:
        """Whether commits of every instance reach the listeners now: always on SQLite (one
        process); on PostgreSQL while the listening connection is up."""
        return self.is_sqlite or (self.listener is not None and self.listener.connected)

    def on_listening(self, listener: Callable[[bool], None]) -> None:
        """Call ``listener(listening)`` now and whenever that changes: while not listening,
        changes made by other instances go unheard (a cache must not keep anything then)."""
        self._listening_listeners.append(listener)
        listener(self.listening)

    async def start_listening(self) -> None:
        """PostgreSQL: hear the other instances' commits (nothing to do on SQLite)."""
        if self.is_sqlite or self.listener is not None:
            return
        self.listener = Listener(
            self.url,
            {OUTBOX_CHANNEL: self._heard_outbox, MEMBERS_CHANNEL: self._heard_members},
            self._listening_changed,
        )
        await self.listener.start()

    async def stop_listening(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            await listener.stop()

    def _listening_changed(self, listening: bool) -> None:
        for listener in self._listening_listeners:
            listener(listening)
        if listening:  # what was committed while we were deaf: due rows may be among it
            self._heard_outbox(f"|{datetime.now(UTC).isoformat()}")

    def _heard_outbox(self, payload: str) -> None:
        origin, _, due = payload.partition("|")
        if origin == self.origin:
            return
        try:
            when = datetime.fromisoformat(due)
        except ValueError:
            log.warning("unreadable outbox notification %r", payload[:80])
            return
        for listener in self._outbox_listeners:
            listener(when)

    def _heard_members(self, payload: str) -> None:
        origin, _, ids = payload.partition("|")
        if origin == self.origin:
            return
        changed: set[int | None] = set()
        for part in ids.split(","):
            try:
                changed.add(int(part))
            except ValueError:
                changed.add(None)  # "*" (or anything unreadable): assume all
        for listener in self._member_listeners:
            listener(changed)

    async def _announce(self, session: AsyncSession) -> None:
        """PostgreSQL: NOTIFY the other instances, inside the transaction (delivered at its
        commit, never for a rollback)."""
        due = session.info.get(OUTBOX_DUE)
        await session.flush()  # the commit's own flush may change members: note them first
        members = session.info.get(MEMBERS_CHANGED)
        if due is None and not members:
            return
        params: dict[str, str] = {}
        if due is not None:
            params["outbox"] = f"{self.origin}|{due.isoformat()}"
        if members:
            ids = (
                _SOME_MEMBERS
                if None in members
                else ",".join(str(telegram_id) for telegram_id in sorted(members))
            )
            params["members"] = f"{self.origin}|{ids if len(ids) < _MAX_PAYLOAD else _SOME_MEMBERS}"
        statement = (
            _NOTIFY_BOTH
            if len(params) == 2
            else _NOTIFY_OUTBOX
            if "outbox" in params
            else _NOTIFY_MEMBERS
        )
        await session.execute(statement, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed when the block ends, rolled back on any error."""
        # The session is made and closed outside the writer's turn (no I/O there): the next
        # writer need not wait for that work.
        async with self._writer() as session:
            async with self._writer_turn(), session.begin():
                yield session
                if not self.is_sqlite:
                    await self._announce(session)
            due = session.info.pop(OUTBOX_DUE, None)
            members = session.info.pop(MEMBERS_CHANGED, None)
        if members:
            for members_listener in self._member_listeners:
                members_listener(members)
        if due is not None:
            for listener in self._outbox_listeners:
                listener(due)

    @asynccontextmanager
    async def _writer_turn(self) -> AsyncIterator[None]:
        """SQLite: wait for this process's previous writer to finish (bounded by the busy
        timeout, after which SQLite's own lock decides, as without this queue)."""
        if not self.is_sqlite:
            yield
            return
        loop = asyncio.get_running_loop()
        lock = self._write_locks.get(loop)
        if lock is None:
            lock = self._write_locks[loop] = asyncio.Lock()
        acquired = False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):  # no task, unlike wait_for
                acquired = await lock.acquire()
        try:
            yield
        finally:
            if acquired:
                lock.release()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading; anything it changes is discarded."""
        async with self._reader() as session:
            yield session

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncConnection]:
        """A connection that sees the whole database as it was at its first read, for as long
        as the block runs, while others go on writing (``buurtagenda db copy``). SQLite: one
        read transaction (in WAL mode it holds its snapshot and blocks no writer); PostgreSQL:
        REPEATABLE READ, read only."""
        options: dict[str, Any] = (
            {_SNAPSHOT: True}
            if self.is_sqlite
            else {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
        async with self.engine.connect() as connection:
            await connection.execution_options(**options)
            async with connection.begin():
                yield connection

    async def dispose(self) -> None:
        await self.stop_listening()
        await self.engine.dispose()
