"""Sending within Telegram's flood limits, with replies to people ahead of bulk sending.

Telegram allows a bot about 30 messages per second in all, about one per second to one private
chat (short bursts are tolerated) and 20 per minute to one group; beyond that it answers 429 with
a ``retry_after``. python-telegram-bot's ``AIORateLimiter`` paces only the overall rate and
groups, and one 429 holds back every request of every chat. ``PriorityRateLimiter`` instead:

- paces every *send* (``send*``, ``copyMessage``, ``forwardMessage``) against a global budget
  (``total_per_s``, kept a little under Telegram's 30/s), per private chat (``private_per_s``
  with a small burst) and per group (``group_per_min``). Edits, callback answers and the rest
  pass straight through: Telegram does not count them as messages.
- treats requests marked ``rate_limit_args={"bulk": True}`` (the outbox dispatcher marks every
  send so) as low priority with their own rate (``bulk_per_s``, the configured delivery rate):
  bulk takes a global slot only when one is free *now* and ``reserve`` slots stay free after it,
  while a reply reserves the next free slot at once, so bulk sending never makes a reply wait
  behind it. One bulk send passes the gate at a time, in order.
- on a 429 waits ``retry_after``: for bulk, all bulk sending pauses and the error goes back to
  the dispatcher (which releases the message and retries it after the pause); a reply waits
  and retries its own request (up to ``max_retries`` times), holding back only its own chat.

Each budget is a GCRA ("virtual scheduling") bucket: ``rate`` per second with a ``burst``. A
reply reserves its slot ahead of time, and reservations in any order keep the promise: in any
window of ``w`` seconds at most ``burst + w * rate`` sends.

The clock and the sleep are injectable (tests use a fake clock, nothing really sleeps).

Several instances on PostgreSQL share one token, so they share one budget:
``SharedRateLimiter`` keeps the same rules with the buckets in the database
(``models/send_budget.py``: one statement per send), and a 429 pauses every instance. When
the database cannot be asked it falls back to this process's own buckets for that send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from models.send_budget import Bucket, BudgetUnavailable, SharedSendBudget
from telemetry.metrics import count_telegram_429

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Result = bool | dict[str, Any] | list[dict[str, Any]]
RateLimitArgs = dict[str, Any]

# Methods that put a message in a chat (what Telegram's limits count).
_SENDS = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})
_NOT_SENDS = frozenset({"sendChatAction"})


def is_send(endpoint: str) -> bool:
    return (endpoint.startswith("send") and endpoint not in _NOT_SENDS) or endpoint in _SENDS


@dataclass(frozen=True)
class SendRates:
    """How fast the bot sends. The defaults are Telegram's limits, with a little margin."""

    # Telegram: about 30 per second in all. A GCRA bucket lets through at most
    # rate + burst - 1 sends in any second: 29, one to spare for network jitter.
    total_per_s: float = 27.0
    total_burst: int = 3
    bulk_per_s: float = 25.0  # the outbox (config ``delivery.rate_per_s``)
    bulk_burst: int = 4  # catches up after a pause of the sender (it then waits on the rest)
    reserve: int = 1  # global slots bulk sending leaves free for replies (of the 3: one)
    private_per_s: float = 1.0  # Telegram: about 1 per second per private chat, short bursts
    private_burst: int = 2  # Telegram tolerates 3; one less absorbs network jitter
    group_per_min: float = 20.0  # Telegram: 20 per minute per group
    group_burst: int = 3  # any minute: at most 3 + 20
    max_retries: int = 3  # a reply that still meets a 429 is tried again this often
    enabled: bool = True

    def scaled(self, factor: float) -> SendRates:
        """Every rate ``factor`` times higher, bursts unchanged (as ``emulator.Limits.scaled``)."""
        if factor <= 0:
            raise ValueError("factor must be positive")
        return replace(
            self,
            total_per_s=self.total_per_s * factor,
            bulk_per_s=self.bulk_per_s * factor,
            private_per_s=self.private_per_s * factor,
            group_per_min=self.group_per_min * factor,
        )

    @classmethod
    def off(cls) -> SendRates:
        """No pacing at all (429s are still waited out)."""
        return cls(enabled=False)


class Budget:
    """One GCRA bucket: ``rate`` sends per second, at most ``burst`` back to back.

    ``tat`` is the theoretical arrival time: with no burst left a send may happen at ``tat``;
    every send moves it on by ``1 / rate``.
    """

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.interval = 1.0 / rate
        self.tolerance = max(0, burst - 1) * self.interval
        self.tat = now

    def earliest(self, now: float, keep_free: int = 0) -> float:
        """The first moment a send conforms, leaving ``keep_free`` of the burst unused."""
        keep = min(keep_free * self.interval, self.tolerance)
        return max(now, self.tat - self.tolerance + keep)

    def take(self, at: float) -> None:
        self.tat = max(self.tat, at) + self.interval

    def hold(self, until: float) -> None:
        """Nothing may be sent before ``until`` (Telegram said so with a 429)."""
        self.tat = max(self.tat, until + self.tolerance)

    def idle(self, now: float) -> bool:
        """Full again: forgetting it changes nothing."""
        return self.tat + self.tolerance <= now


@dataclass
class LimiterStats:
    sends: int = 0
    bulk_sends: int = 0
    http_429: int = 0
    interactive_retries: int = 0
    waited_s: float = 0.0  # total time replies waited for a slot


class PriorityRateLimiter(BaseRateLimiter[RateLimitArgs]):
    """See the module docstring."""

    _PRUNE_AT = 2048

    def __init__(
        self,
        rates: SendRates | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.rates = rates or SendRates()
        self._clock = clock
        self._sleep = sleep
        now = clock()
        r = self.rates
        self._total = Budget(r.total_per_s, r.total_burst, now) if r.enabled else None
        self._bulk = Budget(r.bulk_per_s, r.bulk_burst, now) if r.enabled else None
        self._chats: dict[int | str, Budget] = {}
        self._bulk_gate = asyncio.Lock()
        self.bulk_paused_until = 0.0
        self.stats = LimiterStats()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: RateLimitArgs | None,
    ) -> Result:
        bulk = bool(rate_limit_args and rate_limit_args.get("bulk"))
        chat = _chat_key(data.get("chat_id"))
        paced = is_send(endpoint) and self.rates.enabled
        attempt = 0
        while True:
            if bulk:
                await self._bulk_slot(chat if paced else None, paced)
            elif paced:
                await self._reply_slot(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = retry_after_seconds(error)
                self.stats.http_429 += 1
                count_telegram_429(bulk=bulk)
                await self._told_to_wait(seconds)
                until = self._clock() + seconds
                if bulk:
                    self.bulk_paused_until = max(self.bulk_paused_until, until)
                    log.warning("429 on a bulk send: bulk sending paused for %.1f s", seconds)
                    raise
                if attempt >= self.rates.max_retries:
                    log.warning("429 on %s: gave up after %d retries", endpoint, attempt)
                    raise
                attempt += 1
                self.stats.interactive_retries += 1
                log.info("429 on %s: retrying in %.1f s", endpoint, seconds)
                if paced and chat is not None:
                    self._chat_budget(chat, self._clock()).hold(until)
                else:
                    await self._sleep(seconds)

    async def _told_to_wait(self, seconds: float) -> None:
        """A 429 (this process's own pauses follow below)."""

    # --- the slots ------------------------------------------------------------------------------

    async def _reply_slot(self, chat: int | str | None) -> None:
        """First the chat's turn (reserved at once, so replies to one chat keep their order),
        then the first free global slot. In that order, a chat that must wait holds back
        nobody else."""
        assert self._total is not None
        budget = self._chat_budget(chat, self._clock()) if chat is not None else None
        if budget is not None:
            await self._wait_for(budget)
        await self._wait_for(self._total)
        if budget is not None:  # sent later than reserved: the chat's next turn moves along
            budget.tat = max(budget.tat, self._clock() + budget.interval)
        self.stats.sends += 1

    async def _wait_for(self, budget: Budget) -> None:
        now = self._clock()
        at = budget.earliest(now)
        budget.take(at)
        if at > now:
            self.stats.waited_s += at - now
            await self._sleep(at - now)

    async def _bulk_slot(self, chat: int | str | None, paced: bool) -> None:
        """One bulk send at a time: wait for a pause to end, the bulk rate, and a global slot
        that is free now with ``reserve`` slots to spare for replies."""
        async with self._bulk_gate:
            while True:
                now = self._clock()
                if self.bulk_paused_until > now:
                    await self._sleep(self.bulk_paused_until - now)
                    continue
                if not paced:
                    return
                wait = await self._take_bulk(chat, now)
                if wait <= 0:
                    self.stats.sends += 1
                    self.stats.bulk_sends += 1
                    return
                await self._sleep(wait)

    async def _take_bulk(self, chat: int | str | None, now: float) -> float:
        """Take a bulk send's slots if all are free now (0); else the seconds to wait."""
        assert self._total is not None and self._bulk is not None
        budget = self._chat_budget(chat, now) if chat is not None else None
        at = max(
            self._bulk.earliest(now),
            self._total.earliest(now, keep_free=self.rates.reserve),
            budget.earliest(now) if budget is not None else now,
        )
        if at > now:
            return at - now
        self._bulk.take(now)
        self._total.take(now)
        if budget is not None:
            budget.take(now)
        return 0.0

    def _chat_budget(self, chat: int | str, now: float) -> Budget:
        budget = self._chats.get(chat)
        if budget is None:
            if len(self._chats) >= self._PRUNE_AT:
                self._chats = {k: b for k, b in self._chats.items() if not b.idle(now)}
            r = self.rates
            if _is_group(chat):
                budget = Budget(r.group_per_min / 60.0, r.group_burst, now)
            else:
                budget = Budget(r.private_per_s, r.private_burst, now)
            self._chats[chat] = budget
        return budget


class SharedRateLimiter(PriorityRateLimiter):
    """``PriorityRateLimiter``'s rules with one budget for every instance of the service
    (``models/send_budget.py``); see the module docstring."""

    def __init__(
        self,
        budget: SharedSendBudget,
        rates: SendRates | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(rates, clock=clock, sleep=sleep)
        self.budget = budget
        r = self.rates
        self._total_bucket = Bucket.of(r.total_per_s, r.total_burst)
        self._bulk_bucket = Bucket.of(r.bulk_per_s, r.bulk_burst)
        self._private_bucket = Bucket.of(r.private_per_s, r.private_burst)
        self._group_bucket = Bucket.of(r.group_per_min / 60.0, r.group_burst)
        self._keep_free_s = r.reserve * self._total_bucket.interval
        self.fallbacks = 0

    async def initialize(self) -> None:
        try:
            await self.budget.open()
        except Exception as error:  # the first send tries again
            log.warning("the shared send budget is not reachable yet: %s", error)

    async def shutdown(self) -> None:
        await self.budget.close()

    def _chat_bucket(self, chat: int | str | None) -> Bucket:
        return self._group_bucket if chat is not None and _is_group(chat) else self._private_bucket

    async def _reply_slot(self, chat: int | str | None) -> None:
        bucket = self._chat_bucket(chat)
        key = str(chat) if chat is not None else None
        try:
            wait, taken = await self.budget.reply_slot(key, bucket, self._total_bucket)
            if not taken:  # the chat's turn is later: then the first free overall slot
                await self._wait(wait)
                wait, _ = await self.budget.reply_slot(None, bucket, self._total_bucket)
        except BudgetUnavailable as error:
            self._fell_back(error)
            await super()._reply_slot(chat)
            return
        await self._wait(wait)
        self.stats.sends += 1

    async def _take_bulk(self, chat: int | str | None, now: float) -> float:
        key = str(chat) if chat is not None else None
        try:
            return await self.budget.bulk_slot(
                key,
                self._chat_bucket(chat),
                self._total_bucket,
                self._bulk_bucket,
                self._keep_free_s,
            )
        except BudgetUnavailable as error:
            self._fell_back(error)
            return await super()._take_bulk(chat, now)

    async def _told_to_wait(self, seconds: float) -> None:
        """Every instance waits: the limit is the token's."""
        try:
            await self.budget.pause(seconds)
        except BudgetUnavailable as error:
            self._fell_back(error)

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.stats.waited_s += seconds
            await self._sleep(seconds)

    def _fell_back(self, error: Exception) -> None:
        if not self.fallbacks % 100:
            log.warning("shared send budget unavailable (%s); pacing this process alone", error)
        self.fallbacks += 1


def _chat_key(chat_id: object) -> int | str | None:
    if chat_id is None:
        return None
    if isinstance(chat_id, int):
        return chat_id
    with contextlib.suppress(ValueError, TypeError):
        return int(str(chat_id))
    return str(chat_id)  # "@channelusername"


def _is_group(chat: int | str) -> bool:
    """Groups, supergroups and channels have negative ids (or an @username)."""
    return isinstance(chat, str) or chat < 0


def retry_after_seconds(error: RetryAfter) -> float:
    retry = getattr(error, "_retry_after", None)
    if isinstance(retry, timedelta):
        return retry.total_seconds()
    with contextlib.suppress(TypeError, ValueError):
        return float(error.retry_after)  # type: ignore[arg-type]
    return 1.0
