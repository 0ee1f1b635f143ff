"""One send budget for the bot token, shared through PostgreSQL
(``bot.ratelimit.SharedRateLimiter``, ``models/send_budget.py``): two senders, each with its own
limiter and its own connections, as two instances of the service, against the emulator
enforcing Telegram's limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram.ext import ExtBot

from bot.ratelimit import PriorityRateLimiter, SendRates, SharedRateLimiter
from emulator import Limits, Person, TelegramEmulator, serve
from emulator.server import bot_api_urls
from models.db import Database
from models.send_budget import SharedSendBudget
from tests.conftest import POSTGRES_URL, postgres_database

pytestmark = pytest.mark.postgres

PER_SENDER = 45  # bulk sends each; plus replies
REPLIES = 25


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    database = await postgres_database()  # also empties send_budget
    yield database
    await database.dispose()


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def two_senders_at_once(
    emulator: TelegramEmulator, url: str, limiters: list[PriorityRateLimiter]
) -> list[Person]:
    urls = bot_api_urls(url)
    people = [emulator.user(f"P{i}") for i in range(len(limiters) * (PER_SENDER + REPLIES))]
    bots = [
        ExtBot(
            emulator.token,
            base_url=urls.base_url,
            base_file_url=urls.base_file_url,
            rate_limiter=limiter,
        )
        for limiter in limiters
    ]
    for bot in bots:
        await bot.initialize()
    try:
        sends = []
        for number, bot in enumerate(bots):
            mine = people[number * (PER_SENDER + REPLIES) : (number + 1) * (PER_SENDER + REPLIES)]
            for person in mine[:PER_SENDER]:  # the outbox of this instance: a broadcast
                sends.append(bot.send_message(person.id, "Bericht", rate_limit_args={"bulk": True}))
            for person in mine[PER_SENDER:]:  # people talking to this instance meanwhile
                sends.append(bot.send_message(person.id, "Antwoord"))
        await asyncio.gather(*sends)
    finally:
        for bot in bots:
            await bot.shutdown()
    return people


async def test_two_senders_sharing_the_budget_stay_under_telegrams_limit(pg: Database) -> None:
    emulator = TelegramEmulator(limits=Limits())  # Telegram's: 30/s overall, 1/s per chat
    budgets = [SharedSendBudget(POSTGRES_URL), SharedSendBudget(POSTGRES_URL)]
    async with serve(emulator) as url:
        people = await two_senders_at_once(
            emulator, url, [SharedRateLimiter(budget, SendRates()) for budget in budgets]
        )
    times = [m.arrived_at for p in people for m in p.messages if m.by_bot]
    assert len(times) == len(people)  # everyone got theirs
    assert emulator.stats.too_many_requests == 0
    assert most_in_one_second(times) <= 30
    assert sum(budget.calls for budget in budgets) >= len(people)  # every send asked the budget


async def test_each_sender_on_its_own_goes_over_the_limit(pg: Database) -> None:
    """What the shared budget is for: each process pacing itself, together they send too much
    (Telegram answers 429; here the emulator counts the sends it would have refused)."""
    emulator = TelegramEmulator(limits=Limits.off())
    async with serve(emulator) as url:
        people = await two_senders_at_once(
            emulator, url, [PriorityRateLimiter(SendRates()) for _ in range(2)]
        )
    times = [m.arrived_at for p in people for m in p.messages if m.by_bot]
    assert most_in_one_second(times) > 30


async def test_a_429_pauses_every_sender(pg: Database) -> None:
    first, second = SharedSendBudget(POSTGRES_URL), SharedSendBudget(POSTGRES_URL)
    rates = SendRates()
    one, other = SharedRateLimiter(first, rates), SharedRateLimiter(second, rates)
    try:
        await one._told_to_wait(2.0)  # a 429 seen by one instance
        wait = await second.bulk_slot(
            "7", other._private_bucket, other._total_bucket, other._bulk_bucket, 0.0
        )
        assert 0 < wait <= 2.0  # the other waits it out too (nothing taken meanwhile)
        wait, taken = await second.reply_slot("8", other._private_bucket, other._total_bucket)
        assert taken and 0 < wait <= 2.0  # replies too: the limit is the token's
    finally:
        await first.close()
        await second.close()
