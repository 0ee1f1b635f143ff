"""The bot's update queue with getUpdates semantics.

* Update ids increase by one; an update stays queued until the bot confirms it by calling
  getUpdates with a higher ``offset`` (or a webhook call for it succeeds).
* A negative offset keeps only the last ``-offset`` updates and forgets the rest.
* ``limit`` is clamped to 1..100 and ``timeout`` to 0..50 seconds, as the Bot API server does.
* A long poll returns as soon as an update arrives. A newer getUpdates call terminates an older
  one that is still waiting with 409 Conflict, and so does setWebhook (with its own description,
  as the official Bot API server words it).
* ``allowed_updates`` filters updates when they are *created*; it is sticky between calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from emulator.errors import TERMINATED_BY_OTHER_POLL, TERMINATED_BY_SET_WEBHOOK, conflict
from emulator.state import JsonDict, Signal

# Telegram leaves these out unless they are asked for explicitly.
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MAX_LONG_POLL_S = 50


@dataclass(frozen=True)
class PendingUpdate:
    update_id: int
    kind: str  # "message", "callback_query", ...
    payload: JsonDict

    def to_api(self) -> JsonDict:
        return {"update_id": self.update_id, self.kind: self.payload}


class UpdateQueue:
    def __init__(self, signal: Signal, first_update_id: int = 1) -> None:
        self._signal = signal
        self._next_id = first_update_id
        self._pending: list[PendingUpdate] = []
        self._allowed: frozenset[str] | None = None
        self._poll_generation = 0
        self._terminated_by = TERMINATED_BY_OTHER_POLL
        self._closed = False

    # ----------------------------------------------------------------------- producing updates --

    def accepts(self, kind: str) -> bool:
        if self._allowed is None:
            return kind not in DEFAULT_EXCLUDED
        return kind in self._allowed

    def push(self, kind: str, payload: JsonDict) -> int | None:
        """Queue an update; returns its id, or None when allowed_updates filters it out."""
        if not self.accepts(kind):
            return None
        update = PendingUpdate(self._next_id, kind, payload)
        self._next_id += 1
        self._pending.append(update)
        self._signal.notify()
        return update.update_id

    def set_allowed(self, allowed: Iterable[str] | None) -> None:
        """None keeps the current setting; an empty list restores the default."""
        if allowed is None:
            return
        kinds = frozenset(allowed)
        self._allowed = kinds or None

    # ----------------------------------------------------------------------- consuming updates --

    @property
    def pending(self) -> list[PendingUpdate]:
        return list(self._pending)

    def is_pending(self, update_id: int) -> bool:
        return any(u.update_id == update_id for u in self._pending)

    def confirm(self, offset: int) -> None:
        """Forget updates below ``offset`` (positive) or all but the last ``-offset``."""
        before = len(self._pending)
        if offset > 0:
            self._pending = [u for u in self._pending if u.update_id >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        if len(self._pending) != before:
            self._signal.notify()

    def confirm_one(self, update_id: int) -> None:
        self._pending = [u for u in self._pending if u.update_id != update_id]
        self._signal.notify()

    def drop_all(self) -> None:
        self._pending.clear()
        self._signal.notify()

    def close(self) -> None:
        """Release every long poll with an empty answer (the server is shutting down)."""
        self._closed = True
        self._signal.notify()

    def end_long_poll_for_webhook(self) -> None:
        """setWebhook: a waiting getUpdates ends with 409 "terminated by setWebhook request"."""
        self._poll_generation += 1
        self._terminated_by = TERMINATED_BY_SET_WEBHOOK
        self._signal.notify()

    def reopen(self) -> None:
        self._closed = False

    @property
    def closed(self) -> bool:
        """True between ``close()`` and ``reopen()``: long polls should not wait."""
        return self._closed

    async def get_updates(
        self,
        offset: int,
        limit: int,
        timeout: float,  # noqa: ASYNC109
    ) -> list[JsonDict]:
        """One getUpdates call; raises ApiError(409) when a newer call supersedes it."""
        self._poll_generation += 1
        self._terminated_by = TERMINATED_BY_OTHER_POLL
        generation = self._poll_generation
        self._signal.notify()  # wake an older poll so it can notice it was superseded
        self.confirm(offset)
        limit = min(max(limit, 1), 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(timeout, 0.0), MAX_LONG_POLL_S)
        while True:
            if generation != self._poll_generation:
                raise conflict(self._terminated_by)
            if self._pending or self._closed:
                return [u.to_api() for u in self._pending[:limit]]
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            await self._signal.wait(remaining)
