"""Moving to PostgreSQL (``buurtagenda db copy --to URL``) and backing up SQLite
(``buurtagenda db backup FILE``).

A realistic installation is made through the domain operations (members, a programme with a
series, registrations with a waitlist and their history, reminders and offers in the outbox, a
feed token, an organiser invitation and the audit log, a dialog in progress, ideas with votes,
a dialogue question, feedback, a broadcast); it is copied and compared row by row, and then
`buurtagenda run` serves the copy: the personal feed link still works and no calendar UID,
public code or deep link changed.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from buurtagenda.database_copy import (
    backup_sqlite,
    copy_database,
    pg_dump_command,
    tables_in_order,
)
from models import migrations
from models.broadcasts.operations import create_broadcast
from models.clock import FrozenClock
from models.db import Database
from models.dialogs import operations as dialogs
from models.events.entities import Cadence, Event, EventKind
from models.events.series import create_series
from models.feedback.operations import record_rating
from models.feeds.operations import feed_token_for
from models.ideas.operations import ask_question, propose_idea, vote
from models.members.entities import Role
from models.organisers.operations import invite_organiser
from models.registrations import operations as registrations
from models.registrations.entities import (
    Registration,
    RegistrationChange,
    RegistrationStatus,
)
from models.registrations.policy import RegistrationPolicy
from tests.conftest import POSTGRES_URL, sqlite_database
from tests.factories import make_event, make_member, register
from tests.feeds.helpers import properties
from tests.service_process import BIN, ServiceProcess

# --- a realistic installation ---------------------------------------------------------------


@dataclass
class Installation:
    feed_token: str  # the plain token of Bram's personal feed link
    event: Event  # a published event with registrations, a waitlist and history


async def fill(db: Database, clock: FrozenClock, policy: RegistrationPolicy) -> Installation:
    now = clock()
    admin = await make_member(db, name="Ans", role=Role.ADMIN)
    organiser = await make_member(db, name="Olga", network="oud-caberg", role=Role.ORGANISER)
    anna = await make_member(db, name="Anna")
    bram = await make_member(db, name="Bram", network="amby")
    carla = await make_member(db, name="Carla", network="oud-caberg")
    dirk = await make_member(db, name="Dirk", network=None)
    async with db.transaction() as session:
        await invite_organiser(session, actor_id=admin.id, now=now)
        await create_series(
            session,
            actor_id=organiser.id,
            kind=EventKind.MASTERCLASS,
            cadence=Cadence.QUARTERLY,
            year=now.year,
            now=now,
            publish=True,
        )
    event = await make_event(db, now, capacity=2, title="Omgevingswet in de buurt")
    for member in (anna, bram, carla):  # Carla waits
        await register(db, clock, policy, event, member)
    async with db.transaction() as session:  # Anna cancels: Carla is offered the seat
        await registrations.cancel(
            session, event_id=event.id, member_id=anna.id, now=now, policy=policy
        )
    dialogue = await make_event(
        db, now, kind=EventKind.DIALOOG, title="Dialoog met de raad", starts_in=timedelta(days=9)
    )
    await register(db, clock, policy, dialogue, dirk)
    past = await make_event(db, now, title="Buurten leren van elkaar", starts_in=timedelta(hours=2))
    came = await register(db, clock, policy, past, bram)
    async with db.transaction() as session:
        await ask_question(
            session, member_id=dirk.id, event_id=dialogue.id, text="Wat doet de gemeente?", now=now
        )
        idea = await propose_idea(
            session,
            member_id=anna.id,
            kind=EventKind.MASTERCLASS,
            title="Groen in de wijk",
            now=now,
        )
        await vote(session, member_id=carla.id, idea_id=idea.id, now=now)
        issued = await feed_token_for(session, member_id=bram.id, now=now)
        await dialogs.start(session, member_id=anna.id, flow="idee", step="titel", now=now)
        await create_broadcast(
            session,
            actor_id=organiser.id,
            html="<b>Nieuw</b> programma",
            now=now,
            audience={"kind": "everyone"},
        )
        await registrations.record_attendance(
            session,
            registration_id=came.id,
            actor_id=organiser.id,
            attended=True,
            now=now + timedelta(hours=2),
            policy=policy,
        )
    async with db.transaction() as session:
        await record_rating(
            session, event_id=past.id, member_id=bram.id, rating=5, now=now + timedelta(hours=5)
        )
    assert issued.plain is not None
    return Installation(feed_token=issued.plain, event=event)


async def all_rows(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in primary-key order."""
    rows = {}
    async with db.snapshot() as connection:
        for table in tables_in_order():
            query = select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [dict(row) for row in (await connection.execute(query)).mappings()]
    return rows


# --- empty targets -----------------------------------------------------------------------------


async def empty_postgres_url() -> str:
    """A database of its own next to the configured one (``<name>_copy``), emptied: a copy
    needs an empty target, and the other tests keep theirs."""
    url = make_url(POSTGRES_URL)
    name = f"{url.database}_copy"
    plain = url.set(drivername="postgresql")
    connection = await asyncpg.connect(plain.render_as_string(hide_password=False))
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    connection = await asyncpg.connect(plain.set(database=name).render_as_string(False))
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database to copy into: PostgreSQL (what the command is for), and SQLite."""
    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.skip("PostgreSQL not configured: set BUURTAGENDA_TEST_POSTGRES_URL")
        yield await empty_postgres_url()
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'copy.db'}"


@pytest.fixture
async def source(tmp_path: Path) -> AsyncIterator[Database]:
    (tmp_path / "source").mkdir()
    database = await sqlite_database(tmp_path / "source")
    yield database
    await database.dispose()


# --- db copy -----------------------------------------------------------------------------------


async def test_the_copy_keeps_every_row_and_every_key(
    source: Database, target_url: str, clock: FrozenClock, policy: RegistrationPolicy
) -> None:
    await fill(source, clock, policy)
    target = Database(target_url)
    try:
        copied: dict[str, int] = {}
        # Batches of 3 rows: every table of more than three rows crosses a batch boundary.
        counts = await copy_database(source, target, batch_rows=3, on_table=copied.__setitem__)
        assert [count.table for count in counts] == [t.name for t in tables_in_order()]
        assert all(count.agrees for count in counts), counts
        assert copied == {count.table: count.target for count in counts}
        # The fixture fills every table there was when this was written: nothing is left out
        # because nothing was there to copy.
        assert sum(1 for count in counts if count.source) >= 19, counts
        assert await all_rows(target) == await all_rows(source)
        assert await migrations.current_revision(target) == migrations.head_revision()
        # New rows get new ids after the copied ones (PostgreSQL's sequences were moved on).
        before = max(row["id"] for row in (await all_rows(target))["events"])
        later = await make_event(target, clock(), starts_in=timedelta(days=40))
        assert later.id > before
        newcomer = await make_member(target, name="Nieuw")
        assert newcomer.id > 6
    finally:
        await target.dispose()


async def test_a_source_behind_the_code_is_refused(tmp_path: Path, target_url: str) -> None:
    old = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    target = Database(target_url)
    try:
        await migrations.upgrade(old, "0005")
        with pytest.raises(Exception, match="run `buurtagenda db upgrade` on it first"):
            await copy_database(old, target)
    finally:
        await old.dispose()
        await target.dispose()


async def cli(env: dict[str, str], *args: str, cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(BIN / "buurtagenda"),
        *args,
        cwd=cwd,
        env={**ServiceProcess(cwd, env).env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.slow
async def test_the_copy_round_trip_then_the_service_runs_on_the_copy(
    tmp_path: Path,
    source: Database,
    target_url: str,
    clock: FrozenClock,
    policy: RegistrationPolicy,
) -> None:
    installation = await fill(source, clock, policy)
    env = {"BUURTAGENDA_DATABASE_URL": source.url}
    code, out, err = await cli(env, "db", "copy", "--to", target_url, cwd=tmp_path)
    assert code == 0, out + err
    assert "registration_changes" in out and "the counts agree" in out
    # A second copy into the now filled database: refused in one line, nothing changed.
    code, out, err = await cli(env, "db", "copy", "--to", target_url, cwd=tmp_path)
    assert code == 1
    refusal = [line for line in err.splitlines() if line.startswith("buurtagenda:")]
    assert refusal == [
        "buurtagenda: db copy: the target database is not empty (table buurten has 44 rows): "
        "db copy only fills an empty database"
    ], err

    event = installation.event
    async with source.read() as session:
        source_event = await session.get(Event, event.id)
    assert source_event is not None and source_event.feed_uid is not None
    service = ServiceProcess(tmp_path, {"BUURTAGENDA_DATABASE_URL": target_url})
    await service.start()
    try:
        await service.wait_for_line("Buurtagenda is running")
        async with httpx.AsyncClient(base_url=service.url) as client:
            health = await client.get("/healthz")
            feed = await client.get(f"/feed/{installation.feed_token}.ics")
            one = await client.get(f"/event/{event.id}.ics")
            poster = await client.get(f"/poster/{event.public_code}")
    finally:
        code = await service.stop()
    assert code == 0, service.output
    assert health.status_code == 200, health.text
    assert feed.status_code == 200  # the personal link of before the move
    assert source_event.feed_uid in properties(feed.content, "UID")
    assert properties(one.content, "UID") == [source_event.feed_uid]
    assert poster.status_code == 200 and f"e_{event.public_code}" in poster.text  # deep link
    target = Database(target_url)
    try:
        async with target.read() as session:
            copied = await session.get(Event, event.id)
            waiting = await session.scalar(
                select(Registration).where(Registration.status == RegistrationStatus.OFFERED)
            )
    finally:
        await target.dispose()
    assert copied is not None
    assert (copied.public_code, copied.feed_uid) == (event.public_code, source_event.feed_uid)
    assert waiting is not None  # Carla's offered seat came along


# --- db backup ---------------------------------------------------------------------------------


async def keep_registering(
    db: Database,
    clock: FrozenClock,
    policy: RegistrationPolicy,
    busy: asyncio.Event,
    stop: asyncio.Event,
) -> int:
    """Register and cancel people, one transaction each, until ``stop`` (``busy`` once five
    have committed); returns how many transactions committed."""
    event = await make_event(db, clock(), capacity=3)
    members = [await make_member(db, name=f"Lid {n}") for n in range(6)]
    committed = 0
    while not stop.is_set():
        member = members[committed % len(members)]
        async with db.transaction() as session:
            registration = await registrations.registration_of(session, event, member.id)
            if registration is None or registration.status is RegistrationStatus.CANCELLED:
                await registrations.register(
                    session, event_id=event.id, member_id=member.id, now=clock(), policy=policy
                )
            else:
                await registrations.cancel(
                    session, event_id=event.id, member_id=member.id, now=clock(), policy=policy
                )
        committed += 1
        if committed == 5:
            busy.set()
        await asyncio.sleep(0)
    return committed


def check_consistent(path: Path) -> int:
    """SQLite's integrity check, and every registration's state is the last of its history
    (a registration and its history row are written in one transaction)."""
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        mismatched = connection.execute(
            """
            SELECT r.id FROM registrations r
            WHERE r.status != (SELECT c.to_status FROM registration_changes c
                               WHERE c.registration_id = r.id ORDER BY c.id DESC LIMIT 1)
            """
        ).fetchall()
        assert mismatched == []
        (changes,) = connection.execute("SELECT count(*) FROM registration_changes").fetchone()
    return int(changes)


async def test_a_backup_while_the_service_writes_is_consistent(
    tmp_path: Path, sqlite_db: Database, clock: FrozenClock, policy: RegistrationPolicy
) -> None:
    busy, stop = asyncio.Event(), asyncio.Event()
    writer = asyncio.create_task(keep_registering(sqlite_db, clock, policy, busy, stop))
    try:
        await busy.wait()
        env = {"BUURTAGENDA_DATABASE_URL": sqlite_db.url}
        code, out, err = await cli(env, "db", "backup", str(tmp_path / "kopie.db"), cwd=tmp_path)
    finally:
        stop.set()
        committed = await writer
    assert code == 0, err
    assert out.startswith(f"backup written to {tmp_path / 'kopie.db'} (")
    in_backup = check_consistent(tmp_path / "kopie.db")
    assert 5 <= in_backup <= await _changes(sqlite_db)
    assert committed > 0
    restored = Database(f"sqlite+aiosqlite:///{tmp_path / 'kopie.db'}")
    try:
        assert await migrations.current_revision(restored) == migrations.head_revision()
    finally:
        await restored.dispose()


async def _changes(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count(RegistrationChange.id))) or 0)


async def test_the_backup_leaves_the_event_loop_free(
    tmp_path: Path, sqlite_db: Database, clock: FrozenClock, policy: RegistrationPolicy
) -> None:
    """While SQLite copies, the loop goes on (the copy runs in a thread): other tasks get turns
    during the ``await``. A backup done in the loop itself would give them none."""
    await fill(sqlite_db, clock, policy)
    turns = 0

    async def other_work() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    worker = asyncio.create_task(other_work())
    await asyncio.sleep(0)
    before = turns
    source = Path(make_url(sqlite_db.url).database or "")
    backup = await backup_sqlite(source, tmp_path / "b.db")
    during = turns - before
    worker.cancel()
    assert during > 1
    assert backup.size_bytes == (tmp_path / "b.db").stat().st_size
    check_consistent(tmp_path / "b.db")
    assert not (tmp_path / "b.db.partial").exists()


async def test_backup_on_postgresql_names_the_pg_dump_line(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://buurtagenda:geheim-wachtwoord@db.example.nl:5433/agenda"
    env = {"BUURTAGENDA_DATABASE_URL": url}
    code, out, err = await cli(env, "db", "backup", "agenda.dump", cwd=tmp_path)
    assert code == 1
    expected = (
        "buurtagenda: db backup is for SQLite; for PostgreSQL use: pg_dump --format=custom "
        "--file=agenda.dump 'postgresql://buurtagenda@db.example.nl:5433/agenda'"
    )
    assert err.strip() == expected
    assert "geheim" not in out + err
    assert pg_dump_command(url, "x") in expected.replace("agenda.dump", "x")


async def test_backup_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    env = {"BUURTAGENDA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'weg.db'}"}
    code, _, err = await cli(env, "db", "backup", str(tmp_path / "b.db"), cwd=tmp_path)
    assert code == 1
    assert f"no SQLite database at {tmp_path / 'weg.db'}" in err
    assert not (tmp_path / "weg.db").exists() and not (tmp_path / "b.db").exists()
