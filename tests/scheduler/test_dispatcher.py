"""The outbox dispatcher against the emulator: due times, retries, 429, 403, crashes, restarts.

Time is a FrozenClock: a test moves it and then asks for a round; nothing sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select
from telegram import Bot

from bot.callbacks import CallbackSigner
from bot.notifications import TelegramDelivery
from emulator import Limits, Person, TelegramEmulator, serve
from emulator.server import bot_api_urls
from models.clock import FrozenClock
from models.db import Database
from models.members.entities import Affiliation, Member
from models.members.operations import ensure_member, set_affiliation
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.registrations import operations as ops
from models.registrations.policy import RegistrationPolicy
from scheduler.dispatcher import WAKE_JOB, Dispatcher, DispatcherSettings, RoundReport
from tests.factories import make_event

S = DeliveryStatus


class ProcessDied(BaseException):
    """A stand-in for the process dying mid-round (not an Exception: nothing may handle it)."""


@dataclass
class Rig:
    db: Database
    clock: FrozenClock
    emulator: TelegramEmulator
    bot: Bot
    delivery: TelegramDelivery
    policy: RegistrationPolicy

    def dispatcher(self, **settings: object) -> Dispatcher:
        options = {"rate_per_s": 0, "max_in_flight": 1, **settings}
        return Dispatcher(
            self.db, self.delivery, self.clock, settings=DispatcherSettings(**options)
        )  # type: ignore[arg-type]

    async def member_for(self, person: Person) -> int:
        async with self.db.transaction() as session:
            member, _ = await ensure_member(
                session, telegram_id=person.id, display_name=person.user.first_name
            )
            await set_affiliation(session, member_id=member.id, affiliation=Affiliation.BEWONER)
            return member.id

    async def rows(self, kind: NotificationKind | None = None) -> list[OutboxMessage]:
        async with self.db.read() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if kind is not None:
                query = query.where(OutboxMessage.kind == kind)
            return list((await session.scalars(query)).all())


async def make_rig(db: Database, clock: FrozenClock) -> AsyncIterator[Rig]:
    emulator = TelegramEmulator(limits=Limits.off())
    async with serve(emulator) as url:
        urls = bot_api_urls(url)
        async with Bot(
            emulator.token, base_url=urls.base_url, base_file_url=urls.base_file_url
        ) as bot:
            delivery = TelegramDelivery(bot, CallbackSigner(emulator.token))
            yield Rig(db, clock, emulator, bot, delivery, RegistrationPolicy())


@pytest.fixture
async def rig(sqlite_db: Database, clock: FrozenClock) -> AsyncIterator[Rig]:
    async for value in make_rig(sqlite_db, clock):
        yield value


@pytest.fixture
async def rig_both(db: Database, clock: FrozenClock) -> AsyncIterator[Rig]:
    async for value in make_rig(db, clock):
        yield value


async def registered(rig: Rig, person: Person, **event_fields: object) -> int:
    member_id = await rig.member_for(person)
    event = await make_event(rig.db, rig.clock(), capacity=10, **event_fields)  # type: ignore[arg-type]
    async with rig.db.transaction() as session:
        await ops.register(
            session, event_id=event.id, member_id=member_id, now=rig.clock(), policy=rig.policy
        )
    return event.id


def texts(person: Person) -> list[str]:
    return [m.content for m in person.messages if m.by_bot]


async def test_reminders_go_out_when_due_and_only_once(rig: Rig):
    anna = rig.emulator.user("Anna")
    await registered(rig, anna, starts_in=timedelta(days=14))
    dispatcher = rig.dispatcher()
    assert (await dispatcher.dispatch_due()).sent == 0  # nothing due yet
    rig.clock.advance(timedelta(days=7))
    report = await dispatcher.dispatch_due()
    assert report.sent == 1
    assert "⏰ Herinnering" in texts(anna)[-1]
    assert "Ik kom" in str(anna.messages[-1].reply_markup)
    assert (await dispatcher.dispatch_due()).sent == 0  # never twice
    reminder = (await rig.rows(NotificationKind.REMINDER))[0]
    assert (
        reminder.status is S.SENT and reminder.telegram_message_id == anna.messages[-1].message_id
    )
    rig.clock.advance(timedelta(days=6))
    assert (await dispatcher.dispatch_due()).sent == 1  # the day-before reminder
    assert len(texts(anna)) == 2


async def test_transient_errors_are_retried_with_backoff(rig: Rig):
    anna = rig.emulator.user("Anna")
    await registered(rig, anna, starts_in=timedelta(days=14))
    rig.clock.advance(timedelta(days=7))
    rig.emulator.faults.fail_next(2, method="sendMessage", status=502)
    dispatcher = rig.dispatcher()
    assert (await dispatcher.dispatch_due()).retried == 1
    row = (await rig.rows(NotificationKind.REMINDER))[0]
    assert row.status is S.PENDING and row.due_at == rig.clock() + timedelta(seconds=2)
    rig.clock.advance(timedelta(seconds=2))
    assert (await dispatcher.dispatch_due()).retried == 1  # second failure: wait 4 s now
    rig.clock.advance(timedelta(seconds=3))
    assert (await dispatcher.dispatch_due()).sent == 0
    rig.clock.advance(timedelta(seconds=1))
    assert (await dispatcher.dispatch_due()).sent == 1
    assert len(texts(anna)) == 1


async def test_gives_up_after_max_attempts(rig: Rig):
    anna = rig.emulator.user("Anna")
    await registered(rig, anna, starts_in=timedelta(days=14))
    rig.clock.advance(timedelta(days=7))
    rig.emulator.faults.fail_next(10, method="sendMessage", status=500)
    dispatcher = rig.dispatcher(max_attempts=3)
    for _ in range(3):
        await dispatcher.dispatch_due()
        rig.clock.advance(timedelta(minutes=10))
    row = (await rig.rows(NotificationKind.REMINDER))[0]
    assert row.status is S.FAILED and "gave up" in (row.last_error or "")


async def test_429_pauses_all_sending_for_retry_after(rig: Rig):
    people = [rig.emulator.user(name) for name in ("Anna", "Bram", "Cor")]
    for person in people:
        await registered(rig, person, starts_in=timedelta(days=14))
    rig.clock.advance(timedelta(days=7))
    rig.emulator.faults.flood(30, count=1, method="sendMessage")
    dispatcher = rig.dispatcher()
    report = await dispatcher.dispatch_due()
    assert report.paused_for == 30 and report.sent == 0
    assert (await dispatcher.dispatch_due()).sent == 0  # still paused
    rig.clock.advance(timedelta(seconds=30))
    assert (await dispatcher.dispatch_due()).sent == 3
    assert all(len(texts(p)) == 1 for p in people)


async def test_403_marks_the_member_unreachable_and_stops_sending(rig: Rig):
    anna = rig.emulator.user("Anna")
    await registered(rig, anna, starts_in=timedelta(days=14))
    anna.block()
    rig.clock.advance(timedelta(days=7))
    dispatcher = rig.dispatcher()
    assert (await dispatcher.dispatch_due()).failed == 1
    async with rig.db.read() as session:
        member = await session.scalar(select(Member).where(Member.telegram_id == anna.id))
    assert member is not None and not member.reachable
    statuses = sorted(r.status.value for r in await rig.rows())
    assert statuses == ["failed", "skipped", "skipped"]  # the 1d reminder and the feedback


async def test_crash_between_claim_and_send_loses_and_repeats_nothing(rig: Rig):
    people = [rig.emulator.user(name) for name in ("Anna", "Bram")]
    for person in people:
        await registered(rig, person, starts_in=timedelta(days=14))
    rig.clock.advance(timedelta(days=7))
    crashed = rig.dispatcher()
    claimed = await crashed._claim(
        rig.clock(), report=__import__("scheduler.dispatcher").dispatcher.RoundReport()
    )
    assert len(claimed) == 2  # claimed, then the process died before sending
    restarted = rig.dispatcher()
    assert await restarted.recover() == 2
    assert (await restarted.dispatch_due()).sent == 2
    assert [len(texts(p)) for p in people] == [1, 1]


async def test_crash_after_send_repeats_at_most_the_messages_in_flight(rig: Rig):
    people = [rig.emulator.user(name) for name in ("Anna", "Bram", "Cor", "Dirk")]
    for person in people:
        await registered(rig, person, starts_in=timedelta(days=14))
    rig.clock.advance(timedelta(days=7))

    class CrashAfterSecondSend(TelegramDelivery):
        sends = 0

        async def deliver(self, session, message, member):  # type: ignore[no-untyped-def]
            message_id = await super().deliver(session, message, member)
            CrashAfterSecondSend.sends += 1
            if CrashAfterSecondSend.sends == 2:
                raise ProcessDied  # before the send is recorded
            return message_id

    crashing = Dispatcher(
        rig.db,
        CrashAfterSecondSend(rig.bot, rig.delivery.signer),
        rig.clock,
        settings=DispatcherSettings(rate_per_s=0, max_in_flight=1),
    )
    with pytest.raises(BaseExceptionGroup) as died:
        await crashing.dispatch_due()
    assert died.group_contains(ProcessDied)  # the other sends were cancelled with it
    restarted = rig.dispatcher()
    await restarted.recover()
    await restarted.dispatch_due()
    counts = [len(texts(p)) for p in people]
    assert sum(counts) == len(people) + 1  # everyone got it; one (in flight) got it twice
    assert min(counts) == 1


async def test_a_stop_finishes_the_send_in_flight_and_hands_the_rest_back(rig: Rig):
    people = [rig.emulator.user(name) for name in ("Anna", "Bram", "Cor", "Dirk")]
    for person in people:
        await registered(rig, person, starts_in=timedelta(days=14))
    rig.clock.advance(timedelta(days=7))

    class StopDuringFirstSend(TelegramDelivery):
        async def deliver(self, session, message, member):  # type: ignore[no-untyped-def]
            stopping.stop()  # SIGTERM arrives while this message is on its way
            return await super().deliver(session, message, member)

    stopping = Dispatcher(
        rig.db,
        StopDuringFirstSend(rig.bot, rig.delivery.signer),
        rig.clock,
        settings=DispatcherSettings(rate_per_s=0, max_in_flight=1),
    )
    report = await stopping.dispatch_due()
    assert report.sent == 1
    assert sum(len(texts(p)) for p in people) == 1
    rows = await rig.rows(NotificationKind.REMINDER)
    assert S.SENDING not in {row.status for row in rows}  # nothing left claimed
    assert sorted(row.attempts for row in rows) == [0] * 7 + [1]  # the handed-back: not tried
    assert await stopping.dispatch_due() == RoundReport()  # stopped: no further round
    restarted = rig.dispatcher()
    assert await restarted.recover() == 0
    assert (await restarted.dispatch_due()).sent == 3
    assert [len(texts(p)) for p in people] == [1, 1, 1, 1]  # everyone once


async def test_after_downtime_still_useful_goes_out_the_rest_is_skipped(rig: Rig):
    anna, bram = rig.emulator.user("Anna"), rig.emulator.user("Bram")
    await registered(rig, anna, starts_in=timedelta(days=8), title="Later")
    await registered(rig, bram, starts_in=timedelta(days=2), title="Eerder")
    rig.clock.advance(timedelta(days=3))  # down for three days: Bram's event has begun
    report = await rig.dispatcher().dispatch_due()
    assert report.sent == 2
    assert "Later" in texts(anna)[0]
    assert len(texts(bram)) == 1 and "Hoe was" in texts(bram)[0]  # feedback: still useful
    skipped = [r for r in await rig.rows(NotificationKind.REMINDER) if r.status is S.SKIPPED]
    assert skipped and all("begun" in (r.last_error or "") for r in skipped)


async def test_seat_offer_is_delivered_with_its_buttons(rig: Rig):
    anna, bram = rig.emulator.user("Anna"), rig.emulator.user("Bram")
    a, b = await rig.member_for(anna), await rig.member_for(bram)
    event = await make_event(rig.db, rig.clock(), capacity=1, title="Omgevingswet")
    async with rig.db.transaction() as session:
        await ops.register(
            session, event_id=event.id, member_id=a, now=rig.clock(), policy=rig.policy
        )
        await ops.register(
            session, event_id=event.id, member_id=b, now=rig.clock(), policy=rig.policy
        )
    async with rig.db.transaction() as session:
        await ops.cancel(
            session, event_id=event.id, member_id=a, now=rig.clock(), policy=rig.policy
        )
    await rig.dispatcher().dispatch_due()
    offer = bram.messages[-1]
    assert "Er is een plek vrijgekomen" in offer.content and "Omgevingswet" in offer.content
    assert "Plek claimen" in str(offer.reply_markup) and "Laat maar" in str(offer.reply_markup)


async def test_a_commit_with_outbox_rows_wakes_the_dispatcher_at_the_due_time(rig: Rig):
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.start(paused=True)
    try:
        dispatcher = Dispatcher(
            rig.db, rig.delivery, rig.clock, settings=DispatcherSettings(), scheduler=scheduler
        )
        rig.db.on_outbox_commit(dispatcher.wake)
        anna = rig.emulator.user("Anna")
        await registered(rig, anna, starts_in=timedelta(days=14))
        job = scheduler.get_job(WAKE_JOB)
        assert job is not None
        first_due = min(r.due_at for r in await rig.rows())
        assert job.next_run_time == first_due
    finally:
        scheduler.shutdown(wait=False)


async def test_a_sweep_during_a_running_round_leaves_it_alone(rig: Rig):
    anna = rig.emulator.user("Anna")
    await registered(rig, anna, starts_in=timedelta(days=14))
    rig.clock.advance(timedelta(days=7))  # a reminder is due
    dispatcher = rig.dispatcher()
    async with dispatcher.lock:  # a round (a long broadcast, say) is running
        await asyncio.wait_for(dispatcher._sweep_job(), timeout=5)  # returns, does not wait
        assert texts(anna) == []
    await dispatcher._sweep_job()  # no round running: the sweep sends what is due
    assert len(texts(anna)) == 1


@pytest.mark.postgres
async def test_two_dispatchers_never_claim_the_same_row(rig_both: Rig):
    rig = rig_both
    people = [rig.emulator.user(f"P{i}") for i in range(12)]
    for person in people:
        await registered(rig, person, starts_in=timedelta(days=14))
    rig.clock.advance(timedelta(days=7))
    first, second = rig.dispatcher(), rig.dispatcher()
    await asyncio.gather(first.dispatch_due(), second.dispatch_due())
    assert [len(texts(p)) for p in people] == [1] * len(people)


async def test_an_unexpected_error_in_one_send_retries_that_message(rig: Rig):
    """A bug while rendering one message must not leave it stuck (SENDING) or stop the others."""
    people = [rig.emulator.user(name) for name in ("Anna", "Bram")]
    for person in people:
        await registered(rig, person, starts_in=timedelta(days=14))
    rig.clock.advance(timedelta(days=7))

    class FailsForAnna(TelegramDelivery):
        async def deliver(self, session, message, member):  # type: ignore[no-untyped-def]
            if member.telegram_id == people[0].id:
                raise KeyError("a bug")
            return await super().deliver(session, message, member)

    dispatcher = Dispatcher(
        rig.db,
        FailsForAnna(rig.bot, rig.delivery.signer),
        rig.clock,
        settings=DispatcherSettings(rate_per_s=0, max_in_flight=2),
    )
    report = await dispatcher.dispatch_due()
    assert report.sent == 1 and report.retried == 1
    rows = [r for r in await rig.rows(NotificationKind.REMINDER) if r.attempts > 0]
    assert sorted(r.status.value for r in rows) == ["pending", "sent"]
    assert "KeyError" in next(r.last_error or "" for r in rows if r.status is S.PENDING)
