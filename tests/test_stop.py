"""A stop is clean at any moment: `buurtagenda run` gets SIGTERM while it starts, just after, and
while a dispatcher round sends; it exits 0, logs no error, and every outbox row is sent or still
pending (nothing claimed and left behind, nothing failed)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from models.events.entities import EventKind
from models.events.operations import EventDraft, create_event
from models.members.operations import ensure_member
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from tests.conftest import sqlite_database
from tests.service_process import ServiceProcess

# The sandbox's demo people (emulator/core.py): the bot can write to them.
DEMO_TELEGRAM_IDS = (900_000_001, 900_000_002, 900_000_003)
REMINDERS_EACH = 10


async def database_with_due_reminders(directory: Path) -> Path:
    """A migrated SQLite file with 30 reminders due now, for the three demo people."""
    database = await sqlite_database(directory)
    now = datetime.now(UTC)
    async with database.transaction() as session:
        starts_at = now + timedelta(days=3)
        event = await create_event(
            session,
            draft=EventDraft(
                kind=EventKind.MASTERCLASS,
                title="Stoppen zonder iets te verliezen",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=2),
                location="Stadhuis Maastricht, Markt 78",
            ),
            actor_id=None,
            now=now,
            publish=True,
        )
        for telegram_id in DEMO_TELEGRAM_IDS:
            member, _ = await ensure_member(
                session, telegram_id=telegram_id, display_name=f"Demo {telegram_id}"
            )
            for number in range(REMINDERS_EACH):
                session.add(
                    OutboxMessage(
                        member_id=member.id,
                        kind=NotificationKind.REMINDER,
                        event_id=event.id,
                        due_at=now - timedelta(seconds=1),
                        idempotency_key=f"stop-test:{telegram_id}:{number}",
                    )
                )
    await database.dispose()
    return directory / "test.db"


def outbox_statuses(path: Path) -> Counter[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT status FROM outbox").fetchall()
    return Counter(status for (status,) in rows)


async def some_sent(path: Path, service: ServiceProcess) -> None:
    """Until the dispatcher has sent at least one reminder (a round is under way)."""
    await service.wait_for_line("is running")
    for _ in range(1200):
        if outbox_statuses(path)[DeliveryStatus.SENT.value]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing sent within a minute:\n{service.output}")


@pytest.mark.parametrize("moment", ["starting", "just started", "while sending"])
async def test_a_stop_at_any_moment_logs_no_error_and_loses_nothing(tmp_path, moment):
    path = await database_with_due_reminders(tmp_path)
    # Slow enough that a round is still sending when the stop comes.
    (tmp_path / "config.toml").write_text("[delivery]\nrate_per_s = 5.0\n")
    service = ServiceProcess(tmp_path, {"BUURTAGENDA_DATABASE_URL": f"sqlite+aiosqlite:///{path}"})
    await service.start()
    try:
        if moment == "starting":
            await service.wait_for_line("INFO")  # the first line: migrations are being checked
        elif moment == "just started":
            await service.wait_for_line("is running")
        else:
            await some_sent(path, service)
        exit_code = await service.stop()
    finally:
        service.kill()
    output = service.output
    assert exit_code == 0, output
    assert "ERROR" not in output and "Traceback" not in output, output
    # What happened is at INFO; APScheduler's every run is not.
    assert "Running job" not in output and "executed successfully" not in output, output
    statuses = outbox_statuses(path)
    assert set(statuses) <= {DeliveryStatus.SENT.value, DeliveryStatus.PENDING.value}, statuses
    assert sum(statuses.values()) == len(DEMO_TELEGRAM_IDS) * REMINDERS_EACH
    if moment == "while sending":
        assert statuses[DeliveryStatus.SENT.value] >= 1
