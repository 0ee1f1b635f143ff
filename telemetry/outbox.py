"""The outbox as gauges: messages per kind and status (pending, sending, sent, failed, ...).

A custom collector: the counts come from one ``GROUP BY`` on the database, read at most every
``max_age_s`` seconds however often Prometheus (or several) scrapes, and before the text is
made (``refresh``, async) because a collector's ``collect`` cannot wait for the database.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from models.db import Database
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage

log = logging.getLogger(__name__)

MAX_AGE_S = 5.0
_COUNTS = select(OutboxMessage.kind, OutboxMessage.status, func.count()).group_by(
    OutboxMessage.kind, OutboxMessage.status
)


class OutboxCounts(Collector):
    def __init__(
        self,
        database: Database,
        *,
        max_age_s: float = MAX_AGE_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.max_age_s = max_age_s
        self._monotonic = monotonic
        self._counts: dict[tuple[str, str], int] | None = None
        self._read_at = -float("inf")
        self._reading = asyncio.Lock()
        self.reads = 0  # how often the database was asked (tests)

    async def refresh(self) -> None:
        """Read the counts again if the last read is older than ``max_age_s``; a database that
        does not answer leaves the last counts (or none) and the rest of /metrics served."""
        async with self._reading:  # scrapes at the same moment share one read
            if self._monotonic() - self._read_at < self.max_age_s:
                return
            try:
                async with self.database.read() as session:
                    rows = (await session.execute(_COUNTS)).all()
            except Exception as error:  # monitoring must not fail on a database hiccup
                log.warning("metrics: could not count the outbox: %s", type(error).__name__)
                return
            self.reads += 1
            self._read_at = self._monotonic()
            self._counts = {(str(kind), str(status)): int(n) for kind, status, n in rows}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self._counts is None:
            return
        family = GaugeMetricFamily(
            "buurtagenda_outbox_messages",
            "Outbox messages by kind and status (pending: waiting for their time or their turn)",
            labels=["kind", "status"],
        )
        for kind in NotificationKind:
            for status in DeliveryStatus:
                count = self._counts.get((kind.value, status.value), 0)
                family.add_metric([kind.value, status.value], count)
        yield family

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())  # nothing to read at registration: counts come at the first scrape


__all__ = ["MAX_AGE_S", "OutboxCounts"]
