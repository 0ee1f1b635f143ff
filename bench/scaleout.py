"""Two instances on PostgreSQL behind a proxy: a broadcast to 10,000 members while people talk
to the bot, and a `kill -9` of the leader half way.

    BUURTAGENDA_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/scaleout.py        # --scale 3 --recipients 10000 by default

The PostgreSQL server and the name come from ``--database-url``, else
``BUURTAGENDA_TEST_POSTGRES_URL``, else ``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``;
the bench creates its own database next to it, ``<name>_bench``, and drops it at the end.

What runs, all on loopback: the Bot API emulator (this process) enforcing Telegram's limits
``--scale`` times faster (30/s overall, 1/s per chat with bursts of 3, as ``bench/broadcast.py``
does); a round-robin proxy (``tests/roundrobin.py``) in front of two service processes, as Caddy
is in deploy/; and the two instances, each ``buurtagenda run`` in webhook mode (this script with
``--instance``: the same service, its send rates scaled by the same factor, so the configured
delivery rate of 25/s becomes 25 x scale and the ratio to Telegram's limits stays). Updates go
emulator -> proxy -> either instance (stored in the database before the 200, handled there);
only the leader (a PostgreSQL advisory lock) runs the outbox; both share one send budget.

The organiser's broadcast to 10,000 members of one network is created and confirmed through the
domain. Meanwhile ``--talkers`` members alternately send /agenda and open an event from the list,
pausing 0.5-1.5 s in between; each answer's latency is measured (the member's action to the
bot's reply or edit arriving at the emulator). When half of the broadcast has arrived, the
leader is killed (SIGKILL); the standby takes over the lead and the rest of the outbox.

Measured, the last line as JSON: ``throughput_fraction`` (broadcast messages arrived per second,
counted over the time a leader held: from the first arrival to the kill and from the new lead to
the last arrival, over the configured rate), ``lost`` (recipients who got nothing),
``duplicates`` (messages sent twice: at most the dispatcher's in-flight limit, 4, may be),
``http_429``, ``interactive_p95_s``, ``failover_s`` (kill to the standby's /healthz saying
leader), ``updates_answered_twice``. Goals: >= 0.95, 0, <= 4, 0, <= 1 s, <= 15 s, 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from broadcast import populate, report  # type: ignore[import-not-found]  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.ratelimit import SendRates  # noqa: E402
from emulator import Limits, Person, TelegramEmulator, serve  # noqa: E402
from emulator.state import Message  # noqa: E402
from models.broadcasts import operations as broadcasts  # noqa: E402
from models.db import Database  # noqa: E402
from models.inbox.entities import InboundUpdate  # noqa: E402
from models.leadership import RETRY_S  # noqa: E402
from models.outbox.entities import DeliveryStatus, OutboxMessage  # noqa: E402
from scheduler.dispatcher import DispatcherSettings  # noqa: E402
from tests.roundrobin import round_robin_proxy  # noqa: E402
from tests.service_process import ServiceProcess  # noqa: E402

RATE = 25.0  # config delivery.rate_per_s (the default), before scaling
MARKER = "Buurtnieuws"
APOLOGY = "er ging iets mis"
SECRET = "bench_scaleout_secret"
PATH = "/telegram/updates"
IDLE_S = 5.0  # the talkers alone first: the baseline of interactive latency
REPLY_TIMEOUT_S = 60.0
LATE_S = 15.0  # Telegram no longer takes a callback answer after this
MAX_IN_FLIGHT = DispatcherSettings().max_in_flight
GOALS = {
    "throughput_fraction": (">=", 0.95),
    "lost": ("<=", 0),
    "duplicates": ("<=", MAX_IN_FLIGHT),
    "http_429": ("<=", 0),
    "interactive_p95_s": ("<=", 1.0),
    "failover_s": ("<=", 15.0),
    "updates_answered_twice": ("<=", 0),
}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


# --- one instance (a child process) ------------------------------------------------------------


def run_instance(scale: float) -> int:
    """``buurtagenda run`` (buurtagenda/cli.py), with the send rates ``scale`` times faster."""
    from buurtagenda.config import load_config
    from buurtagenda.logformat import TEXT_FORMAT, use_log_format
    from buurtagenda.redaction import hide_secrets, install_redaction
    from buurtagenda.service import Service

    logging.basicConfig(level=logging.INFO, format=TEXT_FORMAT)
    install_redaction()
    config = load_config(None)
    hide_secrets(config)
    use_log_format(config.logging.format)
    rates = SendRates(bulk_per_s=config.delivery.rate_per_s).scaled(scale)
    asyncio.run(Service(config, send_rates=rates).run())
    return 0


# --- the bench ---------------------------------------------------------------------------------


def bench_database_url(given: str | None) -> str:
    base = (
        given
        or os.environ.get("BUURTAGENDA_TEST_POSTGRES_URL")
        or "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    url = make_url(base)
    return url.set(database=f"{url.database}_bench").render_as_string(hide_password=False)


async def recreate(database_url: str, *, drop_only: bool = False) -> None:
    url = make_url(database_url)
    admin = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            if not drop_only:
                await connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        await admin.dispose()


@dataclass
class Talker:
    person: Person
    agendas: int = 0
    presses: int = 0
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (when, seconds)

    pressed: list[Message] = field(default_factory=list)

    def apologies(self) -> int:
        """ "Sorry, er ging iets mis" (bot/errors.py): an update that failed, e.g. a tap handled
        so late that Telegram no longer takes its callback answer."""
        return sum(APOLOGY in m.content for m in self.person.chat.bot_messages())

    def answered_twice(self) -> int:
        """Replies beyond one per /agenda, callback answers beyond one per tap, cards edited
        more than once per tap (an apology is no second answer: it is counted apart)."""
        replies = len(self.person.chat.bot_messages()) - self.apologies()
        extra_replies = max(0, replies - self.agendas)
        extra_answers = max(0, len(self.person.callback_answers) - self.presses)
        extra_edits = sum(max(0, m.edit_count - 1) for m in self.pressed)
        return extra_replies + extra_answers + extra_edits

    async def talk(self, stop: asyncio.Event, seed: int) -> None:
        """/agenda, then open an event from the list; again and again, like a person would."""
        rng = random.Random(seed)
        while not stop.is_set():
            sent = self.person.send("/agenda")
            self.agendas += 1
            try:
                agenda = await sent.reply(timeout=REPLY_TIMEOUT_S)
            except TimeoutError:
                self.latencies.append((time.monotonic(), REPLY_TIMEOUT_S))
                continue
            self.latencies.append((time.monotonic(), agenda.arrived_at - sent.message.arrived_at))
            await asyncio.sleep(rng.uniform(0.5, 1.5))
            events = [b["text"] for b in agenda.inline_buttons() if "Masterclass" in b["text"]]
            if events and not stop.is_set():
                started = time.monotonic()
                press = self.person.press(agenda, rng.choice(events))
                self.presses += 1
                self.pressed.append(agenda)
                try:
                    await press.edit(timeout=REPLY_TIMEOUT_S)
                    self.latencies.append((time.monotonic(), time.monotonic() - started))
                except TimeoutError:
                    self.latencies.append((time.monotonic(), REPLY_TIMEOUT_S))
                await asyncio.sleep(rng.uniform(0.5, 1.5))


async def role(service: ServiceProcess) -> str:
    try:
        response = await service.get("/healthz")
    except AssertionError:
        return "down"
    return str(response.json().get("role"))


async def wait_for_leader(services: list[ServiceProcess], timeout_s: float) -> ServiceProcess:
    async with asyncio.timeout(timeout_s):
        while True:
            for service in services:
                if await role(service) == "leader":
                    return service
            await asyncio.sleep(0.05)


async def outbox_open(database: Database) -> int:
    async with database.read() as session:
        count = await session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])
            )
        )
    return int(count or 0)


async def updates_unhandled(database: Database) -> int:
    async with database.read() as session:
        count = await session.scalar(
            select(func.count(InboundUpdate.update_id)).where(InboundUpdate.processed_at.is_(None))
        )
    return int(count or 0)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    scale = args.scale
    configured = RATE * scale
    rates = SendRates(bulk_per_s=RATE).scaled(scale)
    database_url = bench_database_url(args.database_url)
    shown_url = make_url(database_url).render_as_string(hide_password=True)
    print(
        f"configuration: 2 instances (webhook mode) behind a round-robin proxy on {shown_url}; "
        f"{args.recipients:,} recipients, {args.talkers} members talking to the bot"
    )
    print(
        f"  emulator at Telegram's limits x{scale:g}: {30 * scale:g}/s overall, {scale:g}/s per "
        f"chat (burst 3), fractional retry_after"
    )
    print(
        f"  the service's rates x{scale:g}: the outbox (delivery.rate_per_s {RATE:g}) at "
        f"{configured:g}/s, everything at most {rates.total_per_s:g}/s, one budget for both "
        f"instances; in flight at most {MAX_IN_FLIGHT}; leases {DispatcherSettings().lease_s:g} s; "
        f"a standby tries for the lead every {RETRY_S:g} s (not scaled)"
    )
    await recreate(database_url)
    emulator = TelegramEmulator(limits=Limits(whole_second_retry_after=False).scaled(scale))
    recipients = [emulator.user(f"Buur {n}") for n in range(args.recipients)]
    talkers = [Talker(emulator.user(f"Vraagsteller {n}")) for n in range(args.talkers)]
    organiser = emulator.user("Olga")
    database = Database(database_url)
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-scaleout-") as scratch:
            async with serve(emulator) as api_url:
                env = {
                    "BUURTAGENDA_TELEGRAM_TOKEN": emulator.token,
                    "BUURTAGENDA_TELEGRAM_API_BASE_URL": api_url,
                    "BUURTAGENDA_TELEGRAM_WEBHOOK_SECRET": SECRET,
                    "BUURTAGENDA_DATABASE_URL": database_url,
                }
                program = [sys.executable, str(SCRIPT), "--instance"]
                program += ["--scale", str(scale)]
                services = [ServiceProcess(Path(scratch), env, program=program) for _ in range(2)]
                async with round_robin_proxy([s.url for s in services]) as proxy:
                    for service in services:
                        service.env["BUURTAGENDA_TELEGRAM_WEBHOOK_URL"] = f"{proxy.url}{PATH}"
                    try:
                        people = (recipients, talkers, organiser)
                        result = await measure(
                            args, emulator, database, services, people, stop, tasks
                        )
                    finally:
                        stop.set()
                        for task in tasks:
                            task.cancel()
                        await asyncio.gather(*tasks, return_exceptions=True)
                        for service in services:
                            service.kill()
                        for service in services:
                            await service.wait()
                    problems = [
                        line.rstrip()
                        for service in services
                        for line in service.lines
                        if " ERROR " in line or " CRITICAL " in line or "Traceback" in line
                    ]
                    print(f"instances' log: {len(problems)} error lines")
                    if args.logs:
                        write_logs(Path(args.logs), services)
                    for line in problems[:10]:
                        print(f"  {line}")
    finally:
        await database.dispose()
        await recreate(database_url, drop_only=True)
    return result


def write_logs(directory: Path, services: list[ServiceProcess]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for n, service in enumerate(services):
        (directory / f"instance-{n}.log").write_text(service.output)


async def measure(
    args: argparse.Namespace,
    emulator: TelegramEmulator,
    database: Database,
    services: list[ServiceProcess],
    people: tuple[list[Person], list[Talker], Person],
    stop: asyncio.Event,
    tasks: list[asyncio.Task[None]],
) -> dict[str, Any]:
    configured = RATE * args.scale
    recipients, talkers, organiser = people
    await asyncio.gather(*(service.start() for service in services))
    for service in services:
        await service.wait_for_line("Buurtagenda is running", within_s=120)
    leader = await wait_for_leader(services, timeout_s=60)
    await leader.wait_for_line("receives updates at", within_s=60)
    network_id, organiser_id = await populate(
        database, recipients, [t.person for t in talkers], organiser
    )

    tasks += [asyncio.create_task(t.talk(stop, seed)) for seed, t in enumerate(talkers)]
    await asyncio.sleep(IDLE_S)
    broadcast_at = time.monotonic()
    async with database.transaction() as session:  # as /bericht does, on either instance
        broadcast = await broadcasts.create_broadcast(
            session,
            actor_id=organiser_id,
            html=f"<b>{MARKER}</b>: de nieuwe masterclasses staan in de agenda!",
            audience={"kind": "networks", "network_ids": [network_id]},
            now=datetime.now(UTC),
        )
        await broadcasts.confirm_broadcast(
            session, actor_id=organiser_id, broadcast_id=broadcast.id, now=datetime.now(UTC)
        )
    shown = await emulator.api.call("sendMessage", chat_id=organiser.id, text="📨 …")
    async with database.transaction() as session:  # the live progress message, as the bot does
        await broadcasts.set_progress_message(
            session,
            actor_id=organiser_id,
            broadcast_id=broadcast.id,
            chat_id=organiser.id,
            message_id=shown["message_id"],
        )

    def arrivals() -> list[Message]:
        return [m for m in emulator.sent if MARKER in m.content]

    half = len(recipients) // 2
    await emulator.wait_until(lambda: len(arrivals()) >= half or None, timeout=args.timeout)
    killed_at = time.monotonic()
    leader.kill()
    print(f"  {killed_at - broadcast_at:5.0f} s: {len(arrivals()):,} arrived; kill -9 the leader")
    await leader.wait()
    standby = [s for s in services if s is not leader]
    await wait_for_leader(standby, timeout_s=60)
    led_at = time.monotonic()
    failover_s = led_at - killed_at
    print(
        f"  {led_at - broadcast_at:5.0f} s: the standby leads ({failover_s:.1f} s after the kill)"
    )

    last_print = time.monotonic()
    while await outbox_open(database):
        await asyncio.sleep(0.5)
        now = time.monotonic()
        if now - last_print >= 10:
            last_print = now
            print(f"  {now - broadcast_at:5.0f} s: {len(arrivals()):,} arrived")
        if now - broadcast_at > args.timeout:
            print("  timed out")
            break
    stop.set()
    await asyncio.gather(*tasks)
    async with asyncio.timeout(60):  # every update handled (and marked): nothing more comes
        while await updates_unhandled(database):  # noqa: ASYNC110 (polled: the database)
            await asyncio.sleep(0.2)
    async with database.read() as session:
        statuses = Counter((await session.scalars(select(OutboxMessage.status))).all())

    sent = arrivals()
    wanted = {person.id for person in recipients}
    got = Counter(m.chat.id for m in sent)
    lost = len(wanted - set(got))
    duplicates = sum(n - 1 for n in got.values() if n > 1)
    times = sorted(m.arrived_at for m in sent)
    # Emulator arrival times and this process's clock are both time.monotonic().
    held_s = (killed_at - times[0]) + (times[-1] - led_at)
    throughput = len(times) / held_s if held_s > 0 else 0.0
    before = [m for m in times if m <= killed_at]
    after = [m for m in times if m >= led_at]
    first_leader = len(before) / (killed_at - times[0])
    second_leader = len(after) / (times[-1] - led_at) if times[-1] > led_at else 0.0
    idle = [s for when, s in (x for t in talkers for x in t.latencies) if when < broadcast_at]
    busy = [s for when, s in (x for t in talkers for x in t.latencies) if when >= broadcast_at]
    twice = sum(t.answered_twice() for t in talkers)
    apologies = sum(t.apologies() for t in talkers)
    late = sum(s > LATE_S for s in busy)
    stats = emulator.stats
    print(
        f"broadcast: {len(sent):,} arrived for {len(wanted):,} recipients, outbox "
        f"{dict((s.value, n) for s, n in statuses.items())}"
    )
    print(
        f"  first leader {len(before):,} in {killed_at - times[0]:.1f} s ({first_leader:.1f}/s), "
        f"second {len(after):,} in {times[-1] - led_at:.1f} s ({second_leader:.1f}/s): "
        f"{throughput:.1f}/s while a leader held, of {configured:g}/s configured"
    )
    print(
        f"interactive: baseline (before the broadcast) {len(idle)} answers, p50 "
        f"{percentile(idle, 50):.3f} s, p95 {percentile(idle, 95):.3f} s; during it "
        f"{len(busy)} answers, p50 {percentile(busy, 50):.3f} s, p95 {percentile(busy, 95):.3f} s, "
        f"max {max(busy, default=0):.3f} s; {late} answers later than {LATE_S:g} s, "
        f"{apologies} apologies, {twice} answered twice"
    )
    print(
        f"emulator: {stats.messages_sent:,} messages, {stats.edits:,} edits, "
        f"{stats.too_many_requests} answered 429; webhook: {stats.webhook_deliveries:,} "
        f"deliveries, {stats.webhook_failures} failed (and delivered again)"
    )
    return {
        "throughput_fraction": round(throughput / configured, 3),
        "lost": lost,
        "duplicates": duplicates,
        "http_429": stats.too_many_requests,
        "interactive_p95_s": round(percentile(busy, 95), 3),
        "failover_s": round(failover_s, 2),
        "updates_answered_twice": twice,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--talkers", type=int, default=5)
    parser.add_argument(
        "--scale", type=float, default=3.0, help="Telegram's limits and our rates, x this"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="stop waiting after (s)")
    parser.add_argument(
        "--database-url", help="PostgreSQL server and name; the bench uses <name>_bench"
    )
    parser.add_argument("--logs", metavar="DIR", help="write each instance's output there")
    parser.add_argument("--instance", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.instance:
        sys.exit(run_instance(args.scale))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    report(asyncio.run(run(args)), GOALS)


if __name__ == "__main__":
    main()
