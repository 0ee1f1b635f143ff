"""Broadcasts through the outbox dispatcher and the real bot to the emulator: everyone once,
formatting and attachments, blocked members, scheduling, stopping halfway, a crash and a
restart, and no 429 at the configured rate while people talk to the bot."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.notifications import TelegramDelivery
from emulator import Person
from emulator.methods import BotMethods
from emulator.testing import tiny_png
from models.broadcasts import operations as ops
from models.members.entities import Member
from models.outbox.entities import DeliveryStatus
from scheduler.dispatcher import Dispatcher, DispatcherSettings
from tests.broadcasts.conftest import BroadcastWorld

S = DeliveryStatus
TEXT = "Hallo <b>allemaal</b>, tot <i>donderdag</i>!"


def received(people: list[Person], marker: str = "allemaal") -> list[int]:
    return [sum(1 for m in p.messages if m.by_bot and marker in m.content) for p in people]


async def test_everyone_gets_it_once_with_its_formatting(bw: BroadcastWorld):
    people = await bw.members(30)
    _, olga = await bw.organiser()
    broadcast_id = await bw.broadcast(olga, TEXT)
    report = await bw.dispatcher().dispatch_due()
    assert report.sent == 31
    assert received(people) == [1] * 30
    message = people[0].messages[-1]
    assert message.text == "Hallo allemaal, tot donderdag!"
    assert {e.type for e in message.entities} == {"bold", "italic"}
    summary = await bw.report(broadcast_id)
    assert (summary.delivered, summary.pending, summary.failed, summary.blocked) == (31, 0, 0, 0)
    assert (await bw.dispatcher().dispatch_due()).sent == 0  # never twice
    assert bw.emulator.stats.too_many_requests == 0


async def test_a_photo_is_uploaded_once_and_reused(
    bw: BroadcastWorld, monkeypatch: pytest.MonkeyPatch
):
    uploads = []
    original = BotMethods._upload

    def counting(self: BotMethods, p: Any, field: str) -> Any:
        upload = original(self, p, field)
        if upload is not None:
            uploads.append(field)
        return upload

    monkeypatch.setattr(BotMethods, "_upload", counting)
    people = await bw.members(8)
    _, olga = await bw.organiser()
    photo = ops.Attachment("photo", "poster.png", tiny_png(4, 4))
    await bw.broadcast(olga, "<b>Poster</b> voor de buurt", attachment=photo)
    assert (await bw.dispatcher(max_in_flight=1).dispatch_due()).sent == 9
    got = [p.messages[-1] for p in people]
    assert all(m.photo and m.caption == "Poster voor de buurt" for m in got)
    assert all(any(e.type == "bold" for e in m.caption_entities) for m in got)
    assert uploads == ["photo"]  # one upload, then Telegram's file_id


async def test_a_document_goes_with_its_name(bw: BroadcastWorld):
    people = await bw.members(2)
    _, olga = await bw.organiser()
    pdf = ops.Attachment("document", "programma.pdf", b"%PDF-1.4\n%%EOF\n")
    await bw.broadcast(olga, "Het programma", attachment=pdf)
    await bw.dispatcher().dispatch_due()
    for person in people:
        document = person.messages[-1].document
        assert document is not None and document.file_name == "programma.pdf"
        assert person.messages[-1].caption == "Het programma"


async def test_blocked_members_are_marked_unreachable_and_reported(bw: BroadcastWorld):
    people = await bw.members(6)
    _, olga = await bw.organiser()
    people[1].block()
    people[4].deactivate()
    broadcast_id = await bw.broadcast(olga, TEXT)
    await bw.dispatcher().dispatch_due()
    report = await bw.report(broadcast_id)
    assert (report.delivered, report.blocked, report.failed) == (5, 2, 0)
    async with bw.db.read() as session:
        unreachable = set(
            (await session.scalars(select(Member.telegram_id).where(~Member.reachable))).all()
        )
    assert unreachable == {people[1].id, people[4].id}
    # The next broadcast does not even try them.
    second = await bw.broadcast(olga, "Nog een bericht")
    assert (await bw.report(second)).total == 5


async def test_a_429_pauses_the_broadcast_and_nobody_gets_it_twice(bw: BroadcastWorld):
    people = await bw.members(20)
    _, olga = await bw.organiser()
    broadcast_id = await bw.broadcast(olga, TEXT)
    bw.emulator.faults.flood(1, count=1, method="sendMessage")  # Telegram: wait 1 s
    dispatcher = bw.dispatcher()
    first = await dispatcher.dispatch_due()
    assert first.paused_for == 1
    assert (await dispatcher.dispatch_due()).sent == 0  # still paused
    bw.clock.advance(timedelta(seconds=1))
    await dispatcher.dispatch_due()
    assert received(people) == [1] * 20
    assert (await bw.report(broadcast_id)).delivered == 21


async def test_scheduled_waits_for_its_moment(bw: BroadcastWorld):
    people = await bw.members(3)
    _, olga = await bw.organiser()
    evening = bw.clock() + timedelta(hours=10)
    broadcast_id = await bw.broadcast(olga, TEXT, send_at=evening)
    dispatcher = bw.dispatcher()
    assert (await dispatcher.dispatch_due()).sent == 0
    bw.clock.advance(timedelta(hours=9, minutes=59))
    assert (await dispatcher.dispatch_due()).sent == 0
    assert received(people) == [0, 0, 0]
    bw.clock.set(evening)
    assert (await dispatcher.dispatch_due()).sent == 4
    assert received(people) == [1, 1, 1]
    assert (await bw.report(broadcast_id)).finished


async def test_stopped_halfway_the_rest_is_skipped(bw: BroadcastWorld):
    people = await bw.members(20)
    _, olga = await bw.organiser()
    broadcast_id = await bw.broadcast(olga, TEXT)
    sends = 0

    class StopAfterFive(TelegramDelivery):
        async def deliver(self, session, message, member):  # type: ignore[no-untyped-def]
            nonlocal sends
            result = await super().deliver(session, message, member)
            sends += 1
            if sends == 5:  # the organiser taps "Stoppen" now
                async with bw.db.transaction() as tx:
                    await ops.cancel_broadcast(
                        tx, actor_id=olga, broadcast_id=broadcast_id, now=bw.clock()
                    )
            return result

    delivery = StopAfterFive(bw.application.bot, bw.deps.signer)
    dispatcher = Dispatcher(
        bw.db, delivery, bw.clock, settings=DispatcherSettings(rate_per_s=0, max_in_flight=1)
    )
    await dispatcher.dispatch_due()
    report = await bw.report(broadcast_id)
    assert (report.delivered, report.cancelled, report.pending) == (5, 16, 0)
    assert sum(received(people)) == 5


async def test_a_crash_mid_broadcast_then_a_restart_misses_nobody(bw: BroadcastWorld):
    people = await bw.members(60)
    _, olga = await bw.organiser()
    broadcast_id = await bw.broadcast(olga, TEXT)
    in_flight = 4
    crashed = False
    sends = 0

    class Crash(TelegramDelivery):
        """The process dies after 25 sends: sends that Telegram accepted from then on are
        never recorded (the messages in flight), and nothing new starts."""

        async def deliver(self, session, message, member):  # type: ignore[no-untyped-def]
            nonlocal crashed, sends
            if crashed:
                raise asyncio.CancelledError
            result = await super().deliver(session, message, member)
            sends += 1
            if sends >= 25:
                crashed = True
            if crashed:
                raise asyncio.CancelledError
            return result

    crashing = Dispatcher(
        bw.db,
        Crash(bw.application.bot, bw.deps.signer),
        bw.clock,
        settings=DispatcherSettings(rate_per_s=25.0 * bw.scale, max_in_flight=in_flight),
    )
    with contextlib.suppress(asyncio.CancelledError):
        await crashing.dispatch_due()
    await asyncio.sleep(0.3)  # sends already on their way land (or not) at "Telegram"
    before = (await bw.report(broadcast_id)).delivered
    assert 0 < before < 61

    restarted = bw.dispatcher()
    recovered = await restarted.recover()
    assert 1 <= recovered <= 50  # the claimed batch that was in SENDING
    await restarted.dispatch_due()
    counts = received(people)
    assert min(counts) == 1, "someone was missed"
    # Only the messages in flight at the crash can come twice.
    assert sum(counts) - len(people) <= in_flight
    report = await bw.report(broadcast_id)
    assert (report.delivered, report.pending) == (61, 0)


@pytest.mark.parametrize("bw", [2], indirect=True)
async def test_no_429_at_the_configured_rate_while_people_talk_to_the_bot(bw: BroadcastWorld):
    """The dispatcher does not pace itself here: only the rate limiter holds the broadcast to its
    rate (25/s x scale) and the total under the emulator's limit (30/s x scale), while three
    people send the bot message after message, faster than one chat may get answers."""
    people = await bw.members(150)
    _, olga = await bw.organiser()
    talkers = await bw.members(3, "Prater")
    await bw.broadcast(olga, TEXT)
    dispatcher = bw.dispatcher(rate_per_s=0, max_in_flight=8)
    latencies: list[float] = []

    async def talk(person: Person) -> None:
        for n in range(8):
            started = time.monotonic()
            await person.send(f"vraag {n}").reply(timeout=10)
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.05)

    sending = asyncio.create_task(dispatcher.dispatch_due())
    await asyncio.gather(*(talk(p) for p in talkers))
    report = await sending
    assert report.sent == 154  # the talkers are members too
    assert bw.emulator.stats.too_many_requests == 0
    assert received(people) == [1] * 150
    arrivals = sorted(m.arrived_at for m in bw.emulator.sent if "allemaal" in m.content)
    rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    assert rate <= 25 * bw.scale * 1.1, rate  # held to the configured rate (it can do more)
    assert max(latencies) < 2.0, latencies  # answers came between the broadcast's messages
