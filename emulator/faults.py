"""Failures on demand: injected 5xx/429 answers, artificial latency, lost webhook answers.

Rules are matched per Bot API method (case-insensitive) or for every method (``method=None``).
A rule fires for its next ``count`` matching calls (``None`` = forever), each time with
``probability``; the random source is seeded so a failing run can be replayed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from emulator.errors import ApiError, server_error, too_many_requests


@dataclass
class FaultRule:
    status: int
    method: str | None = None  # lower-case Bot API method name, None = any
    remaining: int | None = 1  # None = unlimited
    probability: float = 1.0
    retry_after: int = 5  # only for status 429

    def matches(self, method: str) -> bool:
        return (self.method is None or self.method == method) and self.remaining != 0

    def error(self) -> ApiError:
        if self.status == 429:
            return too_many_requests(self.retry_after)
        return server_error(self.status)


class Faults:
    """The fault plan of one emulator; safe to change while a bot is running."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self.rules: list[FaultRule] = []
        self.latency_s: dict[str | None, float] = {}
        self.injected = 0
        self.webhook_answers_to_lose = 0

    def fail_next(self, count: int = 1, *, method: str | None = None, status: int = 500) -> None:
        """The next ``count`` calls (of ``method``) fail with ``status`` (500, 502, 503, 504)."""
        self.rules.append(FaultRule(status=status, method=_norm(method), remaining=count))

    def fail_randomly(
        self, probability: float, *, method: str | None = None, status: int = 502
    ) -> None:
        """Every call (of ``method``) fails with ``probability`` until ``clear()``."""
        self.rules.append(FaultRule(status, _norm(method), remaining=None, probability=probability))

    def flood(self, retry_after: int = 5, *, count: int = 1, method: str | None = None) -> None:
        """The next ``count`` calls get 429 "Too Many Requests: retry after N"."""
        self.rules.append(FaultRule(429, _norm(method), remaining=count, retry_after=retry_after))

    def set_latency(self, seconds: float, *, method: str | None = None) -> None:
        """Delay every call (of ``method``) by ``seconds`` before it is handled."""
        self.latency_s[_norm(method)] = seconds

    def lose_webhook_answers(self, count: int = 1) -> None:
        """The bot's answers to the next ``count`` webhook deliveries never arrive (the
        connection drops after the bot received the update): delivered again, as Telegram
        does when it saw no 2xx."""
        self.webhook_answers_to_lose += count

    def take_lost_webhook_answer(self) -> bool:
        if self.webhook_answers_to_lose <= 0:
            return False
        self.webhook_answers_to_lose -= 1
        self.injected += 1
        return True

    def clear(self) -> None:
        self.rules.clear()
        self.latency_s.clear()
        self.webhook_answers_to_lose = 0

    def latency_for(self, method: str) -> float:
        return self.latency_s.get(method, self.latency_s.get(None, 0.0))

    def pick(self, method: str) -> ApiError | None:
        """The injected error for this call, if any; consumes one use of the rule that fired."""
        for rule in self.rules:
            if not rule.matches(method):
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
            self.injected += 1
            self.rules = [r for r in self.rules if r.remaining != 0]
            return rule.error()
        return None


def _norm(method: str | None) -> str | None:
    return method.lower() if method else None
