"""Telegram's flood limits as token buckets, with an injectable clock.

Telegram documents three limits for bots: about 30 messages per second overall, about one message
per second to a single private chat (short bursts are tolerated) and 20 messages per minute to one
group. Each limit is a token bucket here: a bucket holds at most ``capacity`` tokens, refills at
``rate`` tokens per second, and a send needs one token from every bucket that applies. A refused
send costs nothing, so a bot that waits ``retry_after`` seconds is guaranteed to get through.

Tests and benchmarks compress time with ``Limits.scaled(factor)``: every rate is multiplied, bursts
stay the same, so the shape of the limits is kept while the waits shrink.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

Clock = Callable[[], float]


@dataclass(frozen=True)
class Limits:
    """Flood limits; the defaults are Telegram's."""

    global_per_s: float = 30.0
    per_chat_per_s: float = 1.0
    per_chat_burst: int = 3
    per_group_per_min: float = 20.0
    enabled: bool = True
    # How many sends each bucket allows back to back. A group's 20-per-minute is a burst of 20,
    # so scaling the rate compresses the minute instead of enlarging the burst.
    global_burst: int = 30
    per_group_burst: int = 20
    # Telegram's retry_after is a whole number of seconds. Scaled benchmarks may want fractions.
    whole_second_retry_after: bool = True

    def scaled(self, factor: float) -> Limits:
        """The same limits with every rate ``factor`` times higher (bursts unchanged)."""
        if factor <= 0:
            raise ValueError("factor must be positive")
        return replace(
            self,
            global_per_s=self.global_per_s * factor,
            per_chat_per_s=self.per_chat_per_s * factor,
            per_group_per_min=self.per_group_per_min * factor,
        )

    @classmethod
    def off(cls) -> Limits:
        return cls(enabled=False)


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    stamp: float

    @classmethod
    def full(cls, rate: float, capacity: float, now: float) -> TokenBucket:
        return cls(rate=rate, capacity=capacity, tokens=capacity, stamp=now)

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.stamp = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self.refill(now)
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class RateLimiter:
    """Decides whether a send may happen now, and otherwise how long the bot must wait."""

    def __init__(self, limits: Limits | None = None, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._limits = limits or Limits()
        self._global: TokenBucket | None = None
        self._chats: dict[int, TokenBucket] = {}

    @property
    def limits(self) -> Limits:
        return self._limits

    @limits.setter
    def limits(self, limits: Limits) -> None:
        # New limits start with full buckets; carrying old token counts over would mix units.
        self._limits = limits
        self._global = None
        self._chats.clear()

    def acquire(self, chat_id: int, *, is_group: bool) -> float:
        """Take a token for a message to ``chat_id``; returns 0, or the seconds to wait."""
        if not self._limits.enabled:
            return 0.0
        now = self._clock()
        buckets = [self._global_bucket(now), self._chat_bucket(chat_id, is_group, now)]
        wait = max(bucket.wait_time(now) for bucket in buckets)
        if wait > 0:
            return wait
        for bucket in buckets:
            bucket.take()
        return 0.0

    def _global_bucket(self, now: float) -> TokenBucket:
        if self._global is None:
            rate = self._limits.global_per_s
            burst = max(1.0, float(self._limits.global_burst))
            self._global = TokenBucket.full(rate, burst, now)
        return self._global

    def _chat_bucket(self, chat_id: int, is_group: bool, now: float) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if is_group:
                limits = self._limits
                burst = max(1.0, float(limits.per_group_burst))
                bucket = TokenBucket.full(limits.per_group_per_min / 60.0, burst, now)
            else:
                limits = self._limits
                bucket = TokenBucket.full(
                    limits.per_chat_per_s, max(1.0, float(limits.per_chat_burst)), now
                )
            self._chats[chat_id] = bucket
        return bucket
