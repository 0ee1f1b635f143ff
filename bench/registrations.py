"""Register and cancel operations per second, through the real domain operations.

    .venv/bin/python bench/registrations.py [--ops 2000] [--clients 4] [--no-postgres] [--profile]

For each backend (SQLite in a temporary file; PostgreSQL at ``BUURTAGENDA_BENCH_POSTGRES_URL``,
else ``BUURTAGENDA_TEST_POSTGRES_URL``, else postgresql+asyncpg://postgres@127.0.0.1:5432/test,
whose ``public`` schema is DROPPED and rebuilt: migrations and reference data, as the test
fixtures expect it) and for 1,000 and 10,000 registrations already stored:

- a fresh database is migrated (``models.migrations.upgrade``) and seeded with bulk inserts:
  2,000 members, and events of 40 seats with 50 registrations each (40 confirmed, 10
  waitlisted, one history row each), 20 events for 1k and 200 for 10k;
- ``--clients`` concurrent clients (asyncio tasks sharing one ``Database``, as the service does)
  then do ``--ops`` operations in total on four "hot" events of 30 seats, each client with its
  own 50 members: a member who is in (confirmed, waitlisted or offered) cancels, anyone else
  registers (``if_full="waitlist"``). With 200 members per hot event about a hundred are in at
  a time: the events are full, most registrations join the waitlist, and a cancelled seat goes
  to the next in line (an offer and its notification; confirmed members get their reminders).

One operation is one ``ops.register`` or one ``ops.cancel`` in its own write transaction
(``Database.transaction()``), with the real clock. Reported: operations per second (wall clock
over all operations), the mean and p99 latency of one operation, SQL statements and CPU time per
operation, and as a baseline the rate of empty write transactions (BEGIN, SELECT 1, COMMIT) with
the same clients on the same database.

The last line is JSON: ``sqlite_ops_per_s_1k``, ``sqlite_ops_per_s_10k``,
``postgres_ops_per_s_1k``, ``postgres_ops_per_s_10k`` (null when PostgreSQL is unreachable).
Goal: >= 500 ops/s on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event as sa_event  # noqa: E402
from sqlalchemy import func, insert, literal, select, text  # noqa: E402

from models import migrations  # noqa: E402
from models.clock import system_clock  # noqa: E402
from models.db import Database  # noqa: E402
from models.events.entities import Event, EventKind  # noqa: E402
from models.events.operations import EventDraft, create_event  # noqa: E402
from models.members.entities import Affiliation, Member  # noqa: E402
from models.networks.reference import load_reference_data  # noqa: E402
from models.registrations import operations as ops  # noqa: E402
from models.registrations.entities import (  # noqa: E402
    ACTIVE,
    HOLDS_SEATS,
    Registration,
    RegistrationChange,
    RegistrationStatus,
)
from models.registrations.policy import RegistrationPolicy  # noqa: E402

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
GOAL_SQLITE_OPS_PER_S = 500
MEMBERS = 2_000
PER_EVENT = 50  # registrations per seeded event
SEEDED_CAPACITY = 40
HOT_EVENTS = 4
HOT_CAPACITY = 30
MEMBERS_PER_CLIENT = 50
CHUNK = 2_000
S = RegistrationStatus


@dataclass
class Result:
    ops: int
    seconds: float
    latencies: list[float]
    registers: int
    cancels: int
    statements: int  # SQL statements sent (BEGIN and COMMIT not counted)
    loop_cpu: float  # CPU seconds of the event-loop thread (where all Python runs)
    process_cpu: float  # CPU seconds of the whole process (with the drivers' threads)

    @property
    def per_second(self) -> float:
        return self.ops / self.seconds

    def lines(self, label: str) -> list[str]:
        ordered = sorted(self.latencies)
        mean = sum(ordered) / len(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000
        return [
            f"{label}: {self.per_second:7.1f} ops/s  ({self.ops} ops in {self.seconds:.2f} s: "
            f"{self.registers} register, {self.cancels} cancel)",
            f"{'':10}latency mean {mean:.1f} ms, p99 {p99:.1f} ms; per operation: "
            f"{self.statements / self.ops:.1f} SQL statements, "
            f"{self.loop_cpu / self.ops * 1000:.2f} ms CPU in the event loop "
            f"({self.process_cpu / self.ops * 1000:.2f} ms in the process)",
        ]


# --- a fresh database, seeded ------------------------------------------------------------------


async def fresh_sqlite(directory: Path) -> Database:
    database = Database(f"sqlite+aiosqlite:///{directory / 'bench.db'}")
    await migrations.upgrade(database)
    return database


async def fresh_postgres(url: str) -> Database:
    database = Database(url, pool_size=10, max_overflow=5)
    async with database.engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await migrations.upgrade(database)
    # As the test fixtures leave it: they only empty the other tables of a migrated database.
    async with database.transaction() as session:
        await load_reference_data(session)
    return database


async def postgres_reachable(url: str) -> str | None:
    """None if we can connect, else why not."""
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            await asyncio.wait_for(connection.execute(text("SELECT 1")), timeout=5)
    except Exception as error:  # any failure to connect means: no PostgreSQL figures
        return f"{type(error).__name__}: {error}".splitlines()[0]
    finally:
        await database.dispose()
    return None


def draft(title: str, starts_at: datetime, capacity: int) -> EventDraft:
    return EventDraft(
        kind=EventKind.MASTERCLASS,
        title=title,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        location="Stadhuis Maastricht, Markt 78",
        capacity=capacity,
    )


async def seed(database: Database, stored: int, now: datetime) -> tuple[list[int], list[int]]:
    """Members, seeded events with ``stored`` registrations, and the hot events (empty)."""
    rng = random.Random(stored)
    async with database.transaction() as session:
        await session.execute(
            insert(Member),
            [
                {
                    "telegram_id": 900_000_000 + i,
                    "display_name": f"Lid {i}",
                    "affiliation": Affiliation.BEWONER,
                }
                for i in range(MEMBERS)
            ],
        )
    async with database.read() as session:
        member_ids = list((await session.scalars(text("SELECT id FROM members ORDER BY id"))).all())
    async with database.transaction() as session:
        seeded = []
        for i in range(stored // PER_EVENT):
            starts_at = now + timedelta(days=30 + i % 60, hours=i % 7)
            event = await create_event(
                session,
                draft=draft(f"Masterclass {i}", starts_at, SEEDED_CAPACITY),
                actor_id=None,
                now=now,
                publish=True,
            )
            seeded.append(event.id)
        hot = []
        for i in range(HOT_EVENTS):
            starts_at = now + timedelta(days=20, hours=i)
            event = await create_event(
                session,
                draft=draft(f"Drukke avond {i}", starts_at, HOT_CAPACITY),
                actor_id=None,
                now=now,
                publish=True,
            )
            hot.append(event.id)
    rows: list[dict[str, Any]] = []
    for event_id in seeded:
        for seq, member_id in enumerate(rng.sample(member_ids, PER_EVENT), start=1):
            rows.append(
                {
                    "event_id": event_id,
                    "member_id": member_id,
                    "affiliation": Affiliation.BEWONER,
                    "status": S.CONFIRMED if seq <= SEEDED_CAPACITY else S.WAITLISTED,
                    "party_size": 1,
                    "queue_seq": seq,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    for start in range(0, len(rows), CHUNK):
        async with database.transaction() as session:
            chunk = rows[start : start + CHUNK]
            ids = (
                await session.scalars(
                    insert(Registration).returning(Registration.id, sort_by_parameter_order=True),
                    chunk,
                )
            ).all()
            await session.execute(
                insert(RegistrationChange),
                [
                    {
                        "registration_id": registration_id,
                        "at": now,
                        "actor_id": row["member_id"],
                        "from_status": None,
                        "to_status": row["status"],
                        "party_size": 1,
                        "reason": "registered" if row["status"] is S.CONFIRMED else "waitlisted",
                    }
                    for registration_id, row in zip(ids, chunk, strict=True)
                ],
            )
    async with database.read() as session:
        count = await session.scalar(text("SELECT count(*) FROM registrations"))
    assert count == stored, (count, stored)
    return member_ids, hot


# --- the load ----------------------------------------------------------------------------------


async def load(
    database: Database, member_ids: list[int], hot: list[int], operations: int, clients: int
) -> Result:
    policy = RegistrationPolicy()
    # Members of the hot events are not among the seeded ones' first: any member will do, as
    # long as each client has its own (so a client knows who of its members is in).
    pools = [
        member_ids[c * MEMBERS_PER_CLIENT : (c + 1) * MEMBERS_PER_CLIENT] for c in range(clients)
    ]
    counter = iter(range(operations))
    latencies: list[float] = []
    counts = {"register": 0, "cancel": 0}

    async def client(number: int) -> None:
        rng = random.Random(number)
        active: set[tuple[int, int]] = set()  # (event, member) this client's members are in
        for _ in counter:
            event_id, member_id = rng.choice(hot), rng.choice(pools[number])
            started = time.perf_counter()
            async with database.transaction() as session:
                if (event_id, member_id) in active:
                    outcome = await ops.cancel(
                        session,
                        event_id=event_id,
                        member_id=member_id,
                        now=system_clock(),
                        policy=policy,
                    )
                    kind = "cancel"
                else:
                    outcome = await ops.register(
                        session,
                        event_id=event_id,
                        member_id=member_id,
                        now=system_clock(),
                        policy=policy,
                        if_full="waitlist",
                    )
                    kind = "register"
            latencies.append(time.perf_counter() - started)
            counts[kind] += 1
            if outcome.registration.status in ACTIVE:
                active.add((event_id, member_id))
            else:
                active.discard((event_id, member_id))

    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    sa_event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    started, loop_cpu, process_cpu = time.perf_counter(), time.thread_time(), time.process_time()
    try:
        await asyncio.gather(*(client(c) for c in range(clients)))
    finally:
        sa_event.remove(database.engine.sync_engine, "before_cursor_execute", count)
    return Result(
        operations,
        time.perf_counter() - started,
        latencies,
        counts["register"],
        counts["cancel"],
        statements,
        time.thread_time() - loop_cpu,
        time.process_time() - process_cpu,
    )


async def baseline(database: Database, transactions: int, clients: int) -> float:
    """Empty write transactions per second (BEGIN, SELECT 1, COMMIT): the stack's ceiling."""
    counter = iter(range(transactions))

    async def client() -> None:
        for _ in counter:
            async with database.transaction() as session:
                await session.execute(select(literal(1)))

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return transactions / (time.perf_counter() - started)


async def check(database: Database, hot: list[int]) -> str:
    """Capacity held on the hot events (a bench that breaks the rules measures nothing)."""
    async with database.read() as session:
        for event_id in hot:
            event = await session.get(Event, event_id)
            assert event is not None
            assert await ops.seats_left(session, event) is not None
            held = await session.scalar(
                select(func.coalesce(func.sum(Registration.party_size), 0)).where(
                    Registration.event_id == event_id, Registration.status.in_(HOLDS_SEATS)
                )
            )
            assert held is not None and held <= HOT_CAPACITY, (event_id, held)
        rows = await session.execute(
            text(
                "SELECT status, count(*) FROM registrations WHERE event_id IN "
                f"({', '.join(str(e) for e in hot)}) GROUP BY status ORDER BY status"
            )
        )
        return ", ".join(f"{count} {status}" for status, count in rows)


async def run(
    backend: str, url: str | None, stored: int, operations: int, clients: int, profile: bool
) -> float:
    with tempfile.TemporaryDirectory(prefix="buurtagenda-bench-") as directory:
        if backend == "sqlite":
            database = await fresh_sqlite(Path(directory))
        else:
            assert url is not None
            database = await fresh_postgres(url)
        try:
            now = system_clock()
            member_ids, hot = await seed(database, stored, now)
            # A short warm-up (connections, statement caches), not counted.
            await load(database, member_ids[-MEMBERS_PER_CLIENT:], hot, 50, 1)
            profiler = cProfile.Profile() if profile else None
            if profiler is not None:
                profiler.enable()
            result = await load(database, member_ids, hot, operations, clients)
            if profiler is not None:
                profiler.disable()
            states = await check(database, hot)
            ceiling = await baseline(database, operations // 2, clients)
        finally:
            await database.dispose()
    label = f"{backend:8} {stored:>6,} stored, {clients} clients"
    print("\n".join(result.lines(label)))
    print(f"{'':10}hot events afterwards: {states}")
    print(
        f"{'':10}baseline: {ceiling:.0f} empty write transactions/s with the same clients "
        f"(one operation costs {ceiling / result.per_second:.1f} of them)"
    )
    if profiler is not None:
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(15)
        stats.sort_stats("cumulative").print_stats(r"models/", 25)
    return result.per_second


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", type=int, default=2_000, help="operations per measurement")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile each measurement (slower: ops/s drop)"
    )
    args = parser.parse_args()

    url = (
        os.environ.get("BUURTAGENDA_BENCH_POSTGRES_URL")
        or os.environ.get("BUURTAGENDA_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES
    )
    print(
        f"register/cancel through models.registrations.operations: {args.ops} operations per "
        f"measurement, {args.clients} concurrent clients, {HOT_EVENTS} hot events of "
        f"{HOT_CAPACITY} seats, Python {sys.version.split()[0]}"
    )
    figures: dict[str, float | None] = {}
    for stored in (1_000, 10_000):
        figures[f"sqlite_ops_per_s_{stored // 1000}k"] = round(
            await run("sqlite", None, stored, args.ops, args.clients, args.profile), 1
        )
    problem = "skipped (--no-postgres)" if args.no_postgres else await postgres_reachable(url)
    for stored in (1_000, 10_000):
        key = f"postgres_ops_per_s_{stored // 1000}k"
        if problem is None:
            figures[key] = round(
                await run("postgres", url, stored, args.ops, args.clients, args.profile), 1
            )
        else:
            figures[key] = None
    if problem is not None:
        print(f"PostgreSQL: no figures ({problem})")
    worst = min(figures["sqlite_ops_per_s_1k"] or 0, figures["sqlite_ops_per_s_10k"] or 0)
    verdict = "meets" if worst >= GOAL_SQLITE_OPS_PER_S else "does NOT meet"
    print(f"SQLite {verdict} the goal of {GOAL_SQLITE_OPS_PER_S} ops/s (worst: {worst:.1f})")
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
