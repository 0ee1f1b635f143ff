"""A broadcast world: our Application (with its rate limiter) and the outbox dispatcher on one
SQLite file, talking to the emulator over real HTTP at Telegram's limits, ``SCALE`` times as fast;
the bot's send rates are scaled by the same factor, so the ratio is Telegram's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.app import build_application
from bot.callbacks import CallbackSigner
from bot.context import BotDeps
from bot.handlers.broadcasts import PROGRESS_KEY, BroadcastProgress
from bot.notifications import TelegramDelivery
from bot.ratelimit import SendRates
from emulator import Limits, Person, TelegramEmulator, serve
from emulator.testing import polling
from models.broadcasts import operations as ops
from models.clock import FrozenClock
from models.db import Database
from models.members.entities import Affiliation, Member, Role
from models.members.operations import ensure_member, set_affiliation
from models.registrations.policy import RegistrationPolicy
from scheduler.dispatcher import Dispatcher, DispatcherSettings

# The emulator's limits and our rates, both this many times Telegram's, so tests are short.
# ``@pytest.mark.parametrize("bw", [2], indirect=True)`` for a slower world: one this machine can
# keep up with at the configured rate, so the rate limiter (not the CPU) is what holds it.
SCALE = 10


@dataclass
class BroadcastWorld:
    emulator: TelegramEmulator
    db: Database
    clock: FrozenClock
    application: Any
    deps: BotDeps
    delivery: TelegramDelivery
    progress: BroadcastProgress
    scale: float = SCALE

    def dispatcher(self, **settings: Any) -> Dispatcher:
        options: dict[str, Any] = {"rate_per_s": 25.0 * self.scale, "max_in_flight": 4}
        options.update(settings)
        return Dispatcher(
            self.db, self.delivery, self.clock, settings=DispatcherSettings(**options)
        )

    async def members(self, count: int, prefix: str = "Lid") -> list[Person]:
        """``count`` people who started the bot, each a member (in no network)."""
        people = [self.emulator.user(f"{prefix} {n}") for n in range(count)]
        async with self.db.transaction() as session:
            for person in people:
                member, _ = await ensure_member(
                    session, telegram_id=person.id, display_name=person.user.first_name
                )
                await set_affiliation(session, member_id=member.id, affiliation=Affiliation.BEWONER)
        return people

    async def organiser(self, name: str = "Olga") -> tuple[Person, int]:
        [person] = await self.members(1, name)
        async with self.db.transaction() as session:
            await session.execute(
                update(Member).where(Member.telegram_id == person.id).values(role=Role.ORGANISER)
            )
            member_id = await session.scalar(
                select(Member.id).where(Member.telegram_id == person.id)
            )
        assert member_id is not None
        return person, int(member_id)

    async def broadcast(
        self,
        actor_id: int,
        html: str = "Hallo <b>allemaal</b>!",
        audience: dict[str, Any] | None = None,
        **confirm: Any,
    ) -> int:
        """A confirmed broadcast (to everyone unless told otherwise)."""
        async with self.db.transaction() as session:
            broadcast = await ops.create_broadcast(
                session,
                actor_id=actor_id,
                html=html,
                audience=audience or {"kind": "everyone"},
                attachment=confirm.pop("attachment", None),
                now=self.clock(),
            )
            await ops.confirm_broadcast(
                session, actor_id=actor_id, broadcast_id=broadcast.id, now=self.clock(), **confirm
            )
        return broadcast.id

    async def report(self, broadcast_id: int) -> ops.BroadcastReport:
        async with self.db.read() as session:
            return await ops.broadcast_report(session, broadcast_id)


@pytest.fixture
async def bw(
    request: pytest.FixtureRequest, sqlite_db: Database, clock: FrozenClock
) -> AsyncIterator[BroadcastWorld]:
    scale = float(getattr(request, "param", SCALE))
    emulator = TelegramEmulator(limits=Limits(whole_second_retry_after=False).scaled(scale))
    async with serve(emulator) as url:
        deps = BotDeps(
            database=sqlite_db,
            clock=clock,
            policy=RegistrationPolicy(),
            signer=CallbackSigner(emulator.token),
        )
        application = build_application(
            deps, token=emulator.token, base_url=url, rates=SendRates().scaled(scale)
        )
        async with polling(application, poll_timeout=1):
            progress = BroadcastProgress(sqlite_db, application.bot, deps.signer, clock)
            application.bot_data[PROGRESS_KEY] = progress
            delivery = TelegramDelivery(application.bot, deps.signer)
            yield BroadcastWorld(
                emulator, sqlite_db, clock, application, deps, delivery, progress, scale
            )
