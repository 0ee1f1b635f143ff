"""Button presses handled per second, end to end, next to a bare python-telegram-bot echo bot.

    .venv/bin/python bench/updates.py [--seconds 3] [--rounds 3] [--users 32] [--profile]

Everything runs in this process on loopback, each bot against its own fresh emulator
(``emulator.serve``: real HTTP, uvicorn on 127.0.0.1), both with Telegram's limits off
(``Limits.off()``): the point is what our handlers cost, not Telegram's limits.

- **ours**: the real ``bot.app.build_application`` (with the rate limiter and the Bot API
  client it builds, ``bot/request.py``; a tap is answered with an edit and a callback answer,
  which Telegram does not count as messages), polling as the service polls
  (``bot.app.POLL_INTERVAL_S``), on a fresh SQLite file, migrated with the reference data, ten
  published events and 100 members already onboarded (Wyck), each with an event's card open
  (``/start e_<code>``, as from a poster). A press goes emulator → getUpdates → our handlers
  (flood guard, member, signature, the registration in a write transaction, the card read
  again) → answerCallbackQuery and editMessageText. Each user taps round and round
  "✅ Aanmelden" → "Afmelden" → "Ja, afmelden" → "◀ Agenda" → the next event's card: two writes
  and three reads in every five presses, and every press edits the message.
- **echo**: the baseline, a bare ``Application`` (the same ``concurrent_updates``, no rate
  limiter, python-telegram-bot's own HTTP client and polling) with one ``CallbackQueryHandler``
  that answers and edits the message text (a counter, so the text always changes); as many
  users, each with a message with one button.

Throughput is closed loop: ``--users`` users each press, wait until the edit arrived (one
watcher of ``emulator.edits`` for all), and press again; after a warm-up, the presses whose edit
arrived within the round are counted. The bots take turns for ``--rounds`` rounds (the load on a
shared machine drifts; taking turns keeps the comparison fair) and the medians are compared. The
CPU time per press (``time.process_time()``, emulator included) is printed too: it is less
sensitive to other load. Latency is open loop at a steady 50 presses/s: a press every 20 ms, each
to the next of 100 users without a press in flight, whatever the replies do; each latency is
press → edit on the emulator's monotonic clock (the callback query's creation, the edit record).

Goals: >= 50 % of the echo bot's throughput, p95 <= 100 ms. ``--profile``: cProfile statistics of
our bot's rounds. The last line is JSON: ``bot_updates_per_s``, ``echo_updates_per_s``,
``ratio``, ``p50_ms``, ``p95_ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import logging
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
)

from bot.app import POLL_INTERVAL_S, build_application  # noqa: E402
from bot.callbacks import CallbackSigner  # noqa: E402
from bot.context import BotDeps  # noqa: E402
from bot.flood import FloodGuard  # noqa: E402
from emulator import Limits, Message, Person, Press, TelegramEmulator, serve  # noqa: E402
from emulator.testing import polling  # noqa: E402
from models import migrations  # noqa: E402
from models.clock import FrozenClock  # noqa: E402
from models.db import Database  # noqa: E402
from models.events.entities import EventKind  # noqa: E402
from models.events.operations import EventDraft, create_event  # noqa: E402
from models.members.entities import Affiliation  # noqa: E402
from models.members.operations import ensure_member, set_affiliation  # noqa: E402
from models.networks.entities import Network  # noqa: E402
from models.networks.reference import load_reference_data  # noqa: E402
from models.registrations.policy import RegistrationPolicy  # noqa: E402

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
CONCURRENT_UPDATES = 64  # build_application's default, for both bots
EVENTS = 10
RATE = 50.0  # presses per second in the latency run
LATENCY_USERS = 100
WARM_UP_S = 0.5
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
# What a user taps, round and round: register, cancel (and confirm), back to the agenda, the
# next event's card. Two writes and three reads in five presses; every press edits the message.
EVENT = "(an event on the agenda)"
ROUTE = ("✅ Aanmelden", "Afmelden", "Ja, afmelden", "◀ Agenda", EVENT)
NOT_EVENTS = {"◀ Eerder", "Later ▶"}


@dataclass
class Throughput:
    presses: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.presses / self.seconds


# --- the worlds ----------------------------------------------------------------------------------


async def fresh_database(directory: Path) -> tuple[Database, list[str]]:
    """Migrated, reference data loaded, ``EVENTS`` published events; returns their codes."""
    db = Database(f"sqlite+aiosqlite:///{directory / 'bench.db'}")
    await migrations.upgrade(db)
    codes = []
    async with db.transaction() as session:
        await load_reference_data(session)
        for i in range(EVENTS):
            starts_at = NOW + timedelta(days=14 + i)
            draft = EventDraft(
                kind=EventKind.MASTERCLASS,
                title=f"Masterclass {i + 1}: wonen in de wijk",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=2),
                location="Stadhuis Maastricht, Markt 78",
                capacity=10_000,
                description="Een avond over wonen, zorg en buren. " * 5,
            )
            event = await create_event(session, draft=draft, actor_id=None, now=NOW, publish=True)
            codes.append(event.public_code)
    return db, codes


async def onboard(db: Database, people: list[Person]) -> None:
    """Members who chose their network before (an earlier conversation)."""
    from sqlalchemy import select

    async with db.transaction() as session:
        wyck = await session.scalar(select(Network.id).where(Network.slug == "wyck"))
        for person in people:
            member, _ = await ensure_member(
                session, telegram_id=person.id, display_name=person.user.first_name
            )
            await set_affiliation(
                session, member_id=member.id, affiliation=Affiliation.BUURTNETWERK, network_id=wyck
            )


@contextlib.asynccontextmanager
async def our_bot(
    *, users: int
) -> AsyncIterator[tuple[TelegramEmulator, list[tuple[Person, Message]]]]:
    """Our bot on a fresh emulator and database; yields the users with their open cards."""
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as directory:
        db, codes = await fresh_database(Path(directory))
        emulator = TelegramEmulator(limits=Limits.off())
        people = [emulator.user(f"Buur {i}", language_code="nl") for i in range(users)]
        await onboard(db, people)
        deps = BotDeps(
            database=db,
            clock=FrozenClock(NOW),
            policy=RegistrationPolicy(),
            signer=CallbackSigner(emulator.token),
            flood=FloodGuard(limit=1_000_000),  # the bench is one busy user per chat, on purpose
        )
        try:
            async with serve(emulator) as url:
                application = build_application(
                    deps, token=emulator.token, base_url=url, concurrent_updates=CONCURRENT_UPDATES
                )
                # Polled as the service polls (``buurtagenda.service``).
                async with polling(application, poll_timeout=1, poll_interval=POLL_INTERVAL_S):
                    cards = []
                    for i, person in enumerate(people):
                        card = await person.start(f"e_{codes[i % EVENTS]}").reply(timeout=30)
                        cards.append((person, card))
                    yield emulator, cards
        finally:
            await db.dispose()


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    count = int(context.chat_data.get("n", 0)) + 1 if context.chat_data is not None else 1
    if context.chat_data is not None:
        context.chat_data["n"] = count
    await query.answer()
    await query.edit_message_text(
        f"Echo {count}: {query.data}",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Echo", callback_data="echo")]]),
    )


@contextlib.asynccontextmanager
async def echo_bot(
    *, users: int
) -> AsyncIterator[tuple[TelegramEmulator, list[tuple[Person, Message]]]]:
    emulator = TelegramEmulator(limits=Limits.off())
    people = [emulator.user(f"Buur {i}", language_code="nl") for i in range(users)]
    async with serve(emulator) as url:
        application = (
            ApplicationBuilder()
            .token(emulator.token)
            .base_url(f"{url}/bot")
            .base_file_url(f"{url}/file/bot")
            .concurrent_updates(CONCURRENT_UPDATES)
            .build()
        )
        application.add_handler(CallbackQueryHandler(_echo))
        markup = {"inline_keyboard": [[{"text": "Echo", "callback_data": "echo"}]]}
        cards = []
        for person in people:
            await emulator.api.call(
                "sendMessage", chat_id=person.id, text="Echo 0", reply_markup=json.dumps(markup)
            )
            cards.append((person, person.messages[-1]))
        async with polling(application, poll_timeout=1):
            yield emulator, cards


# --- pressing ------------------------------------------------------------------------------------


_steps: dict[int, int] = {}


def next_press(person: Person, message: Message) -> Press:
    """The user's next tap along ``ROUTE`` (the echo bot's message has just one button)."""
    labels = [button["text"] for button in message.inline_buttons()]
    if labels == ["Echo"]:
        return person.press(message, "Echo")
    step = _steps.get(person.id, 0)
    _steps[person.id] = step + 1
    wanted = ROUTE[step % len(ROUTE)]
    if wanted == EVENT:
        events = [label for label in labels if label not in NOT_EVENTS]
        if events:
            return person.press(message, events[(step // len(ROUTE) + person.id) % len(events)])
    elif wanted in labels:
        return person.press(message, wanted)
    # The double-tap guard asks when "Aanmelden" is where the event was in the list (a press
    # right after the card appeared, as a double tap would be; bot/doubletap.py): yes.
    if "Ja, aanmelden" in labels:
        _steps[person.id] = ROUTE.index("✅ Aanmelden") + 1
        return person.press(message, "Ja, aanmelden")
    # Out of step (a press that changed nothing, say): carry on from what the message offers.
    for label in ROUTE:
        if label in labels:
            _steps[person.id] = ROUTE.index(label) + 1
            return person.press(message, label)
    raise AssertionError(f"nothing to press on {message.content[:60]!r}: {labels}")


class EditWatcher:
    """One waiter for every user's edit. (``Press.edit()`` is one waiter per press, and every
    waiter re-checks on every change in the emulator: with 32 users pressing, the bench itself
    would cost more than the echo bot.)"""

    def __init__(self, emulator: TelegramEmulator) -> None:
        self.emulator = emulator
        self.seen = len(emulator.edits)
        self.waiting: dict[tuple[int, int], list[asyncio.Future[float]]] = {}

    def expect(self, message: Message) -> asyncio.Future[float]:
        """The next edit of ``message``: its time on the emulator's clock."""
        future = asyncio.get_running_loop().create_future()
        self.waiting.setdefault((message.chat.id, message.message_id), []).append(future)
        return future

    def _probe(self) -> None:
        edits = self.emulator.edits
        for record in edits[self.seen :]:
            waiting = self.waiting.get((record.chat_id, record.message_id))
            if waiting:
                future = waiting.pop(0)
                if not future.done():
                    future.set_result(record.at)
        self.seen = len(edits)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[EditWatcher]:
        task = asyncio.create_task(self.emulator.wait_until(self._probe, timeout=3600))
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def closed_loop(
    emulator: TelegramEmulator, cards: list[tuple[Person, Message]], seconds: float
) -> Throughput:
    """Every user: press, wait for the edit, press again. Counted after a warm-up."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    begin, end = start + WARM_UP_S, start + WARM_UP_S + seconds
    counted = 0

    async def user(watcher: EditWatcher, person: Person, card: Message) -> None:
        nonlocal counted
        while loop.time() < end:
            edited = watcher.expect(card)
            next_press(person, card)
            await asyncio.wait_for(edited, 30)
            if begin <= loop.time() < end:
                counted += 1

    async with EditWatcher(emulator).running() as watcher:
        await asyncio.gather(*(user(watcher, person, card) for person, card in cards))
    return Throughput(counted, seconds)


async def open_loop(
    emulator: TelegramEmulator, cards: list[tuple[Person, Message]], seconds: float
) -> list[float]:
    """A press every 1/RATE seconds, whatever the replies do; press → edit latencies (ms).

    Each press goes to the next user without a press in flight (so each latency is clearly one
    press's); a slot with every user busy counts as a press that waited the whole run, as does a
    press still unanswered 30 s after the last one: the bot did not keep up.
    """
    loop = asyncio.get_running_loop()
    clock = emulator.clock
    pending: list[tuple[float, asyncio.Future[float]]] = []
    missed: list[float] = []
    busy: set[int] = set()
    turn = 0
    async with EditWatcher(emulator).running() as watcher:
        start = loop.time()
        for i in range(int(RATE * (WARM_UP_S + seconds))):
            await asyncio.sleep(max(0.0, start + i / RATE - loop.time()))
            idle = [(turn + k) % len(cards) for k in range(len(cards))]
            user = next((u for u in idle if u not in busy), None)
            counted = i >= RATE * WARM_UP_S
            if user is None:
                if counted:
                    missed.append(clock())
                continue
            turn = user + 1
            person, card = cards[user]
            busy.add(user)
            edited = watcher.expect(card)
            edited.add_done_callback(lambda _, user=user: busy.discard(user))
            press = next_press(person, card)
            if counted:
                pending.append((press.query.created_at, edited))
        futures = [edited for _, edited in pending]
        if futures:
            await asyncio.wait(futures, timeout=30)
    end = clock()
    latencies = [
        ((edited.result() if edited.done() else end) - pressed) * 1000
        for pressed, edited in pending
    ]
    latencies += [(end - at) * 1000 for at in missed]
    late = len(missed) + sum(not edited.done() for _, edited in pending)
    if late:
        print(f"  {late} of {len(latencies)} presses not handled in time", flush=True)
    return latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def rounds(
    emulators: dict[str, TelegramEmulator],
    worlds: dict[str, list[tuple[Person, Message]]],
    users: int,
    seconds: float,
    count: int,
    profiler: cProfile.Profile | None,
) -> dict[str, tuple[float, float]]:
    """``count`` alternating closed-loop rounds per bot (the machine's load changes; taking turns
    keeps the comparison fair); the median presses/s and CPU ms per press of each."""
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in worlds}
    for round_number in range(count):
        for name, cards in worlds.items():
            profile = profiler if profiler is not None and name == "ours" else None
            cpu = time.process_time()
            if profile is not None:
                profile.enable()
            result = await closed_loop(emulators[name], cards[:users], seconds)
            if profile is not None:
                profile.disable()
            cpu_ms = (time.process_time() - cpu) * 1000 / max(1, result.presses)
            results[name].append((result.per_second, cpu_ms))
            print(
                f"round {round_number + 1}, {name}: {result.per_second:.0f} presses/s, "
                f"{cpu_ms:.1f} ms CPU per press",
                flush=True,
            )
    return {
        name: (statistics.median(r for r, _ in runs), statistics.median(c for _, c in runs))
        for name, runs in results.items()
    }


async def latency(
    name: str, emulator: TelegramEmulator, cards: list[tuple[Person, Message]], seconds: float
) -> tuple[float, float]:
    latencies = await open_loop(emulator, cards, seconds)
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    print(
        f"{name} latency: {len(latencies)} presses at {RATE:.0f}/s: p50 {p50:.1f} ms, "
        f"p95 {p95:.1f} ms, max {max(latencies):.1f} ms, mean "
        f"{statistics.fmean(latencies):.1f} ms",
        flush=True,
    )
    return p50, p95


def print_profile(profile: cProfile.Profile) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(30)
    # Where our own code spends it (cumulative, the emulator's side left out).
    stats.sort_stats("cumulative").print_stats(r"/(bot|models|buurtagenda)/", 40)
    print(out.getvalue())


async def main(seconds: float, users: int, count: int, profile: bool) -> dict[str, float]:
    profiler = cProfile.Profile() if profile else None
    population = max(users, LATENCY_USERS)
    async with (
        our_bot(users=population) as (our_emulator, our_cards),
        echo_bot(users=population) as (echo_emulator, echo_cards),
    ):
        medians = await rounds(
            {"echo": echo_emulator, "ours": our_emulator},
            {"echo": echo_cards, "ours": our_cards},
            users,
            seconds,
            count,
            profiler,
        )
        (echo_rate, echo_cpu), (our_rate, our_cpu) = medians["echo"], medians["ours"]
        print(
            f"median: ours {our_rate:.0f}/s ({our_cpu:.1f} ms CPU per press), echo "
            f"{echo_rate:.0f}/s ({echo_cpu:.1f} ms CPU per press); ratio "
            f"{our_rate / echo_rate:.2f} (CPU: {echo_cpu / our_cpu:.2f})",
            flush=True,
        )
        await latency("echo", echo_emulator, echo_cards[:LATENCY_USERS], seconds * 2)
        p50, p95 = await latency("ours", our_emulator, our_cards[:LATENCY_USERS], seconds * 2)
    if profiler is not None:
        print_profile(profiler)
    return {
        "bot_updates_per_s": round(our_rate, 1),
        "echo_updates_per_s": round(echo_rate, 1),
        "ratio": round(our_rate / echo_rate, 3),
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per measured round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per bot")
    parser.add_argument("--users", type=int, default=32, help="users pressing at once")
    parser.add_argument("--profile", action="store_true", help="cProfile our bot's rounds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    result = asyncio.run(main(args.seconds, args.users, args.rounds, args.profile))
    print(f"took {time.perf_counter() - started:.0f} s", flush=True)
    print(json.dumps(result))
