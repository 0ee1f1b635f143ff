"""Random sequences of registration operations, with the rules checked after every step.

A hypothesis state machine drives the real domain operations (``models.registrations.operations``
and ``update_event``) against a real database: a fresh SQLite file per example, and the
configured PostgreSQL (fewer examples) when ``BUURTAGENDA_TEST_POSTGRES_URL`` is set. Each
example has six members (three of Wyck, two of Amby, one without a network), an organiser and one
or two events, with or without a capacity and with or without fair share.

After every step the whole state is read back and compared with the state before:

- a refusal (``DomainError``) changed nothing;
- the operation wrote exactly the history rows it should (the acted-on registration, the offers
  it caused, the offers that lapsed), and the notifications that go with them;
- a freed seat went to the earliest waitlisted parties that fit and are within their fair share
  (recomputed independently), and in the last call nobody got an offer;
- no registration is lost, every history chain is consistent and ends in the current status;
- capacity is never exceeded (seats are never handed out over it) and fair share holds until its
  release moment (organiser overrides excepted, as documented);
- ``queue_seq`` follows the order in which registrations (re)joined;
- outside the last call, no seat stays empty while an eligible waitlisted party fits.

Each step also moves the clock by a second, as real time would: some notification keys name the
moment of their cause (``removed:<id>:<now>``), and with a frozen clock two causes could share one.
``BUURTAGENDA_PROPERTY_EXAMPLES`` sets the number of examples (PostgreSQL runs a quarter of them),
``BUURTAGENDA_PROPERTY_SHRINK=1`` lets hypothesis shrink a failure (slow: minutes).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import FrozenClock
from models.db import Database
from models.errors import DomainError
from models.events.entities import Event, EventStatus
from models.events.operations import update_event
from models.members.entities import Role
from models.outbox.entities import NotificationKind, OutboxMessage
from models.registrations import operations as ops
from models.registrations.entities import (
    ACTIVE,
    HOLDS_SEATS,
    Registration,
    RegistrationChange,
    RegistrationStatus,
)
from models.registrations.policy import RegistrationPolicy
from tests.conftest import POSTGRES_URL, SKIP_POSTGRES, T0, postgres_database, sqlite_database
from tests.factories import make_event, make_member

S = RegistrationStatus
T = TypeVar("T")
INF = float("inf")

SQLITE_EXAMPLES = int(os.environ.get("BUURTAGENDA_PROPERTY_EXAMPLES", "30"))
POSTGRES_EXAMPLES = max(1, SQLITE_EXAMPLES // 4)
STEPS = 35
TEMPLATE_DIR = Path(os.environ.get("PYTEST_TMPDIR", "/tmp")) / f"buurtagenda-tpl-{os.getpid()}"

# (name, network) of the members in every example; the organiser comes on top.
MEMBERS = [
    ("W1", "wyck"),
    ("W2", "wyck"),
    ("W3", "wyck"),
    ("A1", "amby"),
    ("A2", "amby"),
    ("B1", None),
]

# How often each operation comes up, out of the sum: mostly members registering and cancelling
# (so that events fill up and seats are freed), the rest often enough to matter.
WEIGHTS = {
    "cancel": 12,
    "register": 16,
    "join_waitlist": 5,
    "claim": 8,
    "last_call_claim": 4,
    "decline": 6,
    "change_party_size": 8,
    "time_passes": 8,
    "last_call_begins": 3,
    "expire_offers": 5,
    "release_fair_share": 4,
    "override_confirm": 4,
    "override_cancel": 4,
    "change_capacity": 6,
    "change_fair_share": 3,
}
# Which registrations an operation picks from (by index, modulo how many there are), so that
# few steps go to refusals; ``register`` makes those (party of 3, refuse when full, twice...).
ACTS_ON: dict[str, tuple[RegistrationStatus, ...]] = {
    "cancel": (S.CONFIRMED, S.CONFIRMED, S.OFFERED, S.WAITLISTED),  # mostly: seats freed
    "claim": (S.OFFERED,),
    "last_call_claim": (S.WAITLISTED,),  # refused, except in the last call
    "decline": (S.OFFERED,),
    "change_party_size": ACTIVE,
    "override_confirm": tuple(S),
    "override_cancel": ACTIVE,
}
# Small, so that six members fill them and the waitlist moves; None: no limit.
CAPACITIES = [2, 1, 3, 2, 4, None]  # the first is what hypothesis favours
STEP_SIZES = [timedelta(minutes=30), timedelta(hours=1), timedelta(hours=3), timedelta(hours=10)]


@dataclass(frozen=True)
class Op:
    """One step; each kind uses only some of the fields (``repr`` shows those)."""

    kind: str
    event: int = 0  # index into the example's events
    member: int = 0  # index into MEMBERS
    pick: int = 0  # index into the registrations the kind acts on
    party: int = 1
    refuse: bool = False
    delta: timedelta = timedelta(0)
    value: int | None = None  # a new capacity or fair share

    USES: ClassVar[dict[str, tuple[str, ...]]] = {
        "register": ("event", "member", "party", "refuse"),
        "join_waitlist": ("event", "member", "party"),
        "change_party_size": ("pick", "party"),
        "time_passes": ("delta",),
        "last_call_begins": ("event",),
        "change_capacity": ("event", "value"),
        "change_fair_share": ("event", "value"),
        "expire_offers": (),
        "release_fair_share": (),
    }

    def __repr__(self) -> str:
        used = self.USES.get(self.kind, ("pick",))
        return f"Op({self.kind!r}, " + ", ".join(f"{f}={getattr(self, f)!r}" for f in used) + ")"


operations = st.builds(
    Op,
    kind=st.sampled_from([kind for kind, weight in WEIGHTS.items() for _ in range(weight)]),
    event=st.integers(0, 1),
    member=st.integers(0, len(MEMBERS) - 1),
    pick=st.integers(0, 11),
    party=st.sampled_from([1, 1, 1, 2, 2, 3]),  # 3 is over the policy's maximum: a refusal
    refuse=st.sampled_from([False, False, False, True]),
    delta=st.sampled_from(STEP_SIZES),
    value=st.sampled_from(CAPACITIES),
)


registrations = st.builds(
    Op,
    kind=st.just("register"),
    event=st.integers(0, 1),
    member=st.integers(0, len(MEMBERS) - 1),
    party=st.sampled_from([1, 1, 2]),
)


@st.composite
def event_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Fields for ``make_event``: capacity or none, fair share or none, soon or later."""
    starts_in = draw(
        st.sampled_from(
            [timedelta(days=2), timedelta(hours=5), timedelta(hours=20), timedelta(days=5)]
        )
    )
    capacity = draw(st.sampled_from(CAPACITIES))
    config: dict[str, Any] = {"starts_in": starts_in, "capacity": capacity}
    share = draw(st.sampled_from([None, None, 1, 2, 3]))
    if share is not None:
        if capacity is not None:
            share = min(share, capacity)
        until = draw(st.sampled_from([None, timedelta(hours=6), timedelta(days=1)]))
        config["fair_share_per_network"] = share
        config["fair_share_until"] = None if until is None else T0 + min(until, starts_in)
    return config


# The notifications the registration rules write (reminders and feedback questions follow
# registrations too, but are another module's business and are not checked here).
RULE_MESSAGES = (
    NotificationKind.SEAT_OFFERED,
    NotificationKind.SEAT_AVAILABLE,
    NotificationKind.OFFER_EXPIRED,
    NotificationKind.PROMOTED,
    NotificationKind.REMOVED,
    NotificationKind.EVENT_CHANGED,
)


# --- what is read back after every step --------------------------------------------------------


@dataclass(frozen=True)
class Reg:
    id: int
    event_id: int
    member_id: int | None
    status: RegistrationStatus
    party_size: int
    queue_seq: int
    offer_expires_at: datetime | None
    group: str

    @property
    def holds(self) -> bool:
        return self.status in HOLDS_SEATS


@dataclass(frozen=True)
class Change:
    id: int
    registration_id: int
    from_status: RegistrationStatus | None
    to_status: RegistrationStatus
    party_size: int
    reason: str
    actor_id: int | None
    at: datetime


@dataclass(frozen=True)
class Message:
    id: int
    kind: NotificationKind
    member_id: int | None
    event_id: int | None
    registration_id: int | None


@dataclass(frozen=True)
class EventRow:
    id: int
    status: EventStatus
    capacity: int | None
    share: int | None
    share_until: datetime | None
    starts_at: datetime


@dataclass(frozen=True)
class Snapshot:
    regs: dict[int, Reg]
    changes: tuple[Change, ...]
    messages: tuple[Message, ...]
    events: dict[int, EventRow]

    @property
    def last_change_id(self) -> int:
        return max((c.id for c in self.changes), default=0)

    @property
    def last_message_id(self) -> int:
        return max((m.id for m in self.messages), default=0)

    def registration_of(self, event_id: int, member_id: int) -> Reg | None:
        for reg in self.regs.values():
            if reg.event_id == event_id and reg.member_id == member_id:
                return reg
        return None

    def of_event(self, event_id: int) -> list[Reg]:
        return sorted(
            (r for r in self.regs.values() if r.event_id == event_id), key=lambda r: r.queue_seq
        )


def group_of(network_id: int | None, affiliation: Any) -> str:
    if network_id is not None:
        return f"network:{network_id}"
    return f"affiliation:{affiliation or 'unknown'}"


async def read_snapshot(db: Database) -> Snapshot:
    async with db.read() as session:
        regs = {
            row.id: Reg(
                row.id,
                row.event_id,
                row.member_id,
                row.status,
                row.party_size,
                row.queue_seq,
                row.offer_expires_at,
                group_of(row.network_id, row.affiliation),
            )
            for row in await session.execute(
                select(
                    Registration.id,
                    Registration.event_id,
                    Registration.member_id,
                    Registration.status,
                    Registration.party_size,
                    Registration.queue_seq,
                    Registration.offer_expires_at,
                    Registration.network_id,
                    Registration.affiliation,
                )
            )
        }
        changes = tuple(
            Change(*row)
            for row in await session.execute(
                select(
                    RegistrationChange.id,
                    RegistrationChange.registration_id,
                    RegistrationChange.from_status,
                    RegistrationChange.to_status,
                    RegistrationChange.party_size,
                    RegistrationChange.reason,
                    RegistrationChange.actor_id,
                    RegistrationChange.at,
                ).order_by(RegistrationChange.id)
            )
        )
        messages = tuple(
            Message(*row)
            for row in await session.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.kind,
                    OutboxMessage.member_id,
                    OutboxMessage.event_id,
                    OutboxMessage.registration_id,
                )
                .where(OutboxMessage.kind.in_(RULE_MESSAGES))
                .order_by(OutboxMessage.id)
            )
        )
        events = {
            row.id: EventRow(*row)
            for row in await session.execute(
                select(
                    Event.id,
                    Event.status,
                    Event.capacity,
                    Event.fair_share_per_network,
                    Event.fair_share_until,
                    Event.starts_at,
                )
            )
        }
    return Snapshot(regs, changes, messages, events)


# --- the rules, as the tests understand them ---------------------------------------------------


def share_active(event: EventRow, now: datetime) -> bool:
    return event.share is not None and (event.share_until is None or now < event.share_until)


def held(regs: list[Reg], status: Callable[[Reg], RegistrationStatus | None]) -> int:
    return sum(r.party_size for r in regs if status(r) in HOLDS_SEATS)


def held_by_group(
    regs: list[Reg], status: Callable[[Reg], RegistrationStatus | None]
) -> defaultdict[str, int]:
    used: defaultdict[str, int] = defaultdict(int)
    for reg in regs:
        if status(reg) in HOLDS_SEATS:
            used[reg.group] += reg.party_size
    return used


def free_seats(event: EventRow, seats_held: int) -> float:
    return INF if event.capacity is None else event.capacity - seats_held


def first_that_fit(
    waiting: list[Reg], free: float, share: int | None, used: defaultdict[str, int]
) -> list[Reg]:
    """Who a freed seat goes to: the waitlist in order, skipping parties that do not fit."""
    chosen = []
    used = defaultdict(int, used)
    for reg in sorted(waiting, key=lambda r: r.queue_seq):
        if reg.party_size > free:
            continue
        if share is not None and used[reg.group] + reg.party_size > share:
            continue
        chosen.append(reg)
        free -= reg.party_size
        used[reg.group] += reg.party_size
        if free <= 0:
            break
    return chosen


def all_that_fit(
    waiting: list[Reg], free: float, share: int | None, used: defaultdict[str, int]
) -> list[Reg]:
    """Last call: everyone waiting who fits in the free seats hears of them."""
    return [
        r
        for r in waiting
        if r.party_size <= free and (share is None or used[r.group] + r.party_size <= share)
    ]


@dataclass
class Expected:
    """What an operation should have written, besides the offers it causes."""

    rows: dict[int, list[tuple[Any, ...]]] = field(default_factory=lambda: defaultdict(list))
    # Status of each acted-on registration after the act, before any offers.
    acted: dict[int, RegistrationStatus] = field(default_factory=dict)
    fills: set[int] = field(default_factory=set)  # events whose free seats must be handed out
    # Whether the fill is keyed by the trigger alone (last-call notices may be deduplicated).
    unique_trigger: bool = True
    messages: list[tuple[NotificationKind, int]] = field(default_factory=list)  # (kind, reg id)
    gains_may_exceed_share: bool = False  # organiser override: capacity holds, fair share not


# --- the machine -------------------------------------------------------------------------------


class Registrations(RuleBasedStateMachine):
    """Drives one database through random operations; subclasses pick the database."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp(prefix="buurtagenda-prop-"))
        self.db: Database | None = None
        self.policy = RegistrationPolicy()
        self.clock = FrozenClock(T0)
        self.members: list[int] = []
        self.organiser = 0
        self.events: list[int] = []
        self.state: Snapshot | None = None
        self.joined: dict[int, int] = {}  # registration id -> when it (re)joined, in steps
        self.steps = 0
        self.released: set[int] = set()  # events whose fair-share release sweep has run
        self.overbooked: set[int] = set()  # events whose capacity was lowered below the seats held

    # -- plumbing --

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        try:
            if self.db is not None:
                self.run(self.db.dispose())
        finally:
            self.loop.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    async def open_database(self) -> tuple[Database, list[int], int]:
        """A copy of a file with the members in it (made on first use from the test template)."""
        target = self.tmp / "test.db"
        if "sqlite_ids" not in _SCENARIO:
            database = await sqlite_database(self.tmp)  # writes ``target``
            members, organiser = await create_members(database)
            await database.dispose()
            template = TEMPLATE_DIR / "properties.db"
            template.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(target, template)
            _SCENARIO["sqlite_template"] = template
            _SCENARIO["sqlite_ids"] = [*members, organiser]
        else:
            shutil.copy(_SCENARIO["sqlite_template"], target)
        ids = _SCENARIO["sqlite_ids"]
        return Database(f"sqlite+aiosqlite:///{target}"), ids[:-1], ids[-1]

    @property
    def database(self) -> Database:
        assert self.db is not None
        return self.db

    def snapshot(self) -> Snapshot:
        return self.run(read_snapshot(self.database))

    def in_transaction(
        self, call: Callable[[AsyncSession], Awaitable[T]]
    ) -> Callable[[], Coroutine[Any, Any, T]]:
        async def go() -> T:
            async with self.database.transaction() as session:
                return await call(session)

        return go

    # -- set-up --

    @initialize(
        configs=st.lists(event_configs(), min_size=1, max_size=2),
        rush=st.lists(registrations, min_size=4, max_size=12),
    )
    def set_up(self, configs: list[dict[str, Any]], rush: list[Op]) -> None:
        """The events, and a first rush of registrations (checked like any step) to fill them."""
        self.db, self.members, self.organiser = self.run(self.open_database())
        for config in configs:
            event = self.run(make_event(self.database, self.clock(), **config))
            self.events.append(event.id)
        self.state = self.snapshot()
        for op in rush:
            self.step(op)

    # -- the steps --

    @rule(op=operations)
    def step(self, op: Op) -> None:
        # The registration acted on (a placeholder for the kinds that pick none).
        reg = Reg(0, 0, 0, S.CANCELLED, 1, 0, None, "")
        if op.kind in ACTS_ON:
            found = self.chosen(ACTS_ON[op.kind], op.pick)
            if found is None:
                return  # nothing in that status yet: this step does nothing
            reg = found
        member_id = reg.member_id or 0
        event_id = self.events[op.event % len(self.events)]
        now, policy = self.clock.advance(timedelta(seconds=1)), self.policy
        match op.kind:
            case "register" | "join_waitlist":
                member_id = self.members[op.member]
                self.act(
                    "register",
                    lambda s: (
                        ops.register(
                            s,
                            event_id=event_id,
                            member_id=member_id,
                            now=now,
                            policy=policy,
                            party_size=op.party,
                            if_full="refuse" if op.refuse else "waitlist",
                        )
                        if op.kind == "register"
                        else ops.join_waitlist(
                            s,
                            event_id=event_id,
                            member_id=member_id,
                            now=now,
                            policy=policy,
                            party_size=op.party,
                        )
                    ),
                    now,
                    event_id=event_id,
                    member_id=member_id,
                    party_size=op.party,
                )
            case "cancel" | "claim" | "last_call_claim" | "decline":
                call = {
                    "cancel": ops.cancel,
                    "claim": ops.claim_seat,
                    "last_call_claim": ops.claim_seat,
                    "decline": ops.decline_offer,
                }[op.kind]
                self.act(
                    "claim" if op.kind == "last_call_claim" else op.kind,
                    lambda s: call(
                        s, event_id=reg.event_id, member_id=member_id, now=now, policy=policy
                    ),
                    now,
                    reg=reg,
                )
            case "change_party_size":
                self.act(
                    "party",
                    lambda s: ops.change_party_size(
                        s,
                        event_id=reg.event_id,
                        member_id=member_id,
                        party_size=op.party,
                        now=now,
                        policy=policy,
                    ),
                    now,
                    reg=reg,
                    party_size=op.party,
                )
            case "time_passes":
                self.clock.advance(op.delta)
            case "last_call_begins":
                # Straight to half an hour into the event's last call (if not past that already).
                assert self.state is not None
                starts_at = self.state.events[event_id].starts_at
                moment = starts_at - self.policy.last_call + timedelta(minutes=30)
                self.clock.set(max(moment, self.clock()))
            case "expire_offers":
                self.act("expire", lambda s: ops.expire_offers(s, now=now, policy=policy), now)
            case "release_fair_share":
                self.act(
                    "release", lambda s: ops.release_fair_share(s, now=now, policy=policy), now
                )
            case "override_confirm":
                self.act(
                    "override_confirm",
                    lambda s: ops.override_confirm(
                        s, registration_id=reg.id, actor_id=self.organiser, now=now, policy=policy
                    ),
                    now,
                    reg=reg,
                )
            case "override_cancel":
                self.act(
                    "override_cancel",
                    lambda s: ops.override_cancel(
                        s,
                        registration_id=reg.id,
                        actor_id=self.organiser,
                        now=now,
                        policy=policy,
                        note="zaal is kleiner",
                    ),
                    now,
                    reg=reg,
                )
            case "change_capacity" | "change_fair_share":
                name = "capacity" if op.kind == "change_capacity" else "fair_share_per_network"
                changes = {name: op.value}
                self.act(
                    "update_event",
                    lambda s: update_event(
                        s,
                        event_id=event_id,
                        actor_id=self.organiser,
                        changes=changes,
                        now=now,
                        policy=policy,
                    ),
                    now,
                    event_id=event_id,
                    changes=changes,
                )
            case _:
                raise AssertionError(op.kind)

    def chosen(self, statuses: Sequence[RegistrationStatus], pick: int) -> Reg | None:
        """One of the registrations in ``statuses`` (a status listed twice weighs double)."""
        assert self.state is not None
        regs = [
            r
            for status in statuses
            for r in sorted(self.state.regs.values(), key=lambda r: r.id)
            if r.status is status
        ]
        return regs[pick % len(regs)] if regs else None

    # -- one step: act, read back, check --

    def act(
        self,
        kind: str,
        call: Callable[[AsyncSession], Awaitable[Any]],
        now: datetime,
        *,
        event_id: int | None = None,
        member_id: int | None = None,
        reg: Reg | None = None,
        party_size: int | None = None,
        changes: dict[str, Any] | None = None,
    ) -> None:
        if reg is not None:
            event_id, member_id = reg.event_id, reg.member_id
        before = self.state
        assert before is not None
        self.steps += 1
        try:
            result = self.run(self.in_transaction(call)())
        except DomainError:
            after = self.snapshot()
            assert after == before, f"{kind}: a refusal changed something"
            return
        after = self.snapshot()
        step = StepCheck(self, kind, before, after, now, event_id, member_id, party_size, changes)
        step.check(result)
        self.state = after
        if kind == "release":
            self.released |= {
                e.id
                for e in after.events.values()
                if e.share_until is not None and e.share_until <= now
            }
        check_invariants(self, after, now)


class StepCheck:
    """Compares the state after one successful operation with the state before it."""

    def __init__(
        self,
        machine: Registrations,
        kind: str,
        before: Snapshot,
        after: Snapshot,
        now: datetime,
        event_id: int | None,
        member_id: int | None,
        party_size: int | None,
        changes: dict[str, Any] | None,
    ) -> None:
        self.machine = machine
        self.kind = kind
        self.before = before
        self.after = after
        self.now = now
        self.event_id = event_id
        self.member_id = member_id
        self.party_size = party_size
        self.changes = changes or {}

    def check(self, result: Any) -> None:
        before, after = self.before, self.after
        assert set(before.regs) <= set(after.regs), "a registration disappeared"
        new = set(after.regs) - set(before.regs)
        assert len(new) <= (1 if self.kind == "register" else 0), f"{self.kind} created {new}"
        expected = getattr(self, f"expect_{self.kind}")()
        self.check_history_and_offers(expected)
        self.check_notifications(expected, result)
        self.check_seats_given(expected)

    # What each operation should do to the registration it acts on.

    def target(self) -> tuple[Reg | None, Reg]:
        assert self.event_id is not None and self.member_id is not None
        reg = self.after.registration_of(self.event_id, self.member_id)
        assert reg is not None, f"{self.kind}: no registration after success"
        return self.before.regs.get(reg.id), reg

    def row(
        self, old: Reg | None, new: Reg, to: RegistrationStatus, reason: str
    ) -> tuple[Any, ...]:
        actor = self.machine.organiser if self.kind.startswith("override") else self.member_id
        return (old.status if old else None, to, new.party_size, reason, actor, self.now)

    def expect_register(self) -> Expected:
        expected = Expected()
        old, reg = self.target()
        if old is not None and old.status is not S.CANCELLED:
            assert reg == old, "registering twice changed something"
            return expected
        event = self.before.events[reg.event_id]
        others = [r for r in self.before.of_event(reg.event_id) if r.id != reg.id]
        seats = held(others, lambda r: r.status)
        waiting = [r for r in others if r.status is S.WAITLISTED]
        if (
            event.share is not None
            and event.share_until is not None
            and self.now >= event.share_until
            and waiting
            and free_seats(event, seats) > 0
            and not self.machine.policy.is_last_call(self.now, event.starts_at)
        ):
            # The release moment passed before its sweep ran: those waiting get the seats first.
            expected.fills.add(reg.event_id)
            released = first_that_fit(
                waiting, free_seats(event, seats), None, held_by_group(others, lambda r: r.status)
            )
            seats += sum(r.party_size for r in released)
        fits = event.capacity is None or seats + reg.party_size <= event.capacity
        within = not share_active(event, self.now) or (
            held_by_group(others, lambda r: r.status)[reg.group] + reg.party_size
            <= (event.share or 0)
        )
        assert reg.party_size == self.party_size
        if fits and within:
            status, reason = S.CONFIRMED, "registered"
        else:
            status, reason = S.WAITLISTED, "waitlisted_fair_share" if fits else "waitlisted"
        assert reg.status is status, f"register gave {reg.status}, rules say {status}"
        assert reg.queue_seq > max((r.queue_seq for r in others), default=0), "not at the back"
        self.machine.joined[reg.id] = self.machine.steps
        expected.rows[reg.id].append(self.row(old, reg, status, reason))
        expected.acted[reg.id] = status
        return expected

    def expect_cancel(self) -> Expected:
        expected = Expected()
        old, reg = self.target()
        assert old is not None and old.status in (S.CONFIRMED, S.WAITLISTED, S.OFFERED)
        expected.rows[reg.id].append(self.row(old, reg, S.CANCELLED, "cancelled"))
        expected.acted[reg.id] = S.CANCELLED
        if old.holds:
            expected.fills.add(reg.event_id)
        return expected

    def expect_claim(self) -> Expected:
        expected = Expected()
        old, reg = self.target()
        assert old is not None
        if old.status is S.CONFIRMED:
            return expected
        event = self.before.events[reg.event_id]
        if old.status is S.OFFERED:
            assert old.offer_expires_at is not None and self.now <= old.offer_expires_at
        else:
            assert old.status is S.WAITLISTED, f"claimed from {old.status}"
            assert self.machine.policy.is_last_call(self.now, event.starts_at)
        expected.rows[reg.id].append(self.row(old, reg, S.CONFIRMED, "claimed"))
        expected.acted[reg.id] = S.CONFIRMED
        return expected

    def expect_decline(self) -> Expected:
        expected = Expected()
        old, reg = self.target()
        assert old is not None and old.status is S.OFFERED
        expected.rows[reg.id].append(self.row(old, reg, S.CANCELLED, "declined"))
        expected.acted[reg.id] = S.CANCELLED
        expected.fills.add(reg.event_id)
        return expected

    def expect_party(self) -> Expected:
        expected = Expected()
        old, reg = self.target()
        assert old is not None and old.status in (S.CONFIRMED, S.WAITLISTED, S.OFFERED)
        if old.party_size == self.party_size:
            assert reg == old
            return expected
        assert reg.party_size == self.party_size
        expected.rows[reg.id].append(self.row(old, reg, old.status, "party_size"))
        expected.acted[reg.id] = old.status
        if reg.party_size < old.party_size:
            # Fewer people: seats or a better fit for the waitlist, which must move up.
            expected.fills.add(reg.event_id)
        return expected

    def expect_override_confirm(self) -> Expected:
        expected = Expected(gains_may_exceed_share=True)
        old, reg = self.target()
        assert old is not None
        if old.status in (S.CONFIRMED, S.ATTENDED):
            return expected
        expected.rows[reg.id].append(self.row(old, reg, S.CONFIRMED, "organiser_confirm"))
        expected.acted[reg.id] = S.CONFIRMED
        expected.messages.append((NotificationKind.PROMOTED, reg.id))
        return expected

    def expect_override_cancel(self) -> Expected:
        expected = Expected()
        old, reg = self.target()
        assert old is not None
        if old.status not in (S.CONFIRMED, S.WAITLISTED, S.OFFERED):
            return expected
        expected.rows[reg.id].append(self.row(old, reg, S.CANCELLED, "organiser_cancel"))
        expected.acted[reg.id] = S.CANCELLED
        expected.messages.append((NotificationKind.REMOVED, reg.id))
        if old.holds:
            expected.fills.add(reg.event_id)
        return expected

    def expect_expire(self) -> Expected:
        expected = Expected(unique_trigger=False)
        for old in self.before.regs.values():
            if old.status is S.OFFERED:
                assert old.offer_expires_at is not None
                if old.offer_expires_at < self.now:
                    row = (S.OFFERED, S.CANCELLED, old.party_size, "offer_expired", None, self.now)
                    expected.rows[old.id].append(row)
                    expected.acted[old.id] = S.CANCELLED
                    expected.messages.append((NotificationKind.OFFER_EXPIRED, old.id))
                    expected.fills.add(old.event_id)
        return expected

    def expect_release(self) -> Expected:
        expected = Expected(unique_trigger=False)
        for event in self.before.events.values():
            if (
                event.status is EventStatus.PUBLISHED
                and event.share_until is not None
                and event.share_until <= self.now < event.starts_at
                and any(r.status is S.WAITLISTED for r in self.before.of_event(event.id))
            ):
                expected.fills.add(event.id)
        return expected

    def expect_update_event(self) -> Expected:
        expected = Expected()
        assert self.event_id is not None
        old, new = self.before.events[self.event_id], self.after.events[self.event_id]
        for name, value in self.changes.items():
            attribute = {"capacity": "capacity", "fair_share_per_network": "share"}[name]
            assert getattr(new, attribute) == value
            if getattr(old, attribute) != value:
                expected.fills.add(self.event_id)
        seats = held(self.before.of_event(self.event_id), lambda r: r.status)
        if new.capacity is not None and new.capacity < seats:
            # Allowed by update_event (people keep their seats); nobody gets a seat until the
            # seats held are below the new capacity again (checked in check_seats_given).
            self.machine.overbooked.add(self.event_id)
        return expected

    # The checks.

    def pre_offer_status(self, expected: Expected, reg: Reg) -> RegistrationStatus:
        """The status after the act itself, before the waitlist moved up."""
        if reg.id in expected.acted:
            return expected.acted[reg.id]
        return self.before.regs[reg.id].status

    def check_history_and_offers(self, expected: Expected) -> None:
        before, after, now = self.before, self.after, self.now
        offered = {
            r.id
            for r in after.regs.values()
            if r.status is S.OFFERED and self.pre_offer_status(expected, r) is S.WAITLISTED
        }
        for event_id, event in after.events.items():
            regs = after.of_event(event_id)
            status_of = functools.partial(self.pre_offer_status, expected)
            waiting = [r for r in regs if status_of(r) is S.WAITLISTED]
            got = {r.id for r in regs if r.id in offered}
            should_fill = (
                event_id in expected.fills
                and event.status is EventStatus.PUBLISHED
                and now < event.starts_at
            )
            free = free_seats(event, held(regs, status_of))
            share = event.share if share_active(event, now) else None
            used = held_by_group(regs, status_of)
            last_call = self.machine.policy.is_last_call(now, event.starts_at)
            if not should_fill or last_call or free <= 0:
                assert not got, f"{self.kind}: offers to {got} were not due"
            else:
                want = {r.id for r in first_that_fit(waiting, free, share, used)}
                assert got == want, f"{self.kind}: seats offered to {got}, the rules say {want}"
            for reg_id in got:
                reg = after.regs[reg_id]
                deadline = self.machine.policy.offer_deadline(now, event.starts_at)
                assert reg.offer_expires_at == deadline
                expected.rows[reg_id].append(
                    (S.WAITLISTED, S.OFFERED, reg.party_size, "offered", None, now)
                )
                expected.messages.append((NotificationKind.SEAT_OFFERED, reg_id))
            if should_fill and last_call and free > 0:
                self.last_call_notices(expected, event_id, waiting, free, share, used)
        new_rows: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for change in after.changes:
            if change.id > before.last_change_id:
                new_rows[change.registration_id].append(
                    (
                        change.from_status,
                        change.to_status,
                        change.party_size,
                        change.reason,
                        change.actor_id,
                        change.at,
                    )
                )
        assert dict(new_rows) == {k: v for k, v in expected.rows.items() if v}, (
            f"{self.kind}: history rows differ from what the operation did"
        )
        # Whatever changed has a history row; whatever has none did not change.
        for reg in after.regs.values():
            old = before.regs.get(reg.id)
            if reg.id not in new_rows:
                assert old == reg, f"{self.kind}: {reg.id} changed without a history row"

    def last_call_notices(
        self,
        expected: Expected,
        event_id: int,
        waiting: list[Reg],
        free: float,
        share: int | None,
        used: defaultdict[str, int],
    ) -> None:
        """In the last call everyone waiting who fits hears of the seat (nobody gets an offer)."""
        fit = {r.id for r in all_that_fit(waiting, free, share, used)}
        told = {
            m.registration_id
            for m in self.after.messages
            if m.id > self.before.last_message_id
            and m.kind is NotificationKind.SEAT_AVAILABLE
            and m.event_id == event_id
        }
        if expected.unique_trigger:
            assert told == fit, f"last call told {told}, should tell {fit}"
        else:  # a repeated sweep does not tell the same people twice
            assert told <= fit, f"last call told {told}, should tell at most {fit}"
        expected.messages += [(NotificationKind.SEAT_AVAILABLE, r) for r in told if r is not None]

    def check_notifications(self, expected: Expected, result: Any) -> None:
        written = [m for m in self.after.messages if m.id > self.before.last_message_id]
        got = sorted((m.kind.value, m.registration_id or 0) for m in written)
        want = sorted((kind.value, reg_id) for kind, reg_id in expected.messages)
        assert got == want, f"{self.kind}: notifications {got}, expected {want}"
        for message in written:
            assert message.registration_id is not None
            reg = self.after.regs[message.registration_id]
            assert message.member_id == reg.member_id and message.event_id == reg.event_id
        if isinstance(result, ops.Outcome):
            returned = result.notifications
        elif isinstance(result, tuple):
            returned = result[1]
        else:
            returned = result
        returned = [m for m in returned if m.kind in RULE_MESSAGES]
        assert sorted(m.id for m in returned) == sorted(m.id for m in written), (
            f"{self.kind}: returned notifications differ from those written"
        )
        if isinstance(result, ops.Outcome) and self.kind == "register":
            reg = self.after.regs[result.registration.id]
            ahead = [
                r
                for r in self.after.of_event(reg.event_id)
                if r.status is S.WAITLISTED and r.queue_seq < reg.queue_seq
            ]
            position = len(ahead) + 1 if reg.status is S.WAITLISTED else None
            assert result.waitlist_position == position

    def check_seats_given(self, expected: Expected) -> None:
        """Nobody gains a seat where capacity (or, before its release, fair share) is full."""
        for event_id, event in self.after.events.items():
            regs = self.after.of_event(event_id)
            gained: defaultdict[str, int] = defaultdict(int)
            for reg in regs:
                old = self.before.regs.get(reg.id)
                was = old.party_size if old is not None and old.holds else 0
                now_held = reg.party_size if reg.holds else 0
                if now_held > was:
                    gained[reg.group] += now_held - was
            if not gained:
                continue
            seats = held(regs, lambda r: r.status)
            if event.capacity is not None:
                assert seats <= event.capacity, f"{self.kind}: seat given over capacity"
            if share_active(event, self.now) and not expected.gains_may_exceed_share:
                used = held_by_group(regs, lambda r: r.status)
                for group in gained:
                    assert used[group] <= (event.share or 0), f"{self.kind}: over fair share"


def check_invariants(machine: Registrations, state: Snapshot, now: datetime) -> None:
    """What holds after every step, whatever the step was."""
    history: defaultdict[int, list[Change]] = defaultdict(list)
    for change in state.changes:
        history[change.registration_id].append(change)
    for reg in state.regs.values():
        chain = history[reg.id]
        assert chain, f"registration {reg.id} without history"
        assert chain[0].from_status is None
        for earlier, later in itertools.pairwise(chain):
            assert later.from_status is earlier.to_status, f"broken history of {reg.id}"
        assert chain[-1].to_status is reg.status and chain[-1].party_size == reg.party_size
        assert (reg.offer_expires_at is not None) == (reg.status is S.OFFERED)
    assert set(history) <= set(state.regs)
    for event_id, event in state.events.items():
        regs = state.of_event(event_id)
        # First come, first served: queue_seq follows the order of (re)joining.
        by_arrival = sorted(regs, key=lambda r: machine.joined[r.id])
        assert [r.queue_seq for r in by_arrival] == sorted(r.queue_seq for r in regs)
        assert len({r.queue_seq for r in regs}) == len(regs)
        seats = held(regs, lambda r: r.status)
        if event.capacity is None or seats <= event.capacity:
            machine.overbooked.discard(event_id)
        else:
            assert event_id in machine.overbooked, f"event {event_id} over capacity"
        # No seat stays empty while someone waiting fits (the last call excepted: then the seat
        # is for whoever claims it first). Until the release sweep has run, fair share counts.
        if (
            event.status is not EventStatus.PUBLISHED
            or now >= event.starts_at
            or machine.policy.is_last_call(now, event.starts_at)
        ):
            continue
        counts = share_active(event, now) or (
            event.share is not None and event_id not in machine.released
        )
        waiting = [r for r in regs if r.status is S.WAITLISTED]
        fit = all_that_fit(
            waiting,
            free_seats(event, seats),
            event.share if counts else None,
            held_by_group(regs, lambda r: r.status),
        )
        assert not fit, f"seats left empty while {[r.id for r in fit]} wait and fit"


async def create_members(database: Database) -> tuple[list[int], int]:
    members = [(await make_member(database, name=n, network=net)).id for n, net in MEMBERS]
    organiser = await make_member(database, name="Org", network=None, role=Role.ORGANISER)
    return members, organiser.id


_SCENARIO: dict[str, Any] = {}


class PostgresRegistrations(Registrations):
    async def open_database(self) -> tuple[Database, list[int], int]:
        database = await postgres_database()
        members, organiser = await create_members(database)
        return database, members, organiser


# Shrinking a failing sequence replays it hundreds of times against a database (up to
# hypothesis's five minutes): opt in locally with BUURTAGENDA_PROPERTY_SHRINK=1. Without it a
# failure prints the steps as generated, and a blob for ``@reproduce_failure``.
PHASES = (
    tuple(Phase)
    if os.environ.get("BUURTAGENDA_PROPERTY_SHRINK")
    else (Phase.explicit, Phase.reuse, Phase.generate)
)
COMMON: dict[str, Any] = {
    "deadline": None,
    "stateful_step_count": STEPS,
    "derandomize": True,
    "phases": PHASES,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
    "print_blob": True,
}

TestRegistrationsSQLite = Registrations.TestCase
TestRegistrationsSQLite.settings = settings(max_examples=SQLITE_EXAMPLES, **COMMON)

TestRegistrationsPostgres = PostgresRegistrations.TestCase
TestRegistrationsPostgres.settings = settings(max_examples=POSTGRES_EXAMPLES, **COMMON)
TestRegistrationsPostgres = pytest.mark.postgres(
    pytest.mark.skipif(not POSTGRES_URL, reason=SKIP_POSTGRES)(TestRegistrationsPostgres)
)


# --- what the machine found, as plain examples (both fixed in registrations/operations.py) ------


async def test_a_waitlisted_party_that_gets_smaller_fills_the_free_seat(
    db: Database, clock: FrozenClock, policy: RegistrationPolicy
) -> None:
    """Two seats, one taken; a pair waits. When the pair becomes one, the free seat is theirs."""
    event = await make_event(db, clock(), capacity=2)
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    async with db.transaction() as session:
        await ops.register(session, event_id=event.id, member_id=a.id, now=clock(), policy=policy)
    async with db.transaction() as session:
        pair = await ops.register(
            session, event_id=event.id, member_id=b.id, now=clock(), policy=policy, party_size=2
        )
    assert pair.registration.status is S.WAITLISTED
    async with db.transaction() as session:
        outcome = await ops.change_party_size(
            session, event_id=event.id, member_id=b.id, party_size=1, now=clock(), policy=policy
        )
    assert outcome.registration.status is S.OFFERED
    assert [n.kind for n in outcome.notifications] == [NotificationKind.SEAT_OFFERED]


async def test_fair_share_waitlist_moves_up_on_an_event_without_a_limit(
    db: Database, clock: FrozenClock, policy: RegistrationPolicy
) -> None:
    """No capacity, one seat per network until the release: a freed share seat, and the release
    itself, go to the waitlist (they used to be skipped: "no capacity, no free seats")."""
    event = await make_event(
        db,
        clock(),
        capacity=None,
        fair_share_per_network=1,
        fair_share_until=clock() + timedelta(days=7),
    )
    w1, w2, w3 = [await make_member(db, name=f"W{i}", network="wyck") for i in range(3)]
    statuses = []
    for member in (w1, w2, w3):
        async with db.transaction() as session:
            outcome = await ops.register(
                session, event_id=event.id, member_id=member.id, now=clock(), policy=policy
            )
        statuses.append(outcome.registration.status)
    assert statuses == [S.CONFIRMED, S.WAITLISTED, S.WAITLISTED]
    async with db.transaction() as session:
        outcome = await ops.cancel(
            session, event_id=event.id, member_id=w1.id, now=clock(), policy=policy
        )
    assert [n.member_id for n in outcome.notifications] == [w2.id]
    clock.advance(timedelta(days=7))
    async with db.transaction() as session:
        written = await ops.release_fair_share(session, now=clock(), policy=policy)
    assert [n.member_id for n in written] == [w3.id]


async def test_lifting_the_capacity_lets_the_waitlist_in(
    db: Database, clock: FrozenClock, policy: RegistrationPolicy
) -> None:
    event = await make_event(db, clock(), capacity=1)
    organiser = await make_member(db, name="Org", network=None, role=Role.ORGANISER)
    a, b = await make_member(db, name="A"), await make_member(db, name="B")
    for member in (a, b):
        async with db.transaction() as session:
            await ops.register(
                session, event_id=event.id, member_id=member.id, now=clock(), policy=policy
            )
    async with db.transaction() as session:
        _, written = await update_event(
            session,
            event_id=event.id,
            actor_id=organiser.id,
            changes={"capacity": None},
            now=clock(),
            policy=policy,
        )
    assert [(n.kind, n.member_id) for n in written] == [(NotificationKind.SEAT_OFFERED, b.id)]


async def test_a_second_offer_at_the_same_moment_is_told_too(
    db: Database, clock: FrozenClock, policy: RegistrationPolicy
) -> None:
    """Offered, declined, back on the waitlist and offered again, all at one frozen moment: the
    second offer has its own notification (the key used to collide with the first one's)."""
    event = await make_event(db, clock(), capacity=1)
    a, b, c = [await make_member(db, name=n) for n in "ABC"]

    async def run(operation: Callable[..., Awaitable[ops.Outcome]], member: Any) -> ops.Outcome:
        async with db.transaction() as session:
            return await operation(
                session, event_id=event.id, member_id=member.id, now=clock(), policy=policy
            )

    await run(ops.register, a)
    await run(ops.register, b)
    first = await run(ops.cancel, a)  # B is offered the seat
    await run(ops.decline_offer, b)
    await run(ops.register, c)  # C takes the free seat
    await run(ops.register, b)  # B waits again
    second = await run(ops.cancel, c)  # and is offered the seat again, at the same moment
    for outcome in (first, second):
        assert [(n.kind, n.member_id) for n in outcome.notifications] == [
            (NotificationKind.SEAT_OFFERED, b.id)
        ]
