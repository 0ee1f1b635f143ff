"""Flood limits: token buckets on a fake clock, and 429 + RetryAfter through PTB."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from emulator import ApiError, Limits, RateLimiter, TelegramEmulator, bot_api_urls, serve
from emulator.params import Params
from emulator.testing import FakeClock


def test_private_chat_allows_a_burst_then_one_per_second(clock: FakeClock) -> None:
    limiter = RateLimiter(Limits(per_chat_per_s=1, per_chat_burst=3), clock)
    assert [limiter.acquire(1, is_group=False) for _ in range(3)] == [0, 0, 0]
    assert limiter.acquire(1, is_group=False) == pytest.approx(1.0)
    assert limiter.acquire(2, is_group=False) == 0  # other chats are not affected
    clock.advance(0.5)
    assert limiter.acquire(1, is_group=False) == pytest.approx(0.5)
    clock.advance(0.5)
    assert limiter.acquire(1, is_group=False) == 0


def test_group_allows_twenty_per_minute(clock: FakeClock) -> None:
    limiter = RateLimiter(Limits(), clock)
    for _ in range(20):
        assert limiter.acquire(-5, is_group=True) == 0
        clock.advance(0.1)  # stay under the global 30/s
    # 20 sends in 2 s refilled 2/3 of a token; the next one is due 1 s later (one per 3 s).
    assert limiter.acquire(-5, is_group=True) == pytest.approx(1.0)
    clock.advance(1)
    assert limiter.acquire(-5, is_group=True) == 0


def test_global_limit_spans_all_chats(clock: FakeClock) -> None:
    limiter = RateLimiter(Limits(global_per_s=30), clock)
    assert all(limiter.acquire(chat, is_group=False) == 0 for chat in range(30))
    assert limiter.acquire(99, is_group=False) == pytest.approx(1 / 30)


def test_refused_sends_cost_nothing(clock: FakeClock) -> None:
    limiter = RateLimiter(Limits(per_chat_per_s=1, per_chat_burst=1), clock)
    assert limiter.acquire(1, is_group=False) == 0
    for _ in range(10):
        assert limiter.acquire(1, is_group=False) > 0
    clock.advance(1)
    assert limiter.acquire(1, is_group=False) == 0


def test_scaling_compresses_time_but_keeps_bursts(clock: FakeClock) -> None:
    scaled = Limits().scaled(10)
    assert (scaled.global_per_s, scaled.per_chat_per_s, scaled.per_group_per_min) == (300, 10, 200)
    assert (scaled.per_chat_burst, scaled.per_group_burst) == (3, 20)
    limiter = RateLimiter(scaled, clock)
    assert [limiter.acquire(1, is_group=False) for _ in range(3)] == [0, 0, 0]
    assert limiter.acquire(1, is_group=False) == pytest.approx(0.1)


def test_disabled_limits_never_refuse(clock: FakeClock) -> None:
    limiter = RateLimiter(Limits.off(), clock)
    assert all(limiter.acquire(1, is_group=False) == 0 for _ in range(1000))


@pytest.fixture
async def limited(clock: FakeClock) -> AsyncIterator[tuple[TelegramEmulator, Bot]]:
    emu = TelegramEmulator(clock=clock, limits=Limits(per_chat_per_s=1, per_chat_burst=2))
    async with serve(emu) as url, Bot(emu.token, base_url=bot_api_urls(url).base_url) as bot:
        yield emu, bot


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_exceeding_the_per_chat_limit_raises_retry_after(
    limited: tuple[TelegramEmulator, Bot], clock: FakeClock
) -> None:
    emu, bot = limited
    alice = emu.user("Alice")
    await bot.send_message(alice.id, "1")
    await bot.send_message(alice.id, "2")
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(alice.id, "3")
    assert str(refused.value) == "Flood control exceeded. Retry in 1 seconds"
    assert emu.stats.too_many_requests == 1
    assert [m.text for m in alice.messages] == ["1", "2"]

    clock.advance(1)  # wait exactly as long as Telegram said
    await bot.send_message(alice.id, "3")
    assert [m.text for m in alice.messages] == ["1", "2", "3"]


async def test_429_body_is_telegrams(limited: tuple[TelegramEmulator, Bot]) -> None:
    emu, _bot = limited
    alice = emu.user("Alice")
    for text in ("1", "2"):
        await emu.api.call("sendMessage", chat_id=alice.id, text=text)
    status, body = await emu.api.invoke("sendMessage", Params({"chat_id": alice.id, "text": "3"}))
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }


async def test_fractional_retry_after_for_scaled_benchmarks(clock: FakeClock) -> None:
    limits = Limits(per_chat_burst=1, whole_second_retry_after=False).scaled(100)
    emu = TelegramEmulator(clock=clock, limits=limits)
    alice = emu.user("Alice")
    await emu.api.call("sendMessage", chat_id=alice.id, text="1")
    with pytest.raises(ApiError) as refused:
        await emu.api.call("sendMessage", chat_id=alice.id, text="2")
    assert refused.value.retry_after == pytest.approx(0.01)
    assert str(refused.value) == "Too Many Requests: retry after 0.01"
