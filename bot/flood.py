"""Flood control: one member tapping hundreds of times a minute must not slow anyone else down.

Kept in memory on purpose: it is a short-lived counter, not something that matters after a
restart. Updates are handled concurrently, so one busy chat never blocks the others; this guard
drops the excess of a single user early, before any database work.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class FloodGuard:
    limit: int = 20  # updates...
    window: float = 10.0  # ...per this many seconds
    warn_every: float = 30.0  # say "rustig aan" at most this often
    clock: Callable[[], float] = time.monotonic
    _seen: dict[int, deque[float]] = field(default_factory=dict)
    _warned: dict[int, float] = field(default_factory=dict)

    def check(self, user_id: int) -> str:
        """'ok' to handle, 'warn' to answer once with a calm word, 'drop' to ignore."""
        now = self.clock()
        stamps = self._seen.setdefault(user_id, deque())
        while stamps and now - stamps[0] > self.window:
            stamps.popleft()
        stamps.append(now)
        if len(self._seen) > 10_000:
            self._forget_idle(now)
        if len(stamps) <= self.limit:
            return "ok"
        if now - self._warned.get(user_id, -self.warn_every) >= self.warn_every:
            self._warned[user_id] = now
            return "warn"
        return "drop"

    def wait_s(self, user_id: int) -> int:
        """Whole seconds until this user's next update is handled again, if they wait (every
        update counts, the ones turned away too): for "probeer het over N seconden"."""
        stamps = self._seen.get(user_id)
        if not stamps or len(stamps) < self.limit:
            return 0
        # Handled again once no more than limit - 1 of the latest updates are in the window.
        free_at = stamps[-self.limit] + self.window
        return max(1, math.ceil(free_at - self.clock()))

    def _forget_idle(self, now: float) -> None:
        for user_id in [u for u, s in self._seen.items() if not s or now - s[-1] > self.window]:
            del self._seen[user_id]
            self._warned.pop(user_id, None)
