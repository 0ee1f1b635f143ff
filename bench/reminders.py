"""The outbox dispatcher under load: 100,000 pending reminders, the real service, Telegram's limits.

    .venv/bin/python bench/reminders.py

A fresh SQLite database (migrations and reference data, as at start) gets 5,000 members, 240
published events over the coming four months and 100,000 PENDING outbox rows (reminders; one in ten
of the future ones a feedback request), written with bulk inserts by a child process (so the bench
process's peak memory is the service's, not the preparation's). Almost all of them are due in the
coming months, as in real life. Right before the start two groups are added, each message for a
different member, who is a user of the emulator (``Member.telegram_id`` = the emulator user id):

- ``OVERDUE`` rows due in the last minute (a short restart): they make "start to first dispatch"
  mean something;
- the window: ``WINDOW_RATE`` rows per second for ``WINDOW_SECONDS`` seconds, beginning
  ``WINDOW_LEAD_S`` after the start, under Telegram's 30/s (and one chat each, so the per-chat
  limit of 1/s never applies).

Then the real ``Service`` starts in this process, as ``buurtagenda run`` starts it without a
Telegram token: the sandbox, with the Bot API emulator mounted in its own HTTP server (limits set
to Telegram's, ``Limits()``), the demo programme and demo users, the bot polling the emulator
with its rate limiter, and the dispatcher (``TelegramDelivery``) started after
``recover()``. All on loopback, with the real clock.

Measured:
- start to first dispatch: from just before ``await service.start()`` to the arrival of the first
  message at the emulator (``emulator.sent``, monotonic clock);
- lateness: for each window message, its arrival at the emulator minus its due time; p50/p99;
- peak RSS: ``ru_maxrss`` of this process at the end.

Goals: start <= 3 s, peak RSS <= 300 MB, lateness p99 <= 2 s. The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PENDING = 100_000
MEMBERS = 5_000
EVENTS = 240
OVERDUE = 40  # due in the last minute at start
WINDOW_RATE = 20.0  # per second, under Telegram's 30/s
WINDOW_SECONDS = 30.0
WINDOW_LEAD_S = 5.0  # the first window row is due this long after the start begins
CHUNK = 5_000
# Telegram ids: the members who hear from the bot during the bench are emulator users.
TELEGRAM_ID_BASE = 700_000_000
GOALS = {"start_to_first_dispatch_s": 3.0, "peak_rss_mb": 300.0, "lateness_p99_s": 2.0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def near_count() -> int:
    return OVERDUE + round(WINDOW_RATE * WINDOW_SECONDS)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- preparation (a child process) ------------------------------------------------------------


async def prepare(db_url: str) -> None:
    """Schema, reference data, members, events and all but the near rows, in bulk."""
    from sqlalchemy import insert, select

    from models import migrations
    from models.db import Database
    from models.events.entities import Event, EventKind
    from models.events.operations import EventDraft, create_event
    from models.members.entities import Affiliation, Language, Member
    from models.networks.reference import load_reference_data
    from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage

    began = time.perf_counter()
    database = Database(db_url)
    await migrations.upgrade(database)
    now = datetime.now(UTC)
    rng = random.Random(4)
    async with database.transaction() as session:
        await load_reference_data(session)
        await session.execute(
            insert(Member),
            [
                {
                    "telegram_id": TELEGRAM_ID_BASE + number,
                    "display_name": f"Buur {number}",
                    "language": Language.EN if number % 5 == 0 else Language.NL,
                    "affiliation": Affiliation.BEWONER,
                    "created_at": now,
                    "updated_at": now,
                }
                for number in range(MEMBERS)
            ],
        )
        kinds = list(EventKind)
        for number in range(EVENTS):
            # The first event is the day after tomorrow: the near rows remind of it.
            starts = (now + timedelta(days=2, hours=12 * number)).replace(microsecond=0)
            draft = EventDraft(
                kind=kinds[number % len(kinds)],
                title=f"Bijeenkomst {number + 1}: de Omgevingswet in jouw buurt",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                location="Stadhuis Maastricht, Markt 78",
                capacity=40,
            )
            await create_event(session, draft=draft, actor_id=None, now=now, publish=True)
    async with database.read() as session:
        members = list((await session.scalars(select(Member.id).order_by(Member.id))).all())
        events = list(
            (await session.execute(select(Event.id, Event.starts_at).order_by(Event.id))).all()
        )
    # The near rows (added right before the start) go to the first members; the rest to anyone.
    soon = now + timedelta(hours=1)
    future = PENDING - near_count()
    written = 0
    while written < future:
        rows: list[dict[str, Any]] = []
        for number in range(written, min(future, written + CHUNK)):
            event_id, starts_at = events[rng.randrange(len(events))]
            latest = starts_at - timedelta(hours=1)
            due = soon + (latest - soon) * rng.random()
            kind = NotificationKind.REMINDER if number % 10 else NotificationKind.FEEDBACK_REQUEST
            if kind is NotificationKind.FEEDBACK_REQUEST:
                due = starts_at + timedelta(hours=3)
            rows.append(
                {
                    "member_id": members[rng.randrange(len(members))],
                    "kind": kind,
                    "payload": {"revision": 1},
                    "event_id": event_id,
                    "due_at": due,
                    "idempotency_key": f"bench:future:{number}",
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "created_at": now,
                }
            )
        async with database.transaction() as session:
            await session.execute(insert(OutboxMessage), rows)
        written += len(rows)
    await database.dispose()
    print(
        f"prepared {MEMBERS:,} members, {EVENTS} events, {future:,} future reminders "
        f"in {time.perf_counter() - began:.1f} s",
        flush=True,
    )


def explain(db_path: Path) -> None:
    """The dispatcher's two queries on the full table: their plans and how long they take."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    claim = (
        "SELECT * FROM outbox WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT 50"
    )
    next_due = "SELECT min(due_at) FROM outbox WHERE status = 'pending'"
    with sqlite3.connect(db_path) as connection:
        for name, sql, params in (("claim", claim, (now,)), ("next due", next_due, ())):
            plan = [row[-1] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            began = time.perf_counter()
            for _ in range(20):
                connection.execute(sql, params).fetchall()
            took = (time.perf_counter() - began) / 20 * 1000
            print(f"query plan, {name}: {'; '.join(plan)} ({took:.2f} ms)")
    connection.close()


# --- the run ------------------------------------------------------------------------------------


class _Counter(logging.Handler):
    """Counts warnings worth knowing about (skipped scheduler runs, failed rounds)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({record.exc_info[0].__name__}: {record.exc_info[1]})"
        self.messages.append(text)


async def add_near_rows(db_url: str, start_wall: float) -> tuple[list[int], dict[int, float]]:
    """The overdue rows and the window's rows; returns their members' Telegram ids, and each
    window member's due time (Unix seconds)."""
    from sqlalchemy import insert, select

    from models.db import Database
    from models.events.entities import Event
    from models.members.entities import Member
    from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage

    database = Database(db_url)
    async with database.read() as session:
        event_id = await session.scalar(select(Event.id).order_by(Event.starts_at).limit(1))
        members = (
            await session.execute(
                select(Member.id, Member.telegram_id)
                .where(Member.telegram_id >= TELEGRAM_ID_BASE)
                .order_by(Member.id)
                .limit(near_count())
            )
        ).all()
    start = datetime.fromtimestamp(start_wall, UTC)
    window = round(WINDOW_RATE * WINDOW_SECONDS)
    dues = [start - timedelta(seconds=60 * (n + 1) / (OVERDUE + 1)) for n in range(OVERDUE)]
    dues += [start + timedelta(seconds=WINDOW_LEAD_S + n / WINDOW_RATE) for n in range(window)]
    rows = [
        {
            "member_id": member_id,
            "kind": NotificationKind.REMINDER,
            "payload": {"revision": 1},
            "event_id": event_id,
            "due_at": due,
            "idempotency_key": f"bench:near:{member_id}",
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "created_at": start,
        }
        for (member_id, _), due in zip(members, dues, strict=True)
    ]
    async with database.transaction() as session:
        await session.execute(insert(OutboxMessage), rows)
    await database.dispose()
    telegram_ids = [int(telegram_id) for _, telegram_id in members]
    window_due = {
        telegram_id: due.timestamp()
        for telegram_id, due in zip(telegram_ids[OVERDUE:], dues[OVERDUE:], strict=True)
    }
    return telegram_ids, window_due


async def count_statuses(db_url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from models.db import Database
    from models.outbox.entities import OutboxMessage

    database = Database(db_url)
    async with database.read() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
        ).all()
    await database.dispose()
    return {str(status.value): int(count) for status, count in rows}


async def run(db_url: str) -> dict[str, float]:
    from buurtagenda.config import Config, DatabaseConfig, HttpConfig
    from buurtagenda.service import Service
    from emulator import Limits

    # Warnings and errors are collected and shown with the figures (not in between).
    warnings = _Counter()
    logging.getLogger().addHandler(warnings)
    logging.getLogger().setLevel(logging.WARNING)

    port = free_port()
    config = Config(
        database=DatabaseConfig(url=db_url),
        http=HttpConfig(port=port, public_url=f"http://127.0.0.1:{port}"),
    )
    service = Service(config)
    emulator = service.emulator
    assert emulator is not None, "no token: the service runs its sandbox with the emulator"
    emulator.limits = Limits()  # Telegram's: 30/s overall, 1/s per chat (burst 3)

    # Wall clock and monotonic clock side by side: due times are wall clock, arrivals monotonic.
    start_wall, start_mono = time.time(), time.monotonic()
    telegram_ids, window_due = await add_near_rows(db_url, start_wall)
    for telegram_id in telegram_ids:
        emulator.user(f"Buur {telegram_id - TELEGRAM_ID_BASE}", id=telegram_id)
    offset = start_mono - start_wall  # wall + offset = monotonic
    print(
        f"added {OVERDUE} overdue rows and {len(window_due)} due from +{WINDOW_LEAD_S:.0f} s at "
        f"{WINDOW_RATE:.0f}/s (in {time.monotonic() - start_mono:.2f} s); RSS before start "
        f"{current_rss_mb():.0f} MB",
        flush=True,
    )

    began = time.monotonic()
    await service.start()
    started = time.monotonic()
    try:
        first = await emulator.wait_until(
            lambda: emulator.sent[0] if emulator.sent else None, timeout=60, describe="no dispatch"
        )
    except TimeoutError:
        for message in dict.fromkeys(warnings.messages):
            print(message, file=sys.stderr)
        await service.stop()
        raise
    start_to_first = first.arrived_at - began
    print(
        f"service.start() took {started - began:.2f} s; first message at the emulator "
        f"{start_to_first:.2f} s after the start began (chat {first.chat.id})",
        flush=True,
    )

    expected = set(window_due)
    last_due = max(window_due.values()) + offset
    deadline = last_due + 40  # longer than the dispatcher's 30 s sweep
    arrivals: dict[int, float] = {}
    while time.monotonic() < deadline:
        arrivals = {m.chat.id: m.arrived_at for m in emulator.sent if m.chat.id in expected}
        if len(arrivals) == len(expected):
            break
        await asyncio.sleep(0.25)
    end = time.monotonic()
    rss_after_window = current_rss_mb()
    stats = emulator.stats
    await service.stop()

    missing = expected - set(arrivals)
    late = {t: arrivals[t] - (window_due[t] + offset) for t in arrivals}
    late |= {t: end - (window_due[t] + offset) for t in missing}  # a lower bound for those
    lateness = list(late.values())
    early = sum(1 for value in lateness if value < 0)
    overdue_ids = set(telegram_ids[:OVERDUE])
    overdue_sent = sum(1 for m in emulator.sent if m.chat.id in overdue_ids)
    window_arrivals = sorted(arrivals.values())
    span = window_arrivals[-1] - window_arrivals[0] if len(window_arrivals) > 1 else 0.0
    statuses = await count_statuses(db_url)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"overdue at start: {overdue_sent}/{OVERDUE} sent")
    print(
        f"window: {len(arrivals)}/{len(expected)} arrived over {span:.1f} s"
        f"{f', {len(missing)} MISSING' if missing else ''}; lateness p50 "
        f"{percentile(lateness, 50) * 1000:.0f} ms, p90 {percentile(lateness, 90) * 1000:.0f} ms, "
        f"p99 {percentile(lateness, 99) * 1000:.0f} ms, max {max(lateness) * 1000:.0f} ms"
        f"{f', {early} before their due time' if early else ''}"
    )
    first_due = min(window_due.values())
    worst = sorted(late, key=late.__getitem__, reverse=True)[:5]
    print(
        "slowest (due at +s into the window: late by): "
        + ", ".join(f"+{window_due[t] - first_due:.2f}: {late[t] * 1000:.0f} ms" for t in worst)
    )
    print(
        f"emulator: {len(emulator.sent)} messages, "
        f"{stats.too_many_requests} answered 429; outbox now: "
        + ", ".join(f"{name} {count:,}" for name, count in sorted(statuses.items()))
    )
    print(f"RSS after the window {rss_after_window:.0f} MB, peak {peak_rss_mb:.0f} MB")
    if warnings.messages:
        print(f"{len(warnings.messages)} warnings logged; distinct:")
        for message in dict.fromkeys(m[:160] for m in warnings.messages):
            print(f"  {message}")
    return {
        "start_to_first_dispatch_s": round(start_to_first, 3),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "lateness_p50_s": round(percentile(lateness, 50), 3),
        "lateness_p99_s": round(percentile(lateness, 99), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prepare", metavar="DB_URL")
    args = parser.parse_args()
    if args.prepare:
        asyncio.run(prepare(args.prepare))
        return
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as scratch:
        db_path = Path(scratch) / "bench.db"
        db_url = f"sqlite+aiosqlite:///{db_path}"
        subprocess.run([sys.executable, __file__, "--prepare", db_url], cwd=ROOT, check=True)
        explain(db_path)
        result = asyncio.run(run(db_url))
    for key, goal in GOALS.items():
        verdict = "ok" if result[key] <= goal else "MISSED"
        print(f"goal {key} <= {goal:g}: {result[key]:g} {verdict}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
