"""Periodic work the domain asks for: offers that lapse, fair-share seats that are released,
lapsed dialogs that are cleared, questions that wait too long for an answer.

APScheduler only decides *when* to look; what is due is always read from the database, so a job
store holds nothing the database does not, and a restart loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from models.clock import Clock
from models.db import Database
from models.dialogs import operations as dialogs
from models.questions import operations as questions
from models.registrations import operations as registrations
from models.registrations.policy import RegistrationPolicy
from models.reminders.digest import enqueue_digests

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60
DIALOG_SWEEP_SECONDS = 600
QUESTION_SWEEP_SECONDS = 300


async def sweep_waitlists(database: Database, clock: Clock, policy: RegistrationPolicy) -> int:
    """Expire lapsed offers and release fair-share seats; returns the notifications written."""
    async with database.transaction() as session:
        now = clock()
        written = await registrations.expire_offers(session, now=now, policy=policy)
        written += await registrations.release_fair_share(session, now=now, policy=policy)
    if written:
        log.info("waitlist sweep wrote %d notifications", len(written))
    return len(written)


async def sweep_dialogs(database: Database, clock: Clock) -> int:
    """Delete lapsed dialogs: what a member typed in a flow they left is not kept longer than
    needed (a lapsed dialog already counts as none; this only clears the rows)."""
    async with database.transaction() as session:
        return await dialogs.delete_expired(session, now=clock())


async def sweep_questions(database: Database, clock: Clock, policy: RegistrationPolicy) -> int:
    """Remind contact persons of questions waiting two working days, and tell the admins of
    those waiting four (``models/questions``); returns the notices written."""
    async with database.transaction() as session:
        written = await questions.remind_and_escalate(session, now=clock(), policy=policy.reminders)
    if written:
        log.info("question sweep wrote %d notifications", written)
    return written


async def weekly_digest(database: Database, clock: Clock, tz: ZoneInfo) -> int:
    async with database.transaction() as session:
        written = await enqueue_digests(session, now=clock(), tz=tz)
    log.info("weekly digest: %d members", written)
    return written


def schedule_domain_jobs(
    scheduler: AsyncIOScheduler, database: Database, clock: Clock, policy: RegistrationPolicy
) -> None:
    scheduler.add_job(
        sweep_waitlists,
        "interval",
        seconds=SWEEP_SECONDS,
        args=(database, clock, policy),
        id="sweep_waitlists",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        sweep_dialogs,
        "interval",
        seconds=DIALOG_SWEEP_SECONDS,
        args=(database, clock),
        id="sweep_dialogs",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    scheduler.add_job(
        sweep_questions,
        "interval",
        seconds=QUESTION_SWEEP_SECONDS,
        args=(database, clock, policy),
        id="sweep_questions",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    # Monday 09:00 local time; a digest missed while the service was down still goes out when
    # it is back the same day (the grace time), never twice (one per member per ISO week).
    scheduler.add_job(
        weekly_digest,
        "cron",
        day_of_week="mon",
        hour=9,
        minute=0,
        args=(database, clock, policy.reminders.tz),
        id="weekly_digest",
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=12 * 3600,
    )


def schedule_export(
    scheduler: AsyncIOScheduler, export: Callable[[], Awaitable[object]], *, seconds: int
) -> None:
    """The static export of the feeds and the page (``web/export.py``) every ``seconds``, the
    first run at once; one at a time, and missed runs are one run."""
    scheduler.add_job(
        export,
        "interval",
        seconds=seconds,
        id="export_public_files",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now().astimezone(),
    )


def schedule_broadcast_progress_sweep(
    scheduler: AsyncIOScheduler, wake: Callable[[], None], *, seconds: float
) -> None:
    """With several instances: a broadcast confirmed on another instance woke no progress
    message here, so the leader looks for one now and then (``wake``: the bot's progress)."""

    async def look_for_broadcasts() -> None:
        wake()

    scheduler.add_job(
        look_for_broadcasts,
        "interval",
        seconds=seconds,
        id="broadcast-progress-sweep",
        replace_existing=True,
        coalesce=True,
    )
