"""``buurtagenda db copy --to URL``: everything in the configured database into an empty one
(SQLite to PostgreSQL, typically), and ``buurtagenda db backup FILE`` for SQLite.

The copy takes every table the models define, parents before children (the metadata's
dependency order, so a table added later comes along without being named here), keeps every
primary key (feed tokens, deep links and calendar UIDs refer to rows by them or are stored in
them), reads the source from one snapshot (a service may go on writing) and writes the target in
one transaction (a copy that fails leaves the target empty, ready to try again). Rows travel in
batches in primary-key order, so memory stays flat however large the tables. Afterwards
PostgreSQL's id sequences continue after the copied ids, and the rows are counted on both sides.

The backup uses SQLite's online backup API in a thread: one read transaction on the live file
(in WAL mode it blocks no writer), the copy checked, then moved into place.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, inspect, select, text, tuple_
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from models import Base, migrations
from models.db import Database

# Rows per round trip: large enough that a trip's overhead vanishes, small enough that a batch
# of the widest table (outbox rows with their payload) stays a few megabytes.
BATCH_ROWS = 1000


class CopyRefused(Exception):
    """The copy cannot start; the message says why in one line."""


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int

    @property
    def agrees(self) -> bool:
        return self.source == self.target


def tables_in_order() -> Sequence[Table]:
    """Every table the models define, each after the tables it refers to."""
    return Base.metadata.sorted_tables


async def copy_database(
    source: Database,
    target: Database,
    *,
    batch_rows: int = BATCH_ROWS,
    on_table: Callable[[str, int], None] | None = None,
) -> list[TableCount]:
    """Copy everything from ``source`` into ``target`` (migrated here; it must hold no rows).

    ``on_table(name, rows)`` is called as each table is done. Returns the rows per table in
    the source's snapshot and in the target after the commit: equal when all went well."""
    head = migrations.head_revision()
    revision = await migrations.current_revision(source)
    if revision != head:
        raise CopyRefused(
            f"the source database is at schema {revision or '(none)'}, this version's is {head}: "
            "run `buurtagenda db upgrade` on it first"
        )
    await _refuse_unless_empty(target)
    await migrations.upgrade(target)
    await _refuse_unless_empty(target)  # a migration that wrote rows would be copied over
    source_counts: dict[str, int] = {}
    async with source.snapshot() as reading, target.engine.begin() as writing:
        for table in tables_in_order():
            source_counts[table.name] = await _count(reading, table)
            copied = await _copy_table(reading, writing, table, batch_rows)
            if on_table is not None:
                on_table(table.name, copied)
        if target.engine.dialect.name == "postgresql":
            await _continue_sequences(writing)
    async with target.engine.connect() as connection:
        return [
            TableCount(table.name, source_counts[table.name], await _count(connection, table))
            for table in tables_in_order()
        ]


async def _count(connection: AsyncConnection, table: Table) -> int:
    return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def _refuse_unless_empty(target: Database) -> None:
    def existing_tables(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names())

    async with target.engine.connect() as connection:
        present = await connection.run_sync(existing_tables)
        for table in tables_in_order():
            if table.name in present and (rows := await _count(connection, table)):
                raise CopyRefused(
                    f"the target database is not empty (table {table.name} has {rows} rows): "
                    "db copy only fills an empty database"
                )


async def _copy_table(
    reading: AsyncConnection, writing: AsyncConnection, table: Table, batch_rows: int
) -> int:
    """The table's rows in batches, in primary-key order (keyset paging: each batch starts
    after the last key of the one before, so no batch reads what it skips)."""
    key = list(table.primary_key.columns)
    query = select(table).order_by(*key).limit(batch_rows)
    last: tuple[Any, ...] | None = None
    copied = 0
    while True:
        page = query
        if last is not None:
            page = query.where(key[0] > last[0] if len(key) == 1 else tuple_(*key) > last)
        rows = [dict(row) for row in (await reading.execute(page)).mappings()]
        if not rows:
            return copied
        await writing.execute(insert(table), rows)
        copied += len(rows)
        last = tuple(rows[-1][column.name] for column in key)


async def _continue_sequences(writing: AsyncConnection) -> None:
    """PostgreSQL hands out ids from a sequence that knows nothing of the copied rows: set each
    to go on after the highest copied id (or start at 1 for an empty table)."""
    for table in tables_in_order():
        column = table.autoincrement_column
        if column is None:
            continue
        await writing.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'coalesce((SELECT max("{column.name}") FROM "{table.name}"), 0) + 1, false)'
            ),
            {"table": table.name, "column": column.name},
        )


# --- backup (SQLite) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Backup:
    path: Path
    size_bytes: int


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def pg_dump_command(url: str, file: str) -> str:
    """The ``pg_dump`` line that backs up the PostgreSQL database at ``url`` (its password
    left out: ``PGPASSWORD`` or ``~/.pgpass`` gives it)."""
    parsed = make_url(url)
    without_password = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    return f"pg_dump --format=custom --file={file} '{without_password.render_as_string()}'"


async def backup_sqlite(source: Path, destination: Path) -> Backup:
    """A consistent copy of the SQLite database ``source`` at ``destination`` while the service
    may be writing to it, without holding up the event loop (the copy runs in a thread)."""
    return await asyncio.to_thread(_backup, source, destination)


def _backup(source: Path, destination: Path) -> Backup:
    if not source.is_file():
        raise FileNotFoundError(f"no SQLite database at {source}")
    if destination.resolve() == source.resolve():
        raise ValueError(f"{destination} is the database itself: back it up to another file")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        # mode=rw: never create an empty database where the real one was expected.
        live = sqlite3.connect(f"file:{source}?mode=rw", uri=True, timeout=30)
        with closing(live), closing(sqlite3.connect(partial)) as copy:
            # All pages in one step: one read transaction, so one consistent moment (in steps,
            # every write by the service in between would start the backup over).
            live.backup(copy, pages=-1)
            (verdict,) = copy.execute("PRAGMA quick_check").fetchone()
            if verdict != "ok":
                raise RuntimeError(f"the backup did not pass SQLite's check: {verdict}")
            # One self-contained file (no -wal beside it); the service turns WAL on again.
            copy.execute("PRAGMA journal_mode=DELETE")
        with partial.open("rb+") as written:
            os.fsync(written.fileno())
        partial.replace(destination)  # a previous backup stays whole until this one is
    finally:
        partial.unlink(missing_ok=True)
    return Backup(destination, destination.stat().st_size)


__all__ = [
    "BATCH_ROWS",
    "Backup",
    "CopyRefused",
    "TableCount",
    "backup_sqlite",
    "copy_database",
    "pg_dump_command",
    "sqlite_path",
    "tables_in_order",
]
