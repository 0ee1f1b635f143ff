"""The rate limiter on a fake clock: pacing per chat, per group and overall, bulk behind replies,
and 429s. Nothing really sleeps: ``FakeTime`` wakes the earliest sleeper once everyone else
has settled, and moves the clock to its moment."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.ratelimit import PriorityRateLimiter, SendRates, is_send

START = 1000.0


@dataclass
class FakeTime:
    now: float = START
    _sleepers: list[tuple[float, int, asyncio.Future[None]]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, delay), next(self._seq), future))
        await future

    async def _settle(self) -> None:
        for _ in range(50):
            await asyncio.sleep(0)

    async def run(self, *coroutines: Coroutine[Any, Any, Any]) -> list[Any]:
        tasks = [asyncio.ensure_future(c) for c in coroutines]
        while True:
            await self._settle()
            if all(task.done() for task in tasks):
                break
            assert self._sleepers, "deadlock: tasks wait, nobody sleeps"
            when, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, when)
            future.set_result(None)
        return [task.exception() or task.result() for task in tasks]

    async def at(self, moment: float, coroutine: Coroutine[Any, Any, Any]) -> Any:
        await self.sleep(moment - self.now)
        return await coroutine


@dataclass
class Telegram:
    """Records when each request reached 'Telegram'; can answer 429 a few times."""

    time: FakeTime
    sends: list[tuple[float, str, object, bool]] = field(default_factory=list)
    floods: dict[object, list[float]] = field(default_factory=dict)  # chat → retry_afters

    def flood(self, chat: object, *retry_after: float) -> None:
        self.floods[chat] = list(retry_after)

    async def call(self, endpoint: str, chat: object, bulk: bool) -> dict[str, Any]:
        pending = self.floods.get(chat)
        if pending:
            raise RetryAfter(pending.pop(0))  # type: ignore[arg-type]
        self.sends.append((self.time.now, endpoint, chat, bulk))
        return {"ok": True}

    def times(self, *, chat: object = None, bulk: bool | None = None) -> list[float]:
        return [
            at - START
            for at, _, c, b in self.sends
            if (chat is None or c == chat) and (bulk is None or b == bulk)
        ]


def request(
    limiter: PriorityRateLimiter,
    telegram: Telegram,
    chat: object,
    *,
    bulk: bool = False,
    endpoint: str = "sendMessage",
) -> Coroutine[Any, Any, Any]:
    return limiter.process_request(
        callback=telegram.call,
        args=(endpoint, chat, bulk),
        kwargs={},
        endpoint=endpoint,
        data={"chat_id": chat, "text": "hoi"},
        rate_limit_args={"bulk": True} if bulk else None,
    )


def max_in_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    return max(
        (sum(1 for t in ordered[i:] if t < start + window) for i, start in enumerate(ordered)),
        default=0,
    )


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


def make(time_: FakeTime, **rates: Any) -> tuple[PriorityRateLimiter, Telegram]:
    limiter = PriorityRateLimiter(SendRates(**rates), clock=time_.clock, sleep=time_.sleep)
    return limiter, Telegram(time_)


async def test_one_private_chat_gets_a_small_burst_then_one_a_second(time_: FakeTime):
    limiter, telegram = make(time_)
    await time_.run(*(request(limiter, telegram, 42) for _ in range(6)))
    assert telegram.times(chat=42) == pytest.approx([0, 0, 1, 2, 3, 4])


async def test_other_chats_do_not_wait_for_a_busy_one(time_: FakeTime):
    limiter, telegram = make(time_)
    busy = [request(limiter, telegram, 42) for _ in range(10)]
    others = [time_.at(START + 0.5, request(limiter, telegram, chat)) for chat in (7, 8, 9)]
    await time_.run(*busy, *others)
    assert [telegram.times(chat=c)[0] for c in (7, 8, 9)] == pytest.approx([0.5, 0.5, 0.5])


async def test_the_overall_rate_holds_for_many_chats(time_: FakeTime):
    limiter, telegram = make(time_)
    await time_.run(*(request(limiter, telegram, chat) for chat in range(1, 101)))
    times = telegram.times()
    assert len(times) == 100
    assert max_in_window(times, 1.0) <= 3 + 27
    assert max(times) == pytest.approx((100 - 3) / 27)


async def test_a_group_gets_twenty_a_minute(time_: FakeTime):
    limiter, telegram = make(time_)
    await time_.run(*(request(limiter, telegram, -100123) for _ in range(30)))
    times = telegram.times(chat=-100123)
    assert times[:6] == pytest.approx([0, 0, 0, 3, 6, 9])  # a small burst, then one per 3 s
    assert max_in_window(times, 60.0) <= 3 + 20


async def test_bulk_keeps_its_own_rate(time_: FakeTime):
    limiter, telegram = make(time_)
    await time_.run(*(request(limiter, telegram, chat, bulk=True) for chat in range(1, 51)))
    times = telegram.times(bulk=True)
    assert times == sorted(times)  # one at a time, in order
    assert max(times) == pytest.approx((50 - 4) / 25, abs=0.01)  # a burst of 4, then 25/s
    assert max_in_window(times, 1.0) <= 4 + 25


async def test_replies_go_before_bulk_and_the_total_stays_under_the_limit(time_: FakeTime):
    limiter, telegram = make(time_)
    bulk = [request(limiter, telegram, chat, bulk=True) for chat in range(1, 201)]
    replies = [time_.at(START + 2.0, request(limiter, telegram, 10_000 + n)) for n in range(20)]
    await time_.run(*bulk, *replies)
    reply_times = telegram.times(bulk=False)
    # 20 replies at once: a couple right away (the reserve), then the whole budget is theirs.
    assert max(reply_times) - 2.0 <= 20 / 27 + 1e-9
    assert max_in_window(telegram.times(), 1.0) <= 3 + 27
    during = [t for t in telegram.times(bulk=True) if 2.0 <= t <= max(reply_times)]
    assert len(during) <= 3
    assert len(telegram.times(bulk=True)) == 200


async def test_a_429_on_bulk_pauses_all_bulk_and_goes_back_to_the_dispatcher(time_: FakeTime):
    limiter, telegram = make(time_)
    telegram.flood(1, 5)
    results = await time_.run(
        request(limiter, telegram, 1, bulk=True),
        *(request(limiter, telegram, chat, bulk=True) for chat in (2, 3)),
        time_.at(START + 1.0, request(limiter, telegram, 99)),  # a reply during the pause
    )
    assert isinstance(results[0], RetryAfter)
    assert telegram.times(chat=99) == pytest.approx([1.0])  # replies are not held back
    assert min(telegram.times(bulk=True)) >= 5.0
    assert limiter.stats.http_429 == 1


async def test_a_429_on_a_reply_retries_only_that_request(time_: FakeTime):
    limiter, telegram = make(time_)
    telegram.flood(42, 2)
    results = await time_.run(
        request(limiter, telegram, 42),
        time_.at(START + 0.5, request(limiter, telegram, 43)),
        time_.at(START + 0.5, request(limiter, telegram, 42)),
    )
    assert not any(isinstance(r, Exception) for r in results)
    assert telegram.times(chat=43) == pytest.approx([0.5])
    assert telegram.times(chat=42) == pytest.approx([2.0, 3.0])
    assert limiter.stats.interactive_retries == 1


async def test_a_reply_gives_up_after_max_retries(time_: FakeTime):
    limiter, telegram = make(time_, max_retries=2)
    telegram.flood(42, 1, 1, 1)
    [result] = await time_.run(request(limiter, telegram, 42))
    assert isinstance(result, RetryAfter)
    assert limiter.stats.http_429 == 3


async def test_edits_and_callback_answers_are_not_paced(time_: FakeTime):
    limiter, telegram = make(time_)
    edits = [request(limiter, telegram, 42, endpoint="editMessageText") for _ in range(10)]
    await time_.run(*edits)
    assert telegram.times(chat=42) == pytest.approx([0] * 10)
    assert is_send("sendPhoto") and is_send("copyMessage")
    assert not is_send("sendChatAction") and not is_send("answerCallbackQuery")


async def test_off_paces_nothing(time_: FakeTime):
    limiter = PriorityRateLimiter(SendRates.off(), clock=time_.clock, sleep=time_.sleep)
    telegram = Telegram(time_)
    await time_.run(*(request(limiter, telegram, 42, bulk=n % 2 == 0) for n in range(20)))
    assert telegram.times() == pytest.approx([0] * 20)


def test_scaled_rates_keep_their_shape():
    rates = SendRates().scaled(10)
    assert (rates.total_per_s, rates.bulk_per_s, rates.private_per_s) == (270, 250, 10)
    assert rates.group_per_min == 200 and rates.private_burst == SendRates().private_burst
    with pytest.raises(ValueError):
        SendRates().scaled(0)
