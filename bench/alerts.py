"""Publishing an event that fits 5,000 of 20,000 members, at Telegram's limits, while other
members use the bot.

    .venv/bin/python bench/alerts.py            # --scale 3 --members 20000 --fitting 5000

Set up as ``bench/broadcast.py`` (whose helpers it reuses): a fresh SQLite database (migrations,
reference data and the start themes, as at start) gets 20,000 members of one buurtnetwerk (bulk
inserted; each a user of the emulator), of whom ``--fitting`` chose the theme "Wonen", plus a
few members who talk to the bot and six published masterclasses. The emulator enforces
Telegram's limits ``--scale`` times faster and the bot's send rates are scaled by the same
factor, so the ratio is Telegram's. All in this process, over real HTTP on loopback: our
Application polling the emulator, the outbox dispatcher woken by APScheduler after the commit.

An event with the theme "Wonen" is published through the domain (``create_event(...,
publish=True)``): the alert rows are written in that transaction, the commit wakes the
dispatcher. Quiet hours are off for the run (they would hold the alerts until 08:00).
Meanwhile ``--talkers`` members send /agenda and open an event, and each answer's latency is
measured.

Measured: ``first_alert_s`` (the publish call → the first alert arriving; goal <= 2),
``all_alerts_fraction_of_rate`` (alerts per second from the first to the last arrival, over the
configured rate; goal >= 0.95), ``interactive_p95_s`` while it runs (goal <= 1), ``duplicates``
(members with more than one alert; goal 0) and ``lost`` (fitting members without one). The last
line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: E402
from broadcast import RATE, percentile, report, talk  # type: ignore[import-not-found]  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.callbacks import CallbackSigner  # noqa: E402
from bot.context import BotDeps  # noqa: E402
from bot.notifications import TelegramDelivery  # noqa: E402
from bot.ratelimit import PriorityRateLimiter, SendRates  # noqa: E402
from buurtagenda.service import prepare_database  # noqa: E402
from emulator import Limits, Person, TelegramEmulator, serve  # noqa: E402
from emulator.testing import polling  # noqa: E402
from models.clock import system_clock  # noqa: E402
from models.db import Database  # noqa: E402
from models.events.entities import EventKind  # noqa: E402
from models.events.operations import EventDraft, create_event  # noqa: E402
from models.members.entities import Affiliation, Member  # noqa: E402
from models.networks.entities import Network  # noqa: E402
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage  # noqa: E402
from models.registrations.policy import RegistrationPolicy  # noqa: E402
from models.reminders.policy import ReminderPolicy  # noqa: E402
from models.themes.entities import Theme, member_themes  # noqa: E402
from scheduler.dispatcher import Dispatcher, DispatcherSettings  # noqa: E402

MARKER = "Betaalbaar wonen in Wyck"
NEVER_QUIET = ReminderPolicy(quiet_start=clock_time(0, 0), quiet_end=clock_time(0, 0))
GOALS = {
    "first_alert_s": ("<=", 2.0),
    "all_alerts_fraction_of_rate": (">=", 0.95),
    "interactive_p95_s": ("<=", 1.0),
    "duplicates": ("<=", 0),
}


async def populate(
    database: Database, members: list[Person], fitting: int, talkers: list[Person]
) -> int:
    """Members (bulk), the first ``fitting`` of them with the theme "Wonen", six events;
    returns the theme's id."""
    now = datetime.now(UTC)
    async with database.transaction() as session:
        network = await session.scalar(select(Network.id).where(Network.slug == "wyck"))
        wonen = await session.scalar(select(Theme.id).where(Theme.slug == "wonen"))
        assert network is not None and wonen is not None
        rows: list[dict[str, Any]] = [
            {
                "telegram_id": person.id,
                "display_name": person.user.first_name,
                "affiliation": Affiliation.BUURTNETWERK,
                "network_id": network,
                "created_at": now,
                "updated_at": now,
            }
            for person in [*members, *talkers]
        ]
        await session.execute(insert(Member), rows)
        ids = {
            tg: mid
            for tg, mid in (await session.execute(select(Member.telegram_id, Member.id))).all()
        }
        await session.execute(
            insert(member_themes),
            [{"member_id": ids[person.id], "theme_id": wonen} for person in members[:fitting]],
        )
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
        return wonen


async def run(args: argparse.Namespace) -> dict[str, Any]:
    scale = args.scale
    configured = RATE * scale
    with tempfile.TemporaryDirectory(prefix="bench-alerts-") as scratch:
        database = Database(f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}")
        await prepare_database(database, public_url="http://127.0.0.1:8080")
        emulator = TelegramEmulator(limits=Limits(whole_second_retry_after=False).scaled(scale))
        members = [emulator.user(f"Buur {n}") for n in range(args.members)]
        talkers = [emulator.user(f"Vraagsteller {n}") for n in range(args.talkers)]
        wonen = await populate(database, members, args.fitting, talkers)
        rates = SendRates(bulk_per_s=RATE).scaled(scale)
        print(
            f"{args.members:,} members, {args.fitting:,} of them chose the theme; "
            f"{args.talkers} members talking to the bot; emulator at Telegram's limits "
            f"x{scale:g} ({30 * scale:g}/s overall, {scale:g}/s per chat); configured rate "
            f"{configured:g}/s (overall cap {rates.total_per_s:g}/s); quiet hours off"
        )
        async with serve(emulator) as url:
            deps = BotDeps(
                database=database,
                clock=system_clock,
                policy=RegistrationPolicy(reminders=NEVER_QUIET),
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
                    settings=DispatcherSettings(rate_per_s=0),  # the bot's limiter paces
                    scheduler=scheduler,
                )
                await dispatcher.recover()
                dispatcher.start()
                stop = asyncio.Event()
                latencies: list[float] = []
                tasks = [
                    asyncio.create_task(talk(person, latencies, stop, seed))
                    for seed, person in enumerate(talkers)
                ]
                await asyncio.sleep(1.0)  # the talkers are under way before the publication

                published = emulator.clock()
                publish_started = time.monotonic()
                starts = datetime.now(UTC) + timedelta(days=30)
                async with database.transaction() as session:
                    event = await create_event(
                        session,
                        draft=EventDraft(
                            kind=EventKind.MASTERCLASS,
                            title=MARKER,
                            starts_at=starts,
                            ends_at=starts + timedelta(hours=2),
                            location="Stadhuis Maastricht, Markt 78",
                            capacity=80,
                        ),
                        actor_id=None,
                        now=system_clock(),
                        publish=True,
                        theme_ids=[wonen],
                        quiet_hours=NEVER_QUIET,
                    )
                publish_s = time.monotonic() - publish_started
                del event
                started = time.monotonic()
                last_print = started
                while True:
                    await asyncio.sleep(0.5)
                    async with database.read() as session:
                        pending = await session.scalar(
                            select(OutboxMessage.id)
                            .where(
                                OutboxMessage.kind == NotificationKind.NEW_EVENTS,
                                OutboxMessage.status.in_(
                                    [DeliveryStatus.PENDING, DeliveryStatus.SENDING]
                                ),
                            )
                            .limit(1)
                        )
                    now = time.monotonic()
                    arrived = sum(
                        1 for m in emulator.sent if MARKER in m.content and "🆕" in m.content
                    )
                    if now - last_print >= 10:
                        last_print = now
                        print(
                            f"  {now - started:5.0f} s: {arrived:,} alerts arrived, "
                            f"{len(latencies)} interactive answers so far"
                        )
                    if pending is None or now - started > args.timeout:
                        break
                stop.set()
                await asyncio.gather(*tasks)
                scheduler.shutdown(wait=False)
                async with dispatcher.lock:
                    pass

        wanted = {person.id for person in members[: args.fitting]}
        alerts = [m for m in emulator.sent if MARKER in m.content and "🆕" in m.content]
        got = Counter(m.chat.id for m in alerts)
        arrivals = sorted(m.arrived_at for m in alerts)
        lost = len(wanted - set(got))
        duplicates = sum(n - 1 for n in got.values() if n > 1)
        strays = sum(n for chat, n in got.items() if chat not in wanted)
        first = arrivals[0] - published if arrivals else float("inf")
        span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
        throughput = (len(arrivals) - 1) / span if span else 0.0
        stats = emulator.stats
        print(
            f"publish transaction (with {len(wanted):,} alert rows): {publish_s:.3f} s; "
            f"first alert after {first:.3f} s; {len(arrivals):,} alerts in {span:.1f} s: "
            f"{throughput:.1f}/s of {configured:g}/s configured; {lost} lost, "
            f"{strays} to members it does not fit"
        )
        print(
            f"interactive: {len(latencies)} answers, p50 {percentile(latencies, 50):.3f} s, "
            f"p95 {percentile(latencies, 95):.3f} s, max {max(latencies, default=0):.3f} s; "
            f"emulator: {stats.messages_sent:,} messages, {stats.too_many_requests} answered 429"
        )
        await database.dispose()
    return {
        "first_alert_s": round(first, 3),
        "all_alerts_fraction_of_rate": round(throughput / configured, 3),
        "interactive_p95_s": round(percentile(latencies, 95), 3),
        "duplicates": duplicates,
        "lost": lost,
        "http_429": stats.too_many_requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--fitting", type=int, default=5_000)
    parser.add_argument("--talkers", type=int, default=5)
    parser.add_argument(
        "--scale", type=float, default=3.0, help="Telegram's limits and our rates, x this"
    )
    parser.add_argument("--timeout", type=float, default=240.0, help="stop waiting after (s)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    report(asyncio.run(run(args)), GOALS)


if __name__ == "__main__":
    main()
