"""The inbox of webhook updates on SQLite and PostgreSQL: stored once, claimed by one instance,
taken over when a claim runs out, forgotten a day after it was handled."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from models.clock import FrozenClock
from models.db import Database
from models.inbox.operations import (
    claim_leftovers,
    extend_claims,
    mark_processed,
    purge_processed,
    release_claims,
    store,
    unprocessed_count,
)

CLAIM = timedelta(seconds=30)


def update(update_id: int) -> dict[str, object]:
    return {"update_id": update_id, "message": {"text": f"bericht {update_id}"}}


async def test_an_update_is_stored_once(db: Database, clock: FrozenClock) -> None:
    async with db.transaction() as session:
        assert await store(session, update_id=7, payload=update(7), now=clock())
        assert not await store(session, update_id=7, payload=update(7), now=clock())
    async with db.read() as session:
        assert await unprocessed_count(session) == 1


async def test_claims_hold_until_they_run_out_and_are_then_taken_over(
    db: Database, clock: FrozenClock
) -> None:
    now = clock()
    async with db.transaction() as session:
        await store(session, update_id=1, payload=update(1), now=now)  # nobody's
        await store(  # being handled by a
            session,
            update_id=2,
            payload=update(2),
            now=now,
            claimed_by="a",
            claimed_until=now + CLAIM,
        )
        await store(  # handled already
            session,
            update_id=3,
            payload=update(3),
            now=now,
            claimed_by="a",
            claimed_until=now + CLAIM,
        )
        await mark_processed(session, update_id=3, now=now)
    async with db.transaction() as session:
        taken = await claim_leftovers(session, now=now, claimed_by="b", claimed_until=now + CLAIM)
    assert [(u.update_id, u.payload) for u in taken] == [(1, update(1))]

    clock.advance(CLAIM - timedelta(seconds=1))
    async with db.transaction() as session:  # a is alive: it extends its claim
        await extend_claims(session, update_ids=[2], claimed_by="a", claimed_until=clock() + CLAIM)
    clock.advance(CLAIM - timedelta(seconds=1))
    async with db.transaction() as session:  # b's claim on 1 ran out (b died); 2 is still a's
        taken = await claim_leftovers(session, now=clock(), claimed_by="c", claimed_until=clock())
    assert [u.update_id for u in taken] == [1]
    clock.advance(CLAIM + timedelta(seconds=1))  # a died too
    async with db.transaction() as session:
        taken = await claim_leftovers(session, now=clock(), claimed_by="b", claimed_until=clock())
    assert [u.update_id for u in taken] == [1, 2]


async def test_a_restarted_instance_takes_its_claims_back_at_once(
    db: Database, clock: FrozenClock
) -> None:
    now = clock()
    async with db.transaction() as session:
        await store(
            session,
            update_id=5,
            payload=update(5),
            now=now,
            claimed_by="a",
            claimed_until=now + CLAIM,
        )
        assert await release_claims(session, claimed_by="a") == 1
        taken = await claim_leftovers(session, now=now, claimed_by="a", claimed_until=now + CLAIM)
    assert [u.update_id for u in taken] == [5]


async def test_handled_updates_are_forgotten_after_a_day(db: Database, clock: FrozenClock) -> None:
    async with db.transaction() as session:
        for update_id in (1, 2):
            await store(session, update_id=update_id, payload=update(update_id), now=clock())
        await mark_processed(session, update_id=1, now=clock())
    clock.advance(timedelta(days=1, seconds=1))
    async with db.transaction() as session:
        assert await purge_processed(session, processed_before=clock() - timedelta(days=1)) == 1
    async with db.read() as session:
        assert await unprocessed_count(session) == 1  # never handled: kept


async def test_two_sweeps_at_once_never_take_the_same_update(
    db: Database, clock: FrozenClock
) -> None:
    """PostgreSQL: FOR UPDATE SKIP LOCKED (the second sweep does not wait for the first);
    SQLite: one writer at a time."""
    now = clock()
    async with db.transaction() as session:
        for update_id in range(1, 41):
            await store(session, update_id=update_id, payload=update(update_id), now=now)

    async def sweep(name: str) -> list[int]:
        async with db.transaction() as session:
            taken = await claim_leftovers(
                session, now=now, claimed_by=name, claimed_until=now + CLAIM, limit=25
            )
            await asyncio.sleep(0.05)  # hold the rows while the other sweep runs
        return [u.update_id for u in taken]

    first, second = await asyncio.gather(sweep("a"), sweep("b"))
    assert not set(first) & set(second)
    assert sorted(first + second) == list(range(1, 41))
