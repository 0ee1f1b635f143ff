"""A broadcast to 10,000 members at Telegram's limits, while other members use the bot.

    .venv/bin/python bench/broadcast.py            # --scale 3 --recipients 10000 by default

A fresh SQLite database (migrations and reference data, as at start) gets 10,000 members of
one buurtnetwerk (bulk inserted; each is a user of the emulator, ``Member.telegram_id`` = the
emulator user id), a few members who talk to the bot, an organiser, and six published events.
The emulator enforces Telegram's limits (30/s overall, 1/s per private chat with bursts of 3,
20/min per group), ``--scale`` times faster; the bot's send rates are scaled by the same factor
(the configured delivery rate 25/s becomes 25 x scale), so the ratio is Telegram's and the run
is short. All on loopback, in this process: the emulator over real HTTP, our Application with
its rate limiter (``bot/ratelimit.py``) polling it, the outbox dispatcher woken by APScheduler,
and the live progress message (``BroadcastProgress``) edited every 3 s.

The organiser's broadcast (audience: the network) is created and confirmed through the domain:
10,000 outbox rows. Meanwhile ``--talkers`` members alternately send /agenda and open an event
from the list (a button press that edits the message), pausing 0.5-1.5 s in between, and each
answer's latency is measured (the member's action to the bot's reply or edit arriving).

Measured: sustained throughput (broadcast messages arrived / the time from the first to the
last arrival) as a fraction of the configured rate; recipients who got nothing (lost) or more
than one (duplicates); 429s the emulator answered; p95 latency of the interactive answers.
Goals: throughput >= 95 %, zero lost, zero duplicates, zero 429s, p95 <= 1 s. The last line is
JSON: ``throughput_fraction``, ``lost``, ``duplicates``, ``http_429``, ``interactive_p95_s``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.callbacks import CallbackSigner  # noqa: E402
from bot.context import BotDeps  # noqa: E402
from bot.handlers.broadcasts import PROGRESS_KEY, BroadcastProgress  # noqa: E402
from bot.notifications import TelegramDelivery  # noqa: E402
from bot.ratelimit import PriorityRateLimiter, SendRates  # noqa: E402
from buurtagenda.service import prepare_database  # noqa: E402
from emulator import Limits, Person, TelegramEmulator, serve  # noqa: E402
from emulator.testing import polling  # noqa: E402
from models.broadcasts import operations as broadcasts  # noqa: E402
from models.clock import system_clock  # noqa: E402
from models.db import Database  # noqa: E402
from models.events.entities import EventKind  # noqa: E402
from models.events.operations import EventDraft, create_event  # noqa: E402
from models.members.entities import Affiliation, Member, Role  # noqa: E402
from models.networks.entities import Network  # noqa: E402
from models.registrations.policy import RegistrationPolicy  # noqa: E402
from scheduler.dispatcher import Dispatcher, DispatcherSettings  # noqa: E402

RATE = 25.0  # messages per second the service sends on its own (config delivery.rate_per_s)
MARKER = "Buurtnieuws"
GOALS = {
    "throughput_fraction": (">=", 0.95),
    "lost": ("<=", 0),
    "duplicates": ("<=", 0),
    "http_429": ("<=", 0),
    "interactive_p95_s": ("<=", 1.0),
}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def populate(
    database: Database, recipients: list[Person], talkers: list[Person], organiser: Person
) -> tuple[int, int]:
    """Members (bulk), six events; returns (the network's id, the organiser's member id)."""
    now = datetime.now(UTC)
    async with database.transaction() as session:
        network = await session.scalar(select(Network.id).where(Network.slug == "wyck"))
        assert network is not None
        rows: list[dict[str, Any]] = [
            {
                "telegram_id": person.id,
                "display_name": person.user.first_name,
                "affiliation": Affiliation.BUURTNETWERK,
                "network_id": network,
                "created_at": now,
                "updated_at": now,
            }
            for person in recipients
        ]
        rows += [
            {
                "telegram_id": person.id,
                "display_name": person.user.first_name,
                "affiliation": Affiliation.BEWONER,
                "network_id": None,
                "created_at": now,
                "updated_at": now,
            }
            for person in talkers
        ]
        await session.execute(insert(Member), rows)
        olga = Member(
            telegram_id=organiser.id,
            display_name="Olga",
            affiliation=Affiliation.TRAJEKT,
            role=Role.ORGANISER,
        )
        session.add(olga)
        for n in range(6):
            starts = now + timedelta(days=7 * (n + 1))
            draft = EventDraft(
                kind=EventKind.MASTERCLASS,
                title=f"Masterclass {n + 1}: de buurt aan zet",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                location="Stadhuis Maastricht, Markt 78",
                capacity=80,
            )
            await create_event(session, draft=draft, actor_id=None, now=now, publish=True)
        await session.flush()
        return network, olga.id


async def talk(person: Person, latencies: list[float], stop: asyncio.Event, seed: int) -> None:
    """/agenda, then open an event from the list; again and again, like a person would."""
    rng = random.Random(seed)
    while not stop.is_set():
        sent = person.send("/agenda")
        try:
            agenda = await sent.reply(timeout=30)
        except TimeoutError:
            latencies.append(30.0)
            continue
        latencies.append(agenda.arrived_at - sent.message.arrived_at)
        await asyncio.sleep(rng.uniform(0.5, 1.5))
        events = [b["text"] for b in agenda.inline_buttons() if "Masterclass" in b["text"]]
        if events and not stop.is_set():
            started = time.monotonic()
            press = person.press(agenda, rng.choice(events))
            try:
                await press.edit(timeout=30)
                latencies.append(time.monotonic() - started)
            except TimeoutError:
                latencies.append(30.0)
            await asyncio.sleep(rng.uniform(0.5, 1.5))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    scale = args.scale
    configured = RATE * scale
    with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as scratch:
        database = Database(f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}")
        await prepare_database(database, public_url="http://127.0.0.1:8080")
        emulator = TelegramEmulator(limits=Limits(whole_second_retry_after=False).scaled(scale))
        recipients = [emulator.user(f"Buur {n}") for n in range(args.recipients)]
        talkers = [emulator.user(f"Vraagsteller {n}") for n in range(args.talkers)]
        organiser = emulator.user("Olga")
        network_id, organiser_id = await populate(database, recipients, talkers, organiser)
        rates = SendRates(bulk_per_s=RATE).scaled(scale)
        print(
            f"{args.recipients:,} recipients, {args.talkers} members talking to the bot; "
            f"emulator at Telegram's limits x{scale:g} ({30 * scale:g}/s overall, "
            f"{scale:g}/s per chat); configured rate {configured:g}/s "
            f"(overall cap {rates.total_per_s:g}/s)"
        )
        async with serve(emulator) as url:
            deps = BotDeps(
                database=database,
                clock=system_clock,
                policy=RegistrationPolicy(),
                signer=CallbackSigner(emulator.token),
            )
            application = build_application(deps, token=emulator.token, base_url=url, rates=rates)
            limiter = application.bot.rate_limiter
            assert isinstance(limiter, PriorityRateLimiter)
            async with polling(application, poll_timeout=1):
                scheduler = AsyncIOScheduler(timezone="UTC")
                scheduler.start()
                dispatcher = Dispatcher(
                    database,
                    TelegramDelivery(application.bot, deps.signer),
                    system_clock,
                    # As the service runs it: the bot's rate limiter paces the outbox.
                    settings=DispatcherSettings(rate_per_s=0),
                    scheduler=scheduler,
                )
                await dispatcher.recover()
                dispatcher.start()
                progress = BroadcastProgress(
                    database, application.bot, deps.signer, system_clock, scheduler=scheduler
                )
                application.bot_data[PROGRESS_KEY] = progress

                stop = asyncio.Event()
                latencies: list[float] = []
                tasks = [
                    asyncio.create_task(talk(person, latencies, stop, seed))
                    for seed, person in enumerate(talkers)
                ]
                await asyncio.sleep(1.0)  # the talkers are under way before the broadcast
                async with database.transaction() as session:
                    broadcast = await broadcasts.create_broadcast(
                        session,
                        actor_id=organiser_id,
                        html=f"<b>{MARKER}</b>: de nieuwe masterclasses staan in de agenda!",
                        audience={"kind": "networks", "network_ids": [network_id]},
                        now=system_clock(),
                    )
                    await broadcasts.confirm_broadcast(
                        session,
                        actor_id=organiser_id,
                        broadcast_id=broadcast.id,
                        now=system_clock(),
                    )
                shown = await application.bot.send_message(organiser.id, "📨 …")
                async with database.transaction() as session:
                    await broadcasts.set_progress_message(
                        session,
                        actor_id=organiser_id,
                        broadcast_id=broadcast.id,
                        chat_id=organiser.id,
                        message_id=shown.message_id,
                    )
                progress.start()

                started = time.monotonic()
                cpu_started = time.process_time()
                last_print = started
                while True:
                    await asyncio.sleep(0.5)
                    async with database.read() as session:
                        report = await broadcasts.broadcast_report(session, broadcast.id)
                    now = time.monotonic()
                    if now - last_print >= 10:
                        last_print = now
                        print(
                            f"  {now - started:5.0f} s: {report.processed:,} / {report.total:,}"
                            f" sent, {len(latencies)} interactive answers so far"
                        )
                    if report.finished or now - started > args.timeout:
                        break
                cpu = (time.process_time() - cpu_started) / (time.monotonic() - started)
                stop.set()
                await asyncio.gather(*tasks)
                scheduler.shutdown(wait=False)
                async with dispatcher.lock:
                    pass

        wanted = {person.id for person in recipients}
        got = Counter(m.chat.id for m in emulator.sent if MARKER in m.content)
        arrivals = sorted(m.arrived_at for m in emulator.sent if MARKER in m.content)
        lost = len(wanted - set(got))
        duplicates = sum(n - 1 for n in got.values() if n > 1)
        strays = sum(n for chat, n in got.items() if chat not in wanted)
        span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
        throughput = (len(arrivals) - 1) / span if span else 0.0
        stats = emulator.stats
        print(
            f"delivered {len(arrivals):,} in {span:.1f} s: {throughput:.1f}/s of {configured:g}/s "
            f"configured; report: {report.delivered:,} delivered, {report.blocked} blocked, "
            f"{report.failed} failed, {report.pending} pending"
        )
        print(
            f"interactive: {len(latencies)} answers, p50 {percentile(latencies, 50):.3f} s, "
            f"p95 {percentile(latencies, 95):.3f} s, max {max(latencies, default=0):.3f} s; "
            f"limiter: {limiter.stats.sends:,} paced sends ({limiter.stats.bulk_sends:,} bulk), "
            f"replies waited {limiter.stats.waited_s:.1f} s in all"
        )
        print(
            f"emulator: {stats.messages_sent:,} messages, {stats.edits:,} edits, "
            f"{stats.too_many_requests} answered 429; {strays} broadcast messages to others; "
            f"this process used {cpu:.0%} of a CPU while sending"
        )
        await database.dispose()
    return {
        "throughput_fraction": round(throughput / configured, 3),
        "lost": lost,
        "duplicates": duplicates,
        "http_429": stats.too_many_requests,
        "interactive_p95_s": round(percentile(latencies, 95), 3),
    }


def report(result: dict[str, Any], goals: dict[str, tuple[str, float]]) -> None:
    """Each goal met or MISSED, then the one line of JSON (also for alerts.py and scaleout.py)."""
    for key, (relation, goal) in goals.items():
        value = result[key]
        ok = value >= goal if relation == ">=" else value <= goal
        print(f"goal {key} {relation} {goal:g}: {value:g} {'ok' if ok else 'MISSED'}")
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--talkers", type=int, default=5)
    parser.add_argument(
        "--scale", type=float, default=3.0, help="Telegram's limits and our rates, x this"
    )
    parser.add_argument("--timeout", type=float, default=240.0, help="stop waiting after (s)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # While one long round sends the broadcast, APScheduler skips the dispatcher's 30 s sweep
    # (max_instances=1) and says so at WARNING each time: expected here, and only noise.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    report(asyncio.run(run(args)), GOALS)


if __name__ == "__main__":
    main()
