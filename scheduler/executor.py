"""APScheduler's asyncio executor, with a stop that lets the running jobs finish.

``AsyncIOScheduler.shutdown()`` cancels every job that is running, whatever it is doing: a
dispatcher round in the middle of a send (a CancelledError traceback in the log, and a message
Telegram may already have accepted sent again at the next start). The service instead pauses the
scheduler (no job starts any more), asks its long jobs to wind down (``Dispatcher.stop``), waits
here for the running ones to end, and only then shuts the scheduler down.
"""

from __future__ import annotations

import asyncio
import logging

from apscheduler.executors.asyncio import AsyncIOExecutor

log = logging.getLogger(__name__)


class DrainingExecutor(AsyncIOExecutor):  # type: ignore[misc]  # APScheduler is untyped
    """``AsyncIOExecutor`` that can wait until no job of it runs."""

    def running(self) -> list[asyncio.Future[object]]:
        # APScheduler 3 keeps the task of each running coroutine job here (what its shutdown
        # cancels); pinned in uv.lock.
        return [future for future in self._pending_futures if not future.done()]

    async def finish_running(self, timeout_s: float) -> bool:
        """Wait until the running jobs have ended, at most ``timeout_s``; True if they have."""
        running = self.running()
        if not running:
            return True
        _, pending = await asyncio.wait(running, timeout=timeout_s)
        if pending:
            log.warning(
                "%d scheduler jobs still running after %.0f s; stopping them",
                len(pending),
                timeout_s,
            )
        return not pending

    def cancel_running(self) -> int:
        """Cancel the jobs that still run (what ``AsyncIOScheduler.shutdown`` would do, without
        shutting the scheduler down); how many there were."""
        running = self.running()
        for future in running:
            future.cancel()
        return len(running)


__all__ = ["DrainingExecutor"]
