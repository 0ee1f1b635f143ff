"""/metrics sees how late the outbox sends: now - due_at of each message sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from models.clock import FrozenClock
from models.db import Database
from telemetry.metrics import REGISTRY
from tests.scheduler.test_dispatcher import Rig, make_rig, registered


@pytest.fixture
async def rig(sqlite_db: Database, clock: FrozenClock) -> AsyncIterator[Rig]:
    async for value in make_rig(sqlite_db, clock):
        yield value


def lateness(suffix: str, **labels: str) -> float:
    name = f"buurtagenda_dispatch_lateness_seconds_{suffix}"
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_the_lateness_of_each_sent_message_is_measured(rig: Rig) -> None:
    count, total = lateness("count"), lateness("sum")
    within_a_minute = lateness("bucket", le="60.0")
    within_half_a_minute = lateness("bucket", le="30.0")
    anna = rig.emulator.user("Anna")
    await registered(rig, anna, starts_in=timedelta(days=14))
    rig.clock.advance(timedelta(days=7, seconds=45))  # the week-before reminder, 45 s late
    assert (await rig.dispatcher().dispatch_due()).sent == 1
    assert lateness("count") == count + 1
    assert lateness("sum") == pytest.approx(total + 45)
    assert lateness("bucket", le="60.0") == within_a_minute + 1
    assert lateness("bucket", le="30.0") == within_half_a_minute
