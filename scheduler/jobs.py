"""Periodic work the domain asks for: offers that lapse, fair-share seats that are released.

APScheduler only decides *when* to look; what is due is always read from the database, so a job
store holds nothing the database does not, and a restart loses nothing.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from models.clock import Clock
from models.db import Database
from models.registrations import operations as registrations
from models.registrations.policy import RegistrationPolicy

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60


async def sweep_waitlists(database: Database, clock: Clock, policy: RegistrationPolicy) -> int:
    """Expire lapsed offers and release fair-share seats; returns the notifications written."""
    async with database.transaction() as session:
        now = clock()
        written = await registrations.expire_offers(session, now=now, policy=policy)
        written += await registrations.release_fair_share(session, now=now, policy=policy)
    if written:
        log.info("waitlist sweep wrote %d notifications", len(written))
    return len(written)


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
