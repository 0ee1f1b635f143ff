"""Random use of the real bot, found by hypothesis: nothing may crash, leak or corrupt.

Each example builds a fresh world (a copy of the migrated SQLite template, a fresh emulator with
its limits off, our Application from ``build_application``) with a handful of events, then plays
a random sequence of what 1-3 people (in their private chats, a group and a channel) can do:
commands with and without arguments, deep links to real, made-up and malformed events, any text
(4,000 characters, emoji, right-to-left, zero-width, markup), stickers, photos, documents, edits,
taps on real buttons of the bot's messages, forged and replayed button data, the clock moving on,
blocking the bot. After every action the test waits until the bot confirmed the update and its
update queue is drained (no sleeping), then checks:

- nothing was logged at ERROR ("update N failed" from our error handler, or python-telegram-bot's
  own errors);
- nothing the bot showed (messages, captions, edits, toasts) has a traceback, an exception name,
  an unfilled ``{placeholder}`` or ``None``;
- every private message got an answer, edits/channel posts/group chatter got none, every tap was
  answered (no spinning button), group commands got the privégesprek hint;
- the database's invariants hold (one member per account, seats never over capacity, party sizes
  within the policy, history consistent with each registration's status, "forget me" forgets).

``BUURTAGENDA_FUZZ_EXAMPLES`` sets the number of examples (default 25, derandomized for CI);
``BUURTAGENDA_FUZZ_SEED`` switches to random exploration with that seed, and
``BUURTAGENDA_FUZZ_SHRINK=1`` shrinks a failure to a minimal sequence (slow).
"""

from __future__ import annotations

import inspect
import itertools
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, note, seed, settings
from hypothesis import strategies as st
from sqlalchemy import select

import bot.buttons  # noqa: F401
from bot.actions import REGISTRY as ACTIONS  # every declared button (bot.buttons imports them all)
from bot.flood import FloodGuard
from emulator import Channel, Group, Limits, Message, Person, Press, Sent, TelegramEmulator, serve
from emulator.entities import utf16_len
from emulator.testing import tiny_png
from models.clock import FrozenClock
from models.db import Database
from models.events.entities import Event, EventKind
from models.events.operations import cancel_event
from models.members.entities import Affiliation, Member
from models.members.operations import ensure_member, set_affiliation
from models.registrations import operations as registrations
from models.registrations.entities import (
    HOLDS_SEATS,
    Registration,
    RegistrationChange,
    RegistrationStatus,
)
from models.registrations.policy import RegistrationPolicy
from tests.bot.test_robustness import BotWorld, bot_running, settle
from tests.conftest import T0, sqlite_database
from tests.factories import make_event, make_member, network_id

BOT_USERNAME = "buurtagenda_test_bot"
EXAMPLES = int(os.environ.get("BUURTAGENDA_FUZZ_EXAMPLES", "25"))
SEED = os.environ.get("BUURTAGENDA_FUZZ_SEED")
# Shrinking a failure can take minutes (every step replays a whole bot session); CI reports the
# failing sequence as found (``note()`` prints every action), locally set this to get it minimal.
SHRINK = os.environ.get("BUURTAGENDA_FUZZ_SHRINK", "") not in ("", "0")
MAX_TEXT = 4000  # characters; also kept within Telegram's 4,096 UTF-16 code units

# --- what people type ----------------------------------------------------------------------------

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
SNIPPETS = [
    "<b>",
    "</i>",
    "<a href='x'>",
    "&amp;",
    "&",
    "<",
    ">",
    "{name}",
    "{}",
    "%s",
    "\\",
    "`",
    "*_[]()~>#+-=|{}.!",
    "|",
    "||",
    "/",
    "/ start",
    "Wyck",
    "daal",
    "Amby",
    "wyck " * 20,
    "'; DROP TABLE members; --",
    "%",
    "_",
    "مرحبا بالعالم",
    "שלום",
    "\u202e",
    "\u202b",
    "🇳🇱",
    "👨‍👩‍👧‍👦",
    "🏳️‍🌈",
    "e_",
    "e_aaaaaaaa",
    "@" + BOT_USERNAME,
    "\n",
    "\t",
    "Ω≈ç√∫",
    "ǅ",
    "İ",
    "ß",
    "ﬁ",
    "𝕬𝖌𝖊𝖓𝖉𝖆",
    "\u0301\u0301",
    "A" + "\u0308" * 30,
]
CHARACTERS = st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(f"\n\t{ZERO_WIDTH}")
PLAIN = st.text(CHARACTERS, min_size=1, max_size=40)


def _long_text(unit: str, characters: int) -> str:
    """``unit`` repeated up to ``characters`` characters, within Telegram's 4,096 units."""
    text = (unit * (characters // len(unit) + 1))[:characters]
    while utf16_len(text) > 4096:
        text = text[: len(text) - 50]
    return text


LONG = st.builds(
    _long_text,
    st.sampled_from(["a", "é ", "🌳", "<b>&", "ש", "\u200b", "Lorem ipsum ", "x\n"]),
    st.sampled_from([MAX_TEXT, 4096, 1000, 61]),
)
TEXT = (
    st.lists(st.sampled_from(SNIPPETS) | PLAIN, min_size=1, max_size=6).map("".join) | LONG
).filter(lambda text: bool(text.strip()))
SHORT_TEXT = (
    st.lists(st.sampled_from(SNIPPETS) | PLAIN, min_size=1, max_size=3)
    .map("".join)
    .filter(lambda text: bool(text.strip()))
)


def registered_commands() -> list[str]:
    """Every command the bot registers (its handlers, conversations included, built on a
    throwaway Application), so new features are fuzzed without editing this list."""
    from telegram.ext import ApplicationBuilder, BaseHandler, CommandHandler, ConversationHandler

    from bot.app import add_handlers

    def commands(handler: BaseHandler[Any, Any, Any]) -> set[str]:
        if isinstance(handler, CommandHandler):
            return set(handler.commands)
        if isinstance(handler, ConversationHandler):
            inner = [*handler.entry_points, *handler.fallbacks]
            inner += [h for state in handler.states.values() for h in state]
            return {name for h in inner for name in commands(h)}
        return set()

    application = ApplicationBuilder().token("1:fuzz").build()
    add_handlers(application)
    return sorted(
        {c for group in application.handlers.values() for h in group for c in commands(h)}
    )


COMMANDS = [
    *registered_commands(),
    "onbekend",
    "AGENDA",
    "Agenda",
    f"agenda@{BOT_USERNAME}",
    "agenda@een_andere_bot",
    f"start@{BOT_USERNAME}",
    "x",
    "_",
]
DEEP_LINK = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"),
    min_size=1,
    max_size=64,
)
CALLBACK_DATA = (
    st.text(min_size=1, max_size=64).filter(lambda d: 1 <= len(d.encode()) <= 64)
    | st.builds(
        lambda action, args, mac: "|".join([action, *args, mac])[:64],
        st.sampled_from([*ACTIONS, "", "zz"]),
        st.lists(st.text(max_size=10).map(lambda a: a.replace("|", "")), max_size=3),
        st.text(st.sampled_from("ABCDEFGHabcdefgh0123456789-_"), max_size=12) | PLAIN,
    )
).filter(lambda d: bool(d) and len(d.encode()) <= 64)

WHO = st.integers(0, 2)  # which person (modulo how many there are)
RECENT = st.integers(0, 7)  # which message, counted back from the newest

# What each kind of action draws. Which kind comes next is weighted (``KINDS``): taps on the
# bot's buttons are most of what people do, mostly on the newest message (older ones have stale
# buttons), and it takes a few taps in a row to get deep (agenda, card, register, party size...).
DRAWS: dict[str, st.SearchStrategy[tuple[Any, ...]]] = {
    "press": st.tuples(WHO, st.integers(0, 1) | RECENT, st.integers(0, 20)),
    "command": st.tuples(WHO, st.sampled_from(COMMANDS), st.none() | SHORT_TEXT),
    "start": st.tuples(WHO, st.none() | DEEP_LINK | DEEP_LINK.map("e_{}".format)),
    "start_event": st.tuples(WHO, st.integers(0, 20)),
    "card": st.tuples(WHO, st.integers(0, 20), st.integers(0, 20)),
    "text": st.tuples(WHO, TEXT),
    "sticker": st.tuples(WHO, st.sampled_from(["👍", "🦄", "🏳️‍🌈", "x"])),
    "photo": st.tuples(WHO, st.booleans(), st.none() | SHORT_TEXT),
    "document": st.tuples(
        WHO,
        st.binary(max_size=64),
        st.sampled_from(["a.pdf", "<b>.html", "agenda.ics", "x", "💾.bin", "..json"]),
        st.none() | SHORT_TEXT,
    ),
    "edit": st.tuples(WHO, RECENT, TEXT),
    "forge": st.tuples(WHO, RECENT, CALLBACK_DATA),
    "replay": st.tuples(WHO, WHO, RECENT, st.integers(0, 20)),
    "group_command": st.tuples(WHO, st.sampled_from(COMMANDS), st.none() | SHORT_TEXT),
    "group_text": st.tuples(WHO, TEXT, st.booleans()),
    "channel_post": st.tuples(TEXT),
    "channel_edit": st.tuples(RECENT, TEXT),
    "time": st.tuples(
        st.sampled_from(
            [timedelta(minutes=30), timedelta(hours=3), timedelta(days=1), timedelta(days=10)]
        )
    ),
    "block": st.tuples(WHO),
}
KINDS = (
    ["press"] * 12
    + ["command"] * 3
    + ["start_event"] * 2
    + ["card"] * 4
    + [kind for kind in DRAWS if kind not in ("press", "command", "start_event", "card")]
)
# One branch per entry of KINDS (distinct objects: hypothesis weighs branches, not kinds).
ACTION = st.one_of(*[DRAWS[kind].map(lambda args, kind=kind: (kind, *args)) for kind in KINDS])

NAME = st.text(CHARACTERS, min_size=1, max_size=64) | st.sampled_from(
    ["Anouk", "<b>Bram</b>", "{name}", "  ", "\u200b", "مريم", "Zoë & Co", "None", "🦄" * 32]
)
PERSON = st.tuples(
    NAME,
    st.none() | st.sampled_from(["Jansen", "<i>", "🌳"]),
    st.sampled_from(["nl", "en", None, "de", "en-GB", "NL", "", "pt-br", "zz"]),
    st.booleans(),  # an admin (per the configuration)?
    st.sampled_from(["wyck", "amby", None]),  # already a member of this network?
)


@dataclass(frozen=True)
class Scenario:
    people: list[tuple[str, str | None, str | None, bool, str | None]]
    actions: list[tuple[Any, ...]]
    flood_limit: int


SCENARIO = st.builds(
    Scenario,
    people=st.lists(PERSON, min_size=1, max_size=3),
    actions=st.lists(ACTION, min_size=10, max_size=40),
    flood_limit=st.sampled_from([10_000, 10_000, 10_000, 4]),
)


# --- the world ------------------------------------------------------------------------------------


class RecordingFloodGuard(FloodGuard):
    """The real flood guard, remembering its verdicts (a dropped update gets no answer)."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit=limit)
        self.verdicts: list[str] = []

    def check(self, user_id: int) -> str:
        verdict = super().check(user_id)
        self.verdicts.append(verdict)
        return verdict


async def seed_events(db: Database, clock: FrozenClock) -> list[str]:
    """Events of every kind and state; returns their public codes (hidden ones included)."""
    now = clock()
    amby = await network_id(db, "amby")
    events = [
        await make_event(db, now, capacity=2, title="Omgevingswet <voor> jou & mij"),
        await make_event(
            db,
            now,
            capacity=None,
            title="Dialoog met de raad",
            kind=EventKind.DIALOOG,
            starts_in=timedelta(days=3),
            location=None,
            online_url="https://meet.example/abc?x=1&y=<2>",
        ),
        await make_event(
            db,
            now,
            capacity=1,
            title="Volle workshop",
            kind=EventKind.WORKSHOP,
            starts_in=timedelta(hours=5),
        ),
        await make_event(
            db,
            now,
            capacity=3,
            title="Uitwisseling in Amby",
            kind=EventKind.UITWISSELING,
            network_id=amby,
        ),
        await make_event(
            db,
            now,
            capacity=4,
            title="Snel beslissen",
            registration_deadline=now + timedelta(hours=1),
            description=("Lange beschrijving <met> tekens & meer. " * 40),
            speakers="Dr. A & B <gast>",
        ),
        await make_event(
            db,
            now,
            capacity=3,
            title="Eerlijk delen",
            fair_share_per_network=1,
            starts_in=timedelta(days=20),
            topic_tbd=True,
        ),
        await make_event(db, now, capacity=5, title="Nog een concept", publish=False),
        await make_event(db, now, capacity=5, title="Gaat niet door", starts_in=timedelta(days=4)),
        *[
            await make_event(
                db, now, capacity=10, title=f"Reeks {i}", starts_in=timedelta(days=30 + i)
            )
            for i in range(3)
        ],
    ]
    async with db.transaction() as session:
        await cancel_event(
            session, event_id=events[7].id, actor_id=None, reason="Zaal <dicht>", now=now
        )
    # The workshop is full, with someone waiting: taps there reach the waitlist and offers.
    policy = RegistrationPolicy()
    for name in ("Vol", "Wacht"):
        member = await make_member(db, name=name, network="amby")
        async with db.transaction() as session:
            await registrations.register(
                session, event_id=events[2].id, member_id=member.id, now=now, policy=policy
            )
    return [event.public_code for event in events]


async def join(db: Database, person: Person, network: str) -> None:
    """``person`` as a member who already chose ``network`` (an earlier conversation)."""
    net_id = await network_id(db, network)
    async with db.transaction() as session:
        member, _ = await ensure_member(
            session, telegram_id=person.id, display_name=person.user.first_name
        )
        await set_affiliation(
            session, member_id=member.id, affiliation=Affiliation.BUURTNETWERK, network_id=net_id
        )


@dataclass
class Run:
    """One example: the world, its people, and what the checks need to remember."""

    world: BotWorld
    people: list[Person]
    group: Group
    channel: Channel
    codes: list[str]
    flood: RecordingFloodGuard
    inputs: list[str] = field(default_factory=list)  # everything people typed or were named
    checked: tuple[int, int, int] = (0, 0, 0)  # sent, edits, toasts already checked

    @property
    def emulator(self) -> TelegramEmulator:
        return self.world.emulator

    def who(self, index: int) -> Person:
        return self.people[index % len(self.people)]

    def typed(self, *texts: str | None) -> None:
        self.inputs += [text for text in texts if text]

    async def play(self, action: tuple[Any, ...]) -> None:
        kind, *args = action
        verdicts_before = len(self.flood.verdicts)
        outcome = getattr(self, f"do_{kind}")(*args)
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome is None:
            await settle(self.emulator, self.world.application)
            return
        result, expect = outcome
        await settle(self.emulator, self.world.application, result)
        served = all(v == "ok" for v in self.flood.verdicts[verdicts_before:])
        await expect(served)
        self.check_errors(action)
        self.check_texts()
        await self.check_database()

    # --- private chats -----------------------------------------------------------------------

    def answered_in_private(self, person: Person, sent: Sent):  # type: ignore[no-untyped-def]
        async def expect(served: bool) -> None:
            if served:
                assert [m for m in person.messages if m.seq > sent.after_seq], (
                    f"no answer to {sent.message.content[:80]!r}"
                )

        return sent, expect

    def do_command(self, who: int, command: str, args: str | None) -> Any:
        self.typed(args)
        person = self.who(who)
        return self.answered_in_private(person, person.send(f"/{command} {args or ''}"))

    def do_start(self, who: int, payload: str | None) -> Any:
        self.typed(payload)
        person = self.who(who)
        return self.answered_in_private(person, person.start(payload))

    def do_start_event(self, who: int, index: int) -> Any:
        person = self.who(who)
        return self.answered_in_private(
            person, person.start(f"e_{self.codes[index % len(self.codes)]}")
        )

    async def do_card(self, who: int, index: int, which: int) -> Any:
        """A deep link to an event (a poster's QR code), then a tap on its card: a short cut
        to the registration buttons, which random taps alone reach only now and then."""
        person = self.who(who)
        opened = person.start(f"e_{self.codes[index % len(self.codes)]}")
        await settle(self.emulator, self.world.application, opened)
        cards = [m for m in self.with_buttons(person) if m.seq > opened.after_seq]
        if not cards:
            return None
        choices = [b for b in cards[0].inline_buttons() if "callback_data" in b]
        button = choices[which % len(choices)]
        return self.tapped(
            person.press(cards[0], data=button["callback_data"]), person, genuine=True
        )

    def do_text(self, who: int, text: str) -> Any:
        self.typed(text)
        person = self.who(who)
        return self.answered_in_private(person, person.send(text))

    def do_sticker(self, who: int, emoji: str) -> Any:
        person = self.who(who)
        return self.answered_in_private(person, person.send_sticker(emoji))

    def do_photo(self, who: int, png: bool, caption: str | None) -> Any:
        self.typed(caption)
        person = self.who(who)
        data = tiny_png() if png else b"not an image"
        return self.answered_in_private(person, person.send_photo(data, caption=caption))

    def do_document(self, who: int, data: bytes, name: str, caption: str | None) -> Any:
        self.typed(caption, name)
        person = self.who(who)
        return self.answered_in_private(person, person.send_document(data, name, caption=caption))

    def do_edit(self, who: int, recent: int, text: str) -> Any:
        person = self.who(who)
        own = [m for m in person.chat.live_messages() if not m.from_bot and m.text is not None]
        if not own:
            return None
        self.typed(text)
        edited = person.edit(own[-1 - recent % len(own)], text)
        seq = self.emulator.current_seq

        async def expect(served: bool) -> None:
            assert [m for m in person.messages if m.seq > seq] == [], "an edit was answered"

        return edited, expect

    # --- buttons ------------------------------------------------------------------------------

    def tapped(self, press: Press, person: Person, *, genuine: bool = False) -> tuple[Press, Any]:
        async def expect(served: bool) -> None:
            assert press.query.answer is not None, f"tap on {press.query.data!r} left spinning"
            if served and genuine and press.query.data.startswith("fy|"):
                async with self.world.db.read() as session:
                    member = await session.scalar(
                        select(Member).where(Member.telegram_id == person.id)
                    )
                assert member is None, "still remembered after 'forget me'"

        return press, expect

    @staticmethod
    def with_buttons(person: Person) -> list[Message]:
        return [m for m in person.messages if any("callback_data" in b for b in m.inline_buttons())]

    def do_press(self, who: int, recent: int, which: int) -> Any:
        person = self.who(who)
        messages = self.with_buttons(person)
        if not messages:
            return None
        message = messages[-1 - recent % len(messages)]
        choices = [b for b in message.inline_buttons() if "callback_data" in b]
        button = choices[which % len(choices)]
        return self.tapped(
            person.press(message, data=button["callback_data"]), person, genuine=True
        )

    def do_forge(self, who: int, recent: int, data: str) -> Any:
        person = self.who(who)
        if not person.messages:
            return None
        self.typed(data)
        message = person.messages[-1 - recent % len(person.messages)]
        return self.tapped(person.forge_press(message, data), person)

    def do_replay(self, who: int, whose: int, recent: int, which: int) -> Any:
        """Button data from someone else's chat, sent as if it were one's own."""
        person, other = self.who(who), self.who(whose)
        theirs = self.with_buttons(other)
        if not person.messages or not theirs:
            return None
        data = [
            b["callback_data"]
            for b in theirs[-1 - recent % len(theirs)].inline_buttons()
            if "callback_data" in b
        ]
        return self.tapped(person.forge_press(person.messages[-1], data[which % len(data)]), person)

    # --- groups, channels, time, blocking ---------------------------------------------------

    def do_group_command(self, who: int, command: str, args: str | None) -> Any:
        self.typed(args)
        return self.in_group(self.group.send(self.who(who), f"/{command} {args or ''}"))

    def do_group_text(self, who: int, text: str, reply: bool) -> Any:
        self.typed(text)
        to = self.group.messages[-1] if reply and self.group.messages else None
        return self.in_group(self.group.send(self.who(who), text, reply_to=to))

    def in_group(self, sent: Sent) -> tuple[Sent, Any]:
        entities = sent.message.entities
        command = bool(entities) and entities[0].type == "bot_command" and entities[0].offset == 0

        async def expect(served: bool) -> None:
            answers = [m for m in self.group.messages if m.seq > sent.after_seq]
            if sent.update_id is None or not command:
                assert answers == [], f"answered group chatter: {answers[0].content[:80]!r}"
            elif served:
                assert answers and f"@{BOT_USERNAME}" in answers[0].content

        return sent, expect

    def do_channel_post(self, text: str) -> Any:
        self.typed(text)
        return self.in_channel(self.channel.post(text))

    def do_channel_edit(self, recent: int, text: str) -> Any:
        posts = list(self.channel.chat.live_messages())
        if not posts:
            return None
        self.typed(text)
        return self.in_channel(self.channel.edit(posts[-1 - recent % len(posts)], text))

    def in_channel(self, sent: Sent) -> tuple[Sent, Any]:
        async def expect(served: bool) -> None:
            assert self.channel.messages == [], "the bot wrote in a channel"

        return sent, expect

    def do_time(self, step: timedelta) -> None:
        self.world.clock.advance(step)

    def do_block(self, who: int) -> None:
        self.who(who).block()  # until they write again

    # --- checks --------------------------------------------------------------------------------

    def check_errors(self, action: tuple[Any, ...]) -> None:
        failures = [
            f"{record.getMessage()}: {record.exc_info[1]!r}"
            if record.exc_info
            else record.getMessage()
            for record in self.world.errors.records
        ]
        assert failures == [], f"after {action!r}: {failures}"

    def check_texts(self) -> None:
        sent, edits, toasts = self.checked
        answers = [a for chat in self.emulator.chats.values() for a in chat.callback_answers]
        texts = [m.content for m in self.emulator.sent[sent:]]
        texts += [e.text_after or "" for e in self.emulator.edits[edits:]]
        texts += [a.text or "" for a in answers[toasts:]]
        self.checked = (len(self.emulator.sent), len(self.emulator.edits), len(answers))
        for text in texts:
            for leak in LEAKS.findall(text):
                assert any(leak in typed for typed in self.inputs), f"{leak!r} in {text!r}"

    async def check_database(self) -> None:
        policy = self.world.deps.policy
        async with self.world.db.read() as session:
            members = (await session.scalars(select(Member))).all()
            events = {e.id: e for e in (await session.scalars(select(Event))).all()}
            rows = (await session.scalars(select(Registration))).all()
            changes = (
                await session.scalars(select(RegistrationChange).order_by(RegistrationChange.id))
            ).all()
        accounts = Counter(m.telegram_id for m in members if m.telegram_id is not None)
        assert all(n == 1 for n in accounts.values()), "two members for one Telegram account"
        for member in members:
            assert 1 <= len(member.display_name) <= 128 and member.display_name.strip()
            assert (member.network_id is not None) == (
                member.affiliation is Affiliation.BUURTNETWERK
            ), f"{member.affiliation} with network {member.network_id}"
        held: Counter[int] = Counter()
        pairs: Counter[tuple[int, int]] = Counter()
        history: defaultdict[int, list[RegistrationChange]] = defaultdict(list)
        for change in changes:
            history[change.registration_id].append(change)
        for row in rows:
            assert 1 <= row.party_size <= policy.max_party_size
            if row.status in HOLDS_SEATS:
                held[row.event_id] += row.party_size
            if row.status is RegistrationStatus.OFFERED:
                assert row.offer_expires_at is not None
            if row.status is RegistrationStatus.WAITLISTED:
                assert events[row.event_id].capacity is not None, "waiting without a limit"
            if row.member_id is not None:
                pairs[(row.event_id, row.member_id)] += 1
            steps = history[row.id]
            assert steps and steps[0].from_status is None and steps[-1].to_status is row.status
            assert all(a.to_status is b.from_status for a, b in itertools.pairwise(steps))
        assert all(n == 1 for n in pairs.values()), "two registrations for one member and event"
        for event_id, seats in held.items():
            capacity = events[event_id].capacity
            assert capacity is None or seats <= capacity, f"{seats} seats of {capacity} held"


# Tracebacks, exception names, unfilled placeholders, a Python None where a value belongs.
LEAKS = re.compile(
    r"Traceback|File \"|\b\w*(?:Error|Exception|Warning)\b|\{\w*\}|\bNone\b|<object at"
)


async def play(directory: Path, scenario: Scenario) -> None:
    db = await sqlite_database(directory)
    clock = FrozenClock(T0)
    emulator = TelegramEmulator(limits=Limits.off(), seed=len(scenario.actions))
    try:
        codes = await seed_events(db, clock)
        people = [
            emulator.user(first, last_name=last, language_code=language)
            for first, last, language, *_ in scenario.people
        ]
        admins = tuple(
            p.id for p, (*_, admin, _) in zip(people, scenario.people, strict=True) if admin
        )
        for person, (*_, network) in zip(people, scenario.people, strict=True):
            if network is not None:
                await join(db, person, network)
        group = emulator.group("Buurtnetwerk Wyck", people)
        channel = emulator.channel("Wyck nieuws", username="wyck_nieuws")
        flood = RecordingFloodGuard(scenario.flood_limit)
        async with (
            serve(emulator) as url,
            bot_running(emulator, url, db, clock, flood=flood, admins=admins) as world,
        ):
            run = Run(world, people, group, channel, codes, flood)
            run.typed(*(n for first, last, *_ in scenario.people for n in (first, last)))
            for number, action in enumerate(scenario.actions):
                note(f"action {number}: {action!r}")
                await run.play(action)
            await settle(emulator, world.application)
            run.check_errors(("end",))
    finally:
        await db.dispose()


_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=SEED is None,
    database=None,
    print_blob=True,
    phases=list(Phase) if SHRINK else [Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.mark.slow
@_settings
@given(scenario=SCENARIO)
async def test_random_use_never_crashes_leaks_or_corrupts(
    tmp_path_factory: pytest.TempPathFactory, scenario: Scenario
):
    await play(tmp_path_factory.mktemp("fuzz"), scenario)


if SEED is not None:
    test_random_use_never_crashes_leaks_or_corrupts = seed(int(SEED))(
        test_random_use_never_crashes_leaks_or_corrupts
    )
