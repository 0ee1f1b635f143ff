"""/metrics sees the bot's work: every update handled (by kind, with its duration) and every
429 the Bot API answers, through the real Application and the emulator."""

from __future__ import annotations

import asyncio

from telemetry.metrics import REGISTRY
from tests.bot.conftest import World, press


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def until(condition) -> None:  # type: ignore[no-untyped-def]
    """The histogram is written when the update's handlers have returned, which may be just
    after the reply reached the person: look again for up to 10 s."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the metric did not change")


async def test_updates_are_counted_by_kind_with_their_duration(world: World) -> None:
    handled = "buurtagenda_update_handling_seconds_count"
    messages, taps = sample(handled, kind="message"), sample(handled, kind="callback_query")
    seconds = sample("buurtagenda_update_handling_seconds_sum", kind="message")
    anouk = world.person("Anouk")
    _, question = await anouk.start().replies(2)
    await until(lambda: sample(handled, kind="message") == messages + 1)
    assert sample("buurtagenda_update_handling_seconds_sum", kind="message") > seconds
    await press(anouk, question, "Volgende ▶").edit()
    await until(lambda: sample(handled, kind="callback_query") == taps + 1)
    assert sample(handled, kind="message") == messages + 1


async def test_a_429_from_the_bot_api_is_counted(world: World) -> None:
    replies = sample("buurtagenda_telegram_429_total", traffic="reply")
    bulk = sample("buurtagenda_telegram_429_total", traffic="bulk")
    world.emulator.faults.flood(1, count=1, method="sendMessage")
    await world.person("Bram").start().replies(2)  # the reply waits the second out, then goes
    assert sample("buurtagenda_telegram_429_total", traffic="reply") == replies + 1
    assert sample("buurtagenda_telegram_429_total", traffic="bulk") == bulk
