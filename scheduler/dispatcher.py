"""Where every notification is sent: the outbox dispatcher.

APScheduler wakes ``Dispatcher.dispatch_due`` at the next due time (after a commit that wrote
outbox rows, see ``Database.on_outbox_commit``) and every ``sweep_seconds`` as a safety net. The
database is the only record: the job store holds nothing but "look again at T".

One round: *claim* due rows (PENDING → SENDING, committed; ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so dispatchers never take the same row), *send* each through ``Delivery``, and
*record* the outcome of each message in its own transaction right after its send.

A claimed row carries a *lease*: who claimed it (``models.process.instance_id()``) and until
when (``lease_s`` on the service's clock). While a round runs it renews its leases every
``lease_s / 3``. Only a row whose lease ran out (its instance died, or lost its database) is
claimed again, by whichever dispatcher runs then; a row another live instance is sending is
never taken. On PostgreSQL an outbox write wakes the dispatcher of every instance through
NOTIFY (``Database.start_listening``), not only of the instance that wrote it.

Delivery semantics:
- Nothing is lost: a row leaves the outbox only as SENT, SKIPPED (no longer useful: the event
  began, the member left or blocked the bot) or FAILED (Telegram refused it for good, or it kept
  failing), always with the reason in ``last_error``.
- Nobody gets the same notification twice, except in one window: a crash after Telegram accepted
  a message and before its SENT was committed. Rows of a dead instance are sent again once
  their lease ran out (on SQLite, where one process is all there is, at start), so a crash
  repeats at most the messages in flight at that moment: at most ``max_in_flight`` (4).
- Network errors and 5xx are retried with exponential backoff (2 s, 4 s, … up to 10 min; FAILED
  after ``max_attempts``). A 429 pauses *all* sending for its ``retry_after``; the rows it
  hands back keep their attempt count (they were not tried). A 403 (the member
  blocked the bot) marks the member unreachable and skips everything still pending for them.
- What came due while the service was down goes out at start if still useful (before the event)
  and is marked SKIPPED otherwise.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from models.clock import Clock
from models.db import Database
from models.events.entities import Event
from models.members.entities import Member
from models.outbox.delivery import (
    Blocked,
    Delivery,
    DeliveryError,
    NotNeeded,
    RateLimited,
    Transient,
)
from models.outbox.entities import DeliveryStatus, NotificationKind, OutboxMessage
from models.process import instance_id
from telemetry.metrics import observe_dispatch_lateness

log = logging.getLogger(__name__)

WAKE_JOB = "outbox-dispatch"
SWEEP_JOB = "outbox-sweep"
K = NotificationKind
# Until when a notification is worth sending, counted from the event's start (None: its own due).
_USEFUL_UNTIL_START = {
    K.SEAT_OFFERED,
    K.SEAT_AVAILABLE,
    K.OFFER_EXPIRED,
    K.PROMOTED,
    K.REMOVED,
    K.EVENT_CHANGED,
    K.EVENT_CANCELLED,
    K.REMINDER,
}
_USEFUL_AFTER_DUE = {
    K.DIGEST: timedelta(days=1),
    K.FEEDBACK_REQUEST: timedelta(days=3),
    K.BROADCAST: timedelta(days=2),
    K.PROPOSAL_DECIDED: timedelta(days=7),
    K.IDEA_PLANNED: timedelta(days=7),
    K.NEW_EVENTS: timedelta(days=2),
}


@dataclass(frozen=True)
class DispatcherSettings:
    batch_size: int = 50
    max_in_flight: int = 4
    rate_per_s: float = 25.0
    sweep_seconds: int = 30
    max_attempts: int = 8
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 600.0
    lease_s: float = 30.0  # a claim lasts this long unless renewed (every lease_s / 3)


@dataclass
class RoundReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    paused_for: float = 0.0


class Dispatcher:
    def __init__(
        self,
        database: Database,
        delivery: Delivery,
        clock: Clock,
        settings: DispatcherSettings | None = None,
        scheduler: AsyncIOScheduler | None = None,
        instance: str | None = None,
    ) -> None:
        self.instance = instance or instance_id()
        self.database = database
        self.delivery = delivery
        self.clock = clock
        self.settings = settings or DispatcherSettings()
        self.scheduler = scheduler
        self.paused_until: datetime | None = None
        self.lock = asyncio.Lock()  # one round at a time in this process
        self.stopping = False
        self._pace = _Pace(self.settings.rate_per_s)

    # --- wiring into APScheduler ---------------------------------------------------------------

    def start(self) -> None:
        """Sweep periodically, wake on new rows (of any instance), and do a first round now.
        After ``stop`` it may be started again (leadership regained)."""
        assert self.scheduler is not None
        self.stopping = False
        self.scheduler.add_job(
            self._sweep_job,
            "interval",
            seconds=self.settings.sweep_seconds,
            id=SWEEP_JOB,
            replace_existing=True,
            coalesce=True,
            # A sweep during a long round (a broadcast) returns at once (``_sweep_job``); with
            # max_instances=1 APScheduler would skip it with a warning every sweep instead.
            max_instances=2,
        )
        self.database.off_outbox_commit(self.wake)
        self.database.on_outbox_commit(self.wake)
        self.wake(self.clock())

    def stop(self) -> None:
        """The service is stopping (or this instance no longer leads): a round finishes the
        sends in flight (at most ``max_in_flight``), hands the rest of its claim back as
        PENDING and ends; no round claims anything after this. What is pending goes out at the
        next start, or at once on the instance that leads now."""
        self.stopping = True
        self.database.off_outbox_commit(self.wake)
        if self.scheduler is not None:
            for job_id in (WAKE_JOB, SWEEP_JOB):
                if self.scheduler.get_job(job_id) is not None:
                    self.scheduler.remove_job(job_id)

    def wake(self, due: datetime) -> None:
        """Make sure a round runs at ``due`` (or at the end of a 429 pause)."""
        if self.scheduler is None or not self.scheduler.running or self.stopping:
            return
        if self.paused_until is not None and due < self.paused_until:
            due = self.paused_until
        job = self.scheduler.get_job(WAKE_JOB)
        if job is not None and job.next_run_time is not None and job.next_run_time <= due:
            return
        self.scheduler.add_job(
            self._round_job,
            "date",
            run_date=due,
            id=WAKE_JOB,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            # A round arranges its own next wake just before it ends. When that time has come
            # by the time APScheduler looks, the ending round still counts as a running
            # instance: with max_instances=1 the wake-up would be skipped (and, being a date
            # job, dropped) until the next sweep. ``self.lock`` keeps rounds one at a time.
            max_instances=2,
        )

    async def _sweep_job(self) -> None:
        """The safety net: a round, unless one is running (it arranges the next wake itself)."""
        if self.lock.locked():
            return
        await self._round_job()

    async def _round_job(self) -> None:
        try:
            await self.dispatch_due()
        except Exception:  # a round must never take the scheduler down; the next sweep retries
            log.exception("outbox round failed")
        except asyncio.CancelledError:
            if not self.stopping:
                raise
            # The stop could not wait any longer (a send stuck behind a long 429 pause): the
            # rows this round held stay SENDING and go out again at the next start (recover).
            log.warning("outbox round cut short by the stop; its messages go out at next start")

    # --- the work ---------------------------------------------------------------------------------

    async def recover(self) -> int:
        """At start: rows whose sender died go out again (the documented window). Only rows
        whose lease ran out: another instance may be sending the rest right now. On SQLite
        there is one process, so whatever is SENDING was left by a crash: all of them."""
        stale = OutboxMessage.status == DeliveryStatus.SENDING
        if not self.database.is_sqlite:
            stale = and_(stale, self._lease_expired(self.clock()))
        async with self.database.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(stale)
                .values(status=DeliveryStatus.PENDING, claimed_by=None, lease_until=None)
            )
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if count:
            log.warning(
                "%d notifications were in flight when their sender stopped; sending them again",
                count,
            )
        return count

    @staticmethod
    def _lease_expired(now: datetime) -> ColumnElement[bool]:
        return or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now)

    async def renew_leases(self) -> int:
        """Hold on to the rows this instance is sending: their lease runs ``lease_s`` from now."""
        async with self.database.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.status == DeliveryStatus.SENDING,
                    OutboxMessage.claimed_by == self.instance,
                )
                .values(lease_until=self._lease_end())
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def _lease_end(self) -> datetime:
        return self.clock() + timedelta(seconds=self.settings.lease_s)

    async def _hold_leases(self) -> None:
        """While a round runs: renew its leases every third of their length."""
        while True:
            await asyncio.sleep(self.settings.lease_s / 3)
            try:
                await self.renew_leases()
            except Exception:  # the database is away: the next renewal may work
                log.exception("could not renew the outbox leases")

    async def dispatch_due(self) -> RoundReport:
        """Send everything that is due now; then arrange to wake at the next due time."""
        report = RoundReport()
        async with self.lock:
            holding = asyncio.create_task(self._hold_leases())
            try:
                while not self.stopping:
                    now = self.clock()
                    if self.paused_until is not None and now < self.paused_until:
                        break
                    skipped_before = report.skipped
                    claimed = await self._claim(now, report)
                    if not claimed and report.skipped == skipped_before:
                        break  # nothing due (all skipped: look at the next ones)
                    if claimed:
                        await self._send_all(claimed, report)
                    if report.paused_for:
                        break
            finally:
                holding.cancel()
            if not self.stopping:
                await self._arrange_next_wake()
        return report

    async def _claim(self, now: datetime, report: RoundReport) -> list[int]:
        """Due PENDING rows, and SENDING rows whose lease ran out (their sender died)."""
        async with self.database.transaction() as session:
            query = (
                select(OutboxMessage)
                .where(
                    or_(
                        and_(
                            OutboxMessage.status == DeliveryStatus.PENDING,
                            OutboxMessage.due_at <= now,
                        ),
                        and_(
                            OutboxMessage.status == DeliveryStatus.SENDING,
                            self._lease_expired(now),
                        ),
                    )
                )
                .order_by(OutboxMessage.due_at, OutboxMessage.id)
                .limit(self.settings.batch_size)
            )
            if not self.database.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = (await session.scalars(query)).all()
            events = await _events_of(session, rows)
            members = await _members_of(session, rows)
            claimed = []
            lease_until = self._lease_end()
            for row in rows:
                reason = _why_not_useful(
                    row, events.get(row.event_id), members.get(row.member_id), now
                )
                if reason:
                    row.status, row.last_error = DeliveryStatus.SKIPPED, reason
                    row.claimed_by = row.lease_until = None
                    report.skipped += 1
                else:
                    row.status = DeliveryStatus.SENDING
                    row.claimed_by, row.lease_until = self.instance, lease_until
                    row.attempts += 1
                    claimed.append(row.id)
        return claimed

    async def _send_all(self, claimed: list[int], report: RoundReport) -> None:
        gate = asyncio.Semaphore(self.settings.max_in_flight)

        async def one(message_id: int) -> None:
            async with gate:
                if self.stopping:
                    await self._release(message_id, undo_attempt=True)
                    return
                if report.paused_for:  # not tried: the attempt is not used up
                    await self._release(message_id, undo_attempt=True)
                    return
                await self._pace.wait()
                await self._send_one(message_id, report)

        # A task group, not gather: if one send dies (the process is stopping), the others are
        # cancelled with it instead of going on sending on their own.
        async with asyncio.TaskGroup() as group:
            for message_id in claimed:
                group.create_task(one(message_id))

    async def _send_one(self, message_id: int, report: RoundReport) -> None:
        async with self.database.read() as session:
            message = await session.get(OutboxMessage, message_id)
            if (
                message is None
                or message.status is not DeliveryStatus.SENDING
                or message.claimed_by != self.instance  # its lease ran out and was taken
            ):
                return
            member = await session.get(Member, message.member_id) if message.member_id else None
            if member is None:
                await self._finish(message_id, DeliveryStatus.SKIPPED, "member gone")
                report.skipped += 1
                return
            try:
                telegram_id = await self.delivery.deliver(session, message, member)
            except Blocked:
                await self._blocked(message_id, member.id)
                report.failed += 1
            except RateLimited as error:
                self._pause(error.retry_after, report)
                await self._release(message_id, retry_at=self.paused_until, undo_attempt=True)
            except NotNeeded as error:
                await self._finish(message_id, DeliveryStatus.SKIPPED, str(error)[:500])
                report.skipped += 1
            except Transient as error:
                await self._retry_or_fail(message_id, message.attempts, str(error), report)
            except DeliveryError as error:
                await self._finish(message_id, DeliveryStatus.FAILED, str(error)[:500])
                report.failed += 1
            except Exception as error:  # a bug in rendering, say: retry later, never stick
                log.exception("outbox message %s could not be sent", message_id)
                await self._retry_or_fail(
                    message_id, message.attempts, f"{type(error).__name__}: {error}", report
                )
            else:
                observe_dispatch_lateness(self.clock() - message.due_at)
                await self._finish(message_id, DeliveryStatus.SENT, None, telegram_id)
                report.sent += 1

    def _pause(self, retry_after: float, report: RoundReport) -> None:
        until = self.clock() + timedelta(seconds=retry_after)
        if self.paused_until is None or until > self.paused_until:
            self.paused_until = until
        report.paused_for = max(report.paused_for, retry_after)
        log.warning("Telegram asked us to wait %.0f s; all sending paused", retry_after)

    async def _finish(
        self,
        message_id: int,
        status: DeliveryStatus,
        error: str | None,
        telegram_message_id: int | None = None,
    ) -> None:
        async with self.database.transaction() as session:
            message = await session.get(OutboxMessage, message_id)
            if message is None:
                return
            message.status = status
            message.last_error = error
            message.claimed_by = message.lease_until = None
            if status is DeliveryStatus.SENT:
                message.sent_at = self.clock()
                message.telegram_message_id = telegram_message_id

    async def _release(
        self, message_id: int, retry_at: datetime | None = None, undo_attempt: bool = False
    ) -> None:
        async with self.database.transaction() as session:
            message = await session.get(OutboxMessage, message_id)
            if (
                message is None
                or message.status is not DeliveryStatus.SENDING
                or message.claimed_by != self.instance
            ):
                return
            message.status = DeliveryStatus.PENDING
            message.claimed_by = message.lease_until = None
            if retry_at is not None:
                message.due_at = max(message.due_at, retry_at)
            if undo_attempt:
                message.attempts = max(0, message.attempts - 1)

    async def _retry_or_fail(
        self, message_id: int, attempts: int, error: str, report: RoundReport
    ) -> None:
        if attempts >= self.settings.max_attempts:
            await self._finish(message_id, DeliveryStatus.FAILED, f"gave up: {error}"[:500])
            report.failed += 1
            return
        delay = min(self.settings.backoff_cap_s, self.settings.backoff_base_s * 2 ** (attempts - 1))
        async with self.database.transaction() as session:
            message = await session.get(OutboxMessage, message_id)
            if message is not None:
                message.status = DeliveryStatus.PENDING
                message.claimed_by = message.lease_until = None
                message.due_at = self.clock() + timedelta(seconds=delay)
                message.last_error = error[:500]
        report.retried += 1

    async def _blocked(self, message_id: int, member_id: int) -> None:
        async with self.database.transaction() as session:
            member = await session.get(Member, member_id)
            if member is not None:
                member.reachable = False
            message = await session.get(OutboxMessage, message_id)
            if message is not None:
                message.status, message.last_error = DeliveryStatus.FAILED, "blocked by the member"
                message.claimed_by = message.lease_until = None
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.member_id == member_id,
                    OutboxMessage.status == DeliveryStatus.PENDING,
                )
                .values(status=DeliveryStatus.SKIPPED, last_error="member unreachable")
            )
        log.info("member %s blocked the bot; marked unreachable", member_id)

    async def _arrange_next_wake(self) -> None:
        """At the next due time, or when another instance's lease runs out (if it died, its
        rows are ours to send then)."""
        async with self.database.read() as session:
            next_due = await session.scalar(
                select(
                    func.min(
                        case(
                            (OutboxMessage.status == DeliveryStatus.PENDING, OutboxMessage.due_at),
                            else_=OutboxMessage.lease_until,
                        )
                    )
                ).where(OutboxMessage.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]))
            )
        if next_due is not None:
            # What is due now and still here could not be claimed (locked by another
            # dispatcher a moment ago): look again in a second, not in a loop.
            self.wake(max(next_due, self.clock() + timedelta(seconds=1)))


def _why_not_useful(
    message: OutboxMessage, event: Event | None, member: Member | None, now: datetime
) -> str | None:
    if message.member_id is None or member is None:
        return "member gone"
    if not member.reachable:
        return "member unreachable"
    if message.kind in _USEFUL_UNTIL_START and event is not None and now >= event.starts_at:
        return "too late: the event has begun"
    window = _USEFUL_AFTER_DUE.get(message.kind)
    if window is not None and now > message.due_at + window:
        return "too late"
    return None


async def _events_of(
    session: AsyncSession, rows: Sequence[OutboxMessage]
) -> dict[int | None, Event]:
    ids = {row.event_id for row in rows if row.event_id is not None}
    if not ids:
        return {}
    return {e.id: e for e in (await session.scalars(select(Event).where(Event.id.in_(ids)))).all()}


async def _members_of(
    session: AsyncSession, rows: Sequence[OutboxMessage]
) -> dict[int | None, Member]:
    ids = {row.member_id for row in rows if row.member_id is not None}
    if not ids:
        return {}
    return {
        m.id: m for m in (await session.scalars(select(Member).where(Member.id.in_(ids)))).all()
    }


class _Pace:
    """At most ``rate`` sends per second, evenly spaced (Telegram's limit is about 30/s)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)
