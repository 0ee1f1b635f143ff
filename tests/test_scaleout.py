"""Several real `buurtagenda run` processes in webhook mode on one PostgreSQL database, behind a
round-robin proxy (tests/roundrobin.py, as Caddy in deploy/), with the Bot API emulator as
Telegram at Telegram's limits: every update is answered once whichever instance gets it (and
however often it is delivered); a dialog whose steps land on different instances completes; a
member's change made through one instance is seen by the other; and a `kill -9` of the leader
while 1,000 outbox rows are due loses nothing, repeats at most the messages in flight, and never
makes the token send more than Telegram allows.

Three simultaneous starts and the failover of polling are in tests/test_instances.py; the
webhook itself on one instance in tests/test_webhook.py.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from emulator import Limits, TelegramEmulator, serve
from emulator.people import Person
from emulator.state import Message
from models.broadcasts import operations as broadcasts
from models.db import Database
from models.ideas.entities import Idea
from models.inbox.entities import InboundUpdate
from models.members.entities import Affiliation, Member, Role
from models.networks.entities import Network
from models.outbox.entities import DeliveryStatus, OutboxMessage
from scheduler.dispatcher import DispatcherSettings
from tests.bot.conftest import press
from tests.factories import make_event
from tests.roundrobin import RoundRobinProxy, round_robin_proxy
from tests.service_process import ServiceProcess
from tests.test_instances import FAILOVER_BOUND_S, WITHIN_S, empty_postgres_database, the_leader

TOKEN = "7000005:AAScaleOutTestTokenForTheEmulator0000"
SECRET = "scaleout_Webhook-secret-14"
PATH = "/telegram/updates"
# Telegram: about 30 messages a second for the whole token (emulator/limits.py).
TELEGRAM_PER_S = 30
# How soon a change on one instance must be seen on another (issue #14).
SEEN_WITHIN_S = 1.0
REPLY_S = 30.0  # how long a reply may take on a busy machine: a bound, not a measure


@dataclass
class Cluster:
    emulator: TelegramEmulator
    proxy: RoundRobinProxy
    services: list[ServiceProcess]
    database: Database  # the test's own connection to the instances' database

    async def leader(self, within_s: float = WITHIN_S) -> ServiceProcess:
        return await the_leader(self.services, within_s=within_s)

    async def all_handled(self, updates: int) -> None:
        """Until ``updates`` updates are stored and every one of them handled (and marked):
        nothing more can come of them."""
        async with asyncio.timeout(WITHIN_S):
            while True:  # polled: the instances mark them in the database
                async with self.database.read() as session:
                    stored = await session.scalar(select(func.count(InboundUpdate.update_id)))
                    waiting = await session.scalar(
                        select(func.count(InboundUpdate.update_id)).where(
                            InboundUpdate.processed_at.is_(None)
                        )
                    )
                if stored == updates and waiting == 0:
                    return
                assert stored is not None and stored <= updates
                await asyncio.sleep(0.1)


@asynccontextmanager
async def scaled_out(
    tmp_path: Path, emulator: TelegramEmulator, instances: int = 2
) -> AsyncIterator[Cluster]:
    """``instances`` processes in webhook mode behind the proxy, on an empty database of their
    own; the leader has set the webhook (to the proxy) when this yields."""
    async with empty_postgres_database() as database_url, serve(emulator) as api_url:
        env = {
            "BUURTAGENDA_TELEGRAM_TOKEN": emulator.token,
            "BUURTAGENDA_TELEGRAM_API_BASE_URL": api_url,
            "BUURTAGENDA_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "BUURTAGENDA_DATABASE_URL": database_url,
        }
        services = [ServiceProcess(tmp_path, env) for _ in range(instances)]
        async with round_robin_proxy([service.url for service in services]) as proxy:
            for service in services:
                service.env["BUURTAGENDA_TELEGRAM_WEBHOOK_URL"] = f"{proxy.url}{PATH}"
            database = Database(database_url)
            try:
                await asyncio.gather(*(service.start() for service in services))
                for service in services:
                    await service.wait_for_line("Buurtagenda is running", within_s=WITHIN_S)
                cluster = Cluster(emulator, proxy, services, database)
                leader = await cluster.leader()
                await leader.wait_for_line("receives updates at", within_s=WITHIN_S)
                yield cluster
            finally:
                for service in services:
                    service.kill()
                for service in services:
                    await service.wait()
                await database.dispose()
    for service in services:
        assert "Traceback" not in service.output, service.output
        assert SECRET not in service.output


async def members(
    database: Database, people: Sequence[Person], role: Role = Role.MEMBER
) -> list[int]:
    """``people`` as members of Wyck (bulk, as an import would; organisers: of the gemeente);
    their member ids."""
    now = datetime.now(UTC)
    async with database.transaction() as session:
        wyck = await session.scalar(select(Network.id).where(Network.slug == "wyck"))
        member = role is Role.MEMBER
        rows: list[dict[str, Any]] = [
            {
                "telegram_id": person.id,
                "display_name": person.user.first_name,
                "affiliation": Affiliation.BUURTNETWERK if member else Affiliation.GEMEENTE,
                "network_id": wyck if member else None,
                "role": role,
                "created_at": now,
                "updated_at": now,
            }
            for person in people
        ]
        ids = await session.scalars(insert(Member).returning(Member.id), rows)
        return list(ids)


def answered_by(proxy: RoundRobinProxy, update_ids: Sequence[int | None]) -> set[int]:
    """The instances that took (200) these updates."""
    return {d.upstream for d in proxy.deliveries if d.update_id in update_ids and d.status == 200}


@pytest.mark.postgres
async def test_every_update_is_answered_once_whichever_instance_gets_it(tmp_path: Path) -> None:
    emulator = TelegramEmulator(token=TOKEN, limits=Limits())
    people = [emulator.user(f"Buur {n}", language_code="nl") for n in range(10)]
    async with scaled_out(tmp_path, emulator) as cluster:
        await members(cluster.database, people)
        now = datetime.now(UTC)
        for n in range(3):
            await make_event(cluster.database, now, title=f"Masterclass {n}: de buurt aan zet")
        pressed: list[Message] = []
        update_ids: list[int | None] = []

        async def agenda_and_card(person: Person, event: int) -> None:
            sent = person.send("/agenda")
            agenda = await sent.reply(timeout=REPLY_S)
            tap = press(person, agenda, f"Masterclass {event}")
            card = await tap.edit(timeout=REPLY_S)
            assert "de buurt aan zet" in card.content
            await tap.answer(timeout=REPLY_S)
            pressed.append(card)
            update_ids.extend([sent.update_id, tap.update_id])

        for round_ in range(2):
            # Some of the instances' 200s get lost on the way: Telegram delivers those updates
            # again, and the proxy sends each to the other instance this time.
            emulator.faults.lose_webhook_answers(3)
            await asyncio.gather(
                *(agenda_and_card(person, (n + round_) % 3) for n, person in enumerate(people))
            )
        await cluster.all_handled(updates=len(update_ids))

        # Once each: two /agenda, two taps per member, and nothing more.
        for person in people:
            assert len(person.chat.bot_messages()) == 2, [m.content[:30] for m in person.messages]
            assert len(person.callback_answers) == 2
        assert [card.edit_count for card in pressed] == [1] * len(pressed)
        assert emulator.stats.webhook_failures == 6
        redelivered = [u for u in update_ids if len(set(cluster.proxy.where(u or 0))) > 1]
        assert redelivered, cluster.proxy.deliveries  # the same update at both instances
        assert answered_by(cluster.proxy, update_ids) == {0, 1}
        assert emulator.stats.too_many_requests == 0


@pytest.mark.postgres
async def test_a_dialog_whose_steps_land_on_different_instances_completes(
    tmp_path: Path,
) -> None:
    emulator = TelegramEmulator(token=TOKEN, limits=Limits())
    anna = emulator.user("Anna", language_code="nl")
    async with scaled_out(tmp_path, emulator) as cluster:
        [anna_id] = await members(cluster.database, [anna])
        steps: list[int | None] = []

        async def ask(text: str) -> Message:
            sent = anna.send(text)
            steps.append(sent.update_id)
            return await sent.reply(timeout=REPLY_S)

        async def tap(message: Message, label: str) -> Message:
            pressing = press(anna, message, label)
            steps.append(pressing.update_id)
            return await pressing.edit(timeout=REPLY_S)

        menu = await ask("/idee")
        kinds = await tap(menu, "Nieuw idee")
        prompt = await tap(kinds, "masterclass")
        assert "Typ de titel" in prompt.content
        too_short = await ask("ab")  # refused, and the question stays open
        assert "minstens 3 tekens" in too_short.content
        ask_more = await ask("Burgerbegroting in de praktijk")
        assert "Mooi: Burgerbegroting in de praktijk" in ask_more.content
        done = await ask("Hoe beslissen bewoners mee over het geld voor hun buurt?")
        assert "Je idee „Burgerbegroting in de praktijk” staat erbij" in done.content
        after = await ask("Nog een bericht")  # the dialog is over, on every instance
        assert "Ik begrijp niet goed" in after.content
        await cluster.all_handled(updates=len(steps))

        # Every step went to the other instance than the one before.
        where = [cluster.proxy.where(update_id or 0) for update_id in steps]
        assert all(len(w) == 1 for w in where), where
        assert [w[0] for w in where] == [n % 2 for n in range(len(steps))]
        async with cluster.database.read() as session:
            ideas = (await session.scalars(select(Idea))).all()
        assert [(i.proposer_id, i.title, i.description) for i in ideas] == [
            (
                anna_id,
                "Burgerbegroting in de praktijk",
                "Hoe beslissen bewoners mee over het geld voor hun buurt?",
            )
        ]
        assert len(anna.chat.bot_messages()) == 5  # one reply to each typed message


@pytest.mark.postgres
async def test_a_language_changed_through_one_instance_is_seen_on_the_other(
    tmp_path: Path,
) -> None:
    emulator = TelegramEmulator(token=TOKEN, limits=Limits())
    anna = emulator.user("Anna", language_code="nl")
    async with scaled_out(tmp_path, emulator) as cluster:
        await members(cluster.database, [anna])
        # The second instance reads Anna, and keeps her (bot/context.py RecentMembers).
        cluster.proxy.pin(1)
        settings = await anna.send("/instellingen").reply(timeout=REPLY_S)
        assert "Taal: Nederlands" in settings.content
        # Through the first, she switches to English.
        cluster.proxy.pin(0)
        switched = await press(anna, settings, "English").edit(timeout=REPLY_S)
        assert "Language: English" in switched.content
        changed_at = time.monotonic()
        # The second one has heard of it (NOTIFY) by now: without, it would answer in Dutch
        # from what it kept (for ten seconds).
        await asyncio.sleep(SEEN_WITHIN_S - (time.monotonic() - changed_at))
        cluster.proxy.pin(1)
        again = await anna.send("/instellingen").reply(timeout=REPLY_S)
        assert "Language: English" in again.content, again.content
        assert [d.upstream for d in cluster.proxy.deliveries] == [1, 0, 1]


@pytest.mark.postgres
@pytest.mark.slow
async def test_kill_9_of_the_leader_while_1000_messages_are_due(tmp_path: Path) -> None:
    """The leader is killed a quarter of the way through a broadcast to 1,000 members: a standby
    leads within 15 s and sends the rest; the rows the dead one had claimed go out once its
    lease ran out. Nobody misses the message, at most the messages in flight at the kill are
    sent twice, and over both leaders the token never sent more than Telegram allows: no second
    with more than 30 messages, no 429."""
    emulator = TelegramEmulator(token=TOKEN, limits=Limits())
    marker = "Buurtnieuws"
    recipients = [emulator.user(f"Buur {n}") for n in range(1000)]
    olga = emulator.user("Olga")
    async with scaled_out(tmp_path, emulator) as cluster:
        await members(cluster.database, recipients)
        [olga_id] = await members(cluster.database, [olga], role=Role.ORGANISER)
        leader = await cluster.leader()
        async with cluster.database.transaction() as session:  # as /bericht does
            wyck = await session.scalar(select(Network.id).where(Network.slug == "wyck"))
            now = datetime.now(UTC)
            broadcast = await broadcasts.create_broadcast(
                session,
                actor_id=olga_id,
                html=f"<b>{marker}</b>: de nieuwe masterclasses staan in de agenda!",
                audience={"kind": "networks", "network_ids": [wyck]},
                now=now,
            )
            await broadcasts.confirm_broadcast(
                session, actor_id=olga_id, broadcast_id=broadcast.id, now=now
            )

        def delivered() -> list[Message]:
            return [m for m in emulator.sent if marker in m.content]

        await emulator.wait_until(lambda: len(delivered()) >= 250 or None, timeout=WITHIN_S)
        killed_at = time.monotonic()
        leader.kill()
        await leader.wait()
        others = [service for service in cluster.services if service is not leader]
        await the_leader(others, within_s=WITHIN_S)
        failover_s = time.monotonic() - killed_at
        print(f"kill -9 of the leader: a standby led after {failover_s:.2f} s")
        assert failover_s < FAILOVER_BOUND_S

        async def outbox_done() -> bool:
            async with cluster.database.read() as session:
                open_rows = await session.scalar(
                    select(func.count(OutboxMessage.id)).where(
                        OutboxMessage.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])
                    )
                )
            return open_rows == 0

        # The dead leader's claims run out after the lease (30 s): a bound of two minutes.
        async with asyncio.timeout(120):
            while not await outbox_done():  # noqa: ASYNC110 (polled: the outbox is in the database)
                await asyncio.sleep(0.5)
        async with cluster.database.read() as session:
            statuses = Counter((await session.scalars(select(OutboxMessage.status))).all())
        assert statuses == {DeliveryStatus.SENT: 1000}, statuses

        got = Counter(m.chat.id for m in delivered())
        assert {person.id for person in recipients} == set(got)  # nothing lost
        repeated = sum(n - 1 for n in got.values())
        print(f"{repeated} messages sent twice (in flight at the kill)")
        assert repeated <= DispatcherSettings().max_in_flight
        assert emulator.stats.too_many_requests == 0
        busiest = most_in_one_second(sorted(m.arrived_at for m in emulator.sent))
        print(f"at most {busiest} messages in one second")
        assert busiest <= TELEGRAM_PER_S


def most_in_one_second(arrivals: Sequence[float]) -> int:
    """The most arrivals in any window of one second (not only whole clock seconds)."""
    most, first = 0, 0
    for last, at in enumerate(arrivals):
        while at - arrivals[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_most_in_one_second_counts_any_window() -> None:
    assert most_in_one_second([]) == 0
    assert most_in_one_second([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert most_in_one_second([0.9, 1.1]) == 2  # two whole seconds, one window
    assert most_in_one_second([float(n) for n in range(5)]) == 1
