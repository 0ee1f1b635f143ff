"""``/metrics``: Prometheus' text format from a real ``buurtagenda run``, the outbox counted from
the database (cheaply: at most one read per few seconds), and the leader status."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from models.clock import FrozenClock
from models.db import Database
from models.registrations.policy import RegistrationPolicy
from telemetry.metrics import LEADER, REGISTRY, report_leadership
from telemetry.outbox import OutboxCounts
from tests.factories import make_event, make_member, register
from tests.service_process import ServiceProcess


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and labels (also a check that it parses)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def outbox(kind: str, status: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return ("buurtagenda_outbox_messages", (("kind", kind), ("status", status)))


class Ticking:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_outbox_is_counted_by_kind_and_status_at_most_every_few_seconds(
    sqlite_db: Database, clock: FrozenClock, policy: RegistrationPolicy
) -> None:
    monotonic = Ticking()
    counts = OutboxCounts(sqlite_db, max_age_s=5, monotonic=monotonic)
    registry = CollectorRegistry()
    registry.register(counts)
    assert generate_latest(registry) == b""  # nothing read yet: nothing claimed
    event = await make_event(sqlite_db, clock(), starts_in=timedelta(days=14))
    await register(sqlite_db, clock, policy, event, await make_member(sqlite_db))
    await counts.refresh()
    first = samples(generate_latest(registry).decode())
    assert first[outbox("reminder", "pending")] == 2  # a week and a day before
    assert first[outbox("reminder", "sent")] == 0
    assert first[outbox("broadcast", "failed")] == 0  # every series is there
    await register(sqlite_db, clock, policy, event, await make_member(sqlite_db, name="Bram"))
    monotonic.now += 4
    await counts.refresh()  # a scrape within 5 s: the counts of the last read
    assert counts.reads == 1
    assert samples(generate_latest(registry).decode())[outbox("reminder", "pending")] == 2
    monotonic.now += 1
    await counts.refresh()
    assert counts.reads == 2
    assert samples(generate_latest(registry).decode())[outbox("reminder", "pending")] == 4


async def test_a_database_that_does_not_answer_leaves_the_last_counts(
    sqlite_db: Database, tmp_path: Path
) -> None:
    counts = OutboxCounts(sqlite_db, max_age_s=0)
    await counts.refresh()
    before = [family.samples for family in counts.collect()]
    async with sqlite_db.transaction() as session:
        await session.execute(text("DROP TABLE outbox"))  # every read of it fails from now on
    await counts.refresh()  # logged, not raised
    assert [family.samples for family in counts.collect()] == before
    assert counts.reads == 1
    never = Database(f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    try:
        broken = OutboxCounts(never)
        await broken.refresh()
        assert list(broken.collect()) == []  # no counts rather than made-up zeros
    finally:
        await never.dispose()


def test_the_leader_gauge_asks_the_composition_root() -> None:
    leading = [True]
    report_leadership(lambda: leading[0])
    try:
        assert REGISTRY.get_sample_value("buurtagenda_leader") == 1
        leading[0] = False
        assert REGISTRY.get_sample_value("buurtagenda_leader") == 0
    finally:
        report_leadership(lambda: True)
    assert LEADER is not None


async def test_a_running_service_serves_its_metrics(tmp_path: Path) -> None:
    service = ServiceProcess(
        tmp_path, {"BUURTAGENDA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"}
    )
    await service.start()
    try:
        await service.wait_for_line("Buurtagenda is running")
        response = await service.get("/metrics")
    finally:
        assert await service.stop() == 0, service.output
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(response.text)
    assert found[("buurtagenda_leader", ())] == 1  # one process on SQLite leads
    assert found[outbox("reminder", "pending")] == 0
    assert ("buurtagenda_update_handling_seconds_count", (("kind", "message"),)) in found
    assert ("buurtagenda_dispatch_lateness_seconds_count", ()) in found
    assert ("buurtagenda_telegram_429_total", (("traffic", "bulk"),)) in found
    assert ("process_resident_memory_bytes", ()) in found
