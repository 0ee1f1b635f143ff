"""Outbox leases between instances: two ``Database`` objects on their own connections stand for
two instances of the service on one PostgreSQL (``scheduler/dispatcher.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from models.clock import FrozenClock, system_clock
from models.db import Database
from models.events.operations import cancel_event
from models.outbox.entities import DeliveryStatus, NotificationKind
from scheduler.dispatcher import Dispatcher, DispatcherSettings, RoundReport
from tests.conftest import POSTGRES_URL, postgres_database
from tests.scheduler.test_dispatcher import Rig, make_rig, registered, texts

S = DeliveryStatus


@pytest.fixture
async def rig_both(db: Database, clock: FrozenClock) -> AsyncIterator[Rig]:
    async for value in make_rig(db, clock):
        yield value


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    database = await postgres_database()
    yield database
    await database.dispose()


@pytest.fixture
async def other_db(pg: Database) -> AsyncIterator[Database]:
    """A second instance's database: the same PostgreSQL, its own connections."""
    database = Database(POSTGRES_URL)
    yield database
    await database.dispose()


def dispatcher_on(rig: Rig, database: Database, instance: str, **settings: object) -> Dispatcher:
    options = {"rate_per_s": 0, "max_in_flight": 1, "lease_s": 30.0, **settings}
    return Dispatcher(
        database,
        rig.delivery,
        rig.clock,
        settings=DispatcherSettings(**options),  # type: ignore[arg-type]
        instance=instance,
    )


@pytest.mark.postgres
async def test_recovery_never_steals_a_live_lease_and_takes_an_expired_one(
    pg: Database, clock: FrozenClock, other_db: Database
) -> None:
    db = pg
    async for rig in make_rig(db, clock):
        people = [rig.emulator.user(name) for name in ("Anna", "Bram", "Cor")]
        for person in people:
            await registered(rig, person, starts_in=timedelta(days=14))
        rig.clock.advance(timedelta(days=7))
        sending = dispatcher_on(rig, db, "host-a:1:aaaa")
        claimed = await sending._claim(rig.clock(), RoundReport())  # sending these right now
        assert len(claimed) == 3
        starting = dispatcher_on(rig, other_db, "host-b:2:bbbb")
        assert await starting.recover() == 0  # a live instance's rows stay where they are
        assert (await starting.dispatch_due()).sent == 0
        rig.clock.advance(timedelta(seconds=20))
        assert await sending.renew_leases() == 3  # the live sender holds on to them
        rig.clock.advance(timedelta(seconds=20))
        assert await starting.recover() == 0  # 40 s after the claim, but renewed at 20 s
        assert (await starting.dispatch_due()).sent == 0
        assert [len(texts(p)) for p in people] == [0, 0, 0]
        rig.clock.advance(timedelta(seconds=11))  # the sender died: its lease runs out
        assert await starting.recover() == 3
        assert (await starting.dispatch_due()).sent == 3
        assert [len(texts(p)) for p in people] == [1, 1, 1]
        # The dead sender, were it alive after all, would find the rows no longer its own.
        assert await sending.renew_leases() == 0


@pytest.mark.postgres
async def test_a_round_claims_rows_whose_lease_ran_out(
    pg: Database, clock: FrozenClock, other_db: Database
) -> None:
    """No restart needed: the leader's next round takes over what a dead instance held."""
    db = pg
    async for rig in make_rig(db, clock):
        anna = rig.emulator.user("Anna")
        await registered(rig, anna, starts_in=timedelta(days=14))
        rig.clock.advance(timedelta(days=7))
        dead = dispatcher_on(rig, db, "host-a:1:aaaa")
        assert len(await dead._claim(rig.clock(), RoundReport())) == 1
        leader = dispatcher_on(rig, other_db, "host-b:2:bbbb")
        assert (await leader.dispatch_due()).sent == 0
        rig.clock.advance(timedelta(seconds=31))
        assert (await leader.dispatch_due()).sent == 1
        assert len(texts(anna)) == 1
        (row,) = [r for r in await rig.rows(NotificationKind.REMINDER) if r.status is S.SENT]
        assert row.claimed_by is None and row.lease_until is None


async def test_a_429_hand_back_keeps_the_attempt_count(rig_both: Rig) -> None:
    rig = rig_both
    people = [rig.emulator.user(name) for name in ("Anna", "Bram", "Cor")]
    for person in people:
        await registered(rig, person, starts_in=timedelta(days=14))
    rig.clock.advance(timedelta(days=7))
    rig.emulator.faults.flood(30, count=1, method="sendMessage")
    dispatcher = rig.dispatcher()
    assert (await dispatcher.dispatch_due()).paused_for == 30
    due = [r for r in await rig.rows(NotificationKind.REMINDER) if r.status is S.PENDING]
    assert len(due) == 6  # the three due now, handed back; three later ones
    assert [r.attempts for r in due] == [0] * 6  # none of them was used up by the 429
    assert {r.claimed_by for r in due} == {None}


@pytest.mark.postgres
async def test_a_row_written_through_another_instance_wakes_the_dispatcher(
    pg: Database, other_db: Database
) -> None:
    """NOTIFY in the transaction that writes the row; the other instance LISTENs and wakes at
    once (its sweep is an hour away: only the notification can have woken it)."""
    db = pg
    await other_db.start_listening()
    assert other_db.listening
    clock = system_clock
    async for rig in make_rig(db, clock):  # type: ignore[arg-type]
        anna = rig.emulator.user("Anna")
        event_id = await registered(rig, anna, starts_in=timedelta(days=14))
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.start()
        try:
            leader = Dispatcher(
                other_db,
                rig.delivery,
                clock,
                settings=DispatcherSettings(rate_per_s=0, sweep_seconds=3600),
                scheduler=scheduler,
            )
            leader.start()
            await asyncio.sleep(0.2)  # its first round: nothing due yet
            async with db.transaction() as session:  # another instance cancels the event
                await cancel_event(
                    session, event_id=event_id, actor_id=None, reason="Zaal lekt", now=clock()
                )
            message = await rig.emulator.wait_for_message(
                anna, lambda m: "gaat niet door" in m.content, timeout=10
            )
            assert "Zaal lekt" in message.content
            leader.stop()
        finally:
            scheduler.shutdown(wait=False)
