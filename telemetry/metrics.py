"""The process's metrics, in one registry (``REGISTRY``), and the calls that record them.

Names follow Prometheus' conventions: a ``buurtagenda_`` prefix, seconds as the unit, ``_total``
for counters (added by the client). Labels are few and bounded (an update's kind, a 429's
traffic), never a chat or a member.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

# What an update is, as a label: a typed message, a button tap, anything else.
UPDATE_KINDS = ("message", "callback_query", "other")

REGISTRY = CollectorRegistry()
# Memory, CPU, open files, the Python version and its garbage collector, as every Python
# exporter has them.
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

UPDATE_SECONDS = Histogram(
    "buurtagenda_update_handling_seconds",
    "Telegram updates handled (the _count) and how long each took, from its arrival at the "
    "application to its last handler",
    ["kind"],
    # A tap is some 10-30 ms; a reply to people should stay under a second.
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
DISPATCH_LATENESS_SECONDS = Histogram(
    "buurtagenda_dispatch_lateness_seconds",
    "How long after its due time an outbox message was sent (reminders, offers, broadcasts)",
    # A broadcast of 10,000 at 25/s takes 400 s; a reminder should go within seconds.
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
    registry=REGISTRY,
)
TELEGRAM_429 = Counter(
    "buurtagenda_telegram_429",
    "HTTP 429 (Too Many Requests) answers from the Bot API, by traffic: replies to people or "
    "the outbox's bulk sends",
    ["traffic"],
    registry=REGISTRY,
)
LEADER = Gauge(
    "buurtagenda_leader",
    "1 while this instance leads (runs the scheduler, the outbox and polling), 0 on a standby",
    registry=REGISTRY,
)
LEADER.set(1)  # one process (SQLite) always leads; the service says otherwise when it knows


def observe_update(kind: str, seconds: float) -> None:
    """One update handled (``kind``: one of ``UPDATE_KINDS``)."""
    UPDATE_SECONDS.labels(kind=kind if kind in UPDATE_KINDS else "other").observe(seconds)


def observe_dispatch_lateness(late: timedelta) -> None:
    """An outbox message went out ``late`` after its due time (early counts as on time)."""
    DISPATCH_LATENESS_SECONDS.observe(max(late.total_seconds(), 0.0))


def count_telegram_429(*, bulk: bool) -> None:
    TELEGRAM_429.labels(traffic="bulk" if bulk else "reply").inc()


def report_leadership(is_leader: Callable[[], bool]) -> None:
    """The leader gauge reads ``is_leader()`` at each scrape (the composition root knows)."""
    LEADER.set_function(lambda: 1.0 if is_leader() else 0.0)


# Every series exists from the start (at 0), so a rate() over them is defined before the first
# event and a dashboard shows 0 rather than "no data".
for _kind in UPDATE_KINDS:
    UPDATE_SECONDS.labels(kind=_kind)
for _traffic in ("reply", "bulk"):
    TELEGRAM_429.labels(traffic=_traffic)


__all__ = [
    "DISPATCH_LATENESS_SECONDS",
    "LEADER",
    "REGISTRY",
    "TELEGRAM_429",
    "UPDATE_KINDS",
    "UPDATE_SECONDS",
    "count_telegram_429",
    "observe_dispatch_lateness",
    "observe_update",
    "report_leadership",
]
