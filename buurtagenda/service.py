"""The running service: one process, one event loop, holding the database, the scheduler and the
HTTP server (and, from the bot issue on, the Telegram bot).

Start order matters: migrations and reference data first, so nothing ever sees an old schema;
then the scheduler; then HTTP. Stop in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Generator
from dataclasses import dataclass, field

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from buurtagenda.config import Config, parse_duration
from models import migrations
from models.clock import Clock, system_clock
from models.db import Database
from models.networks.reference import load_reference_data
from models.registrations.policy import RegistrationPolicy
from scheduler.jobs import schedule_domain_jobs
from web.app import create_app

log = logging.getLogger(__name__)


class EmbeddedServer(uvicorn.Server):
    """uvicorn inside our event loop, leaving signals to the service.

    uvicorn's own handling re-raises SIGTERM once it has stopped, which would end the process
    before the scheduler and the bot are shut down; the service stops everything in order instead.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def registration_policy(config: Config) -> RegistrationPolicy:
    return RegistrationPolicy(
        max_party_size=config.registration.max_party_size,
        offer_window=parse_duration(config.registration.offer_window),
        last_call=parse_duration(config.registration.last_call),
    )


async def prepare_database(database: Database) -> None:
    """Apply migrations and load the reference data; both are safe to repeat."""
    await migrations.upgrade(database)
    async with database.transaction() as session:
        report = await load_reference_data(session)
    if report.changed:
        log.info(
            "reference data: %d buurten, %d networks added",
            report.buurten_added,
            report.networks_added,
        )


@dataclass
class Service:
    config: Config
    clock: Clock = system_clock
    database: Database = field(init=False)
    scheduler: AsyncIOScheduler = field(init=False)

    def __post_init__(self) -> None:
        self.database = Database(self.config.database.url)
        self.scheduler = AsyncIOScheduler(timezone=self.config.timezone)
        self.policy = registration_policy(self.config)

    async def start(self) -> None:
        await prepare_database(self.database)
        schedule_domain_jobs(self.scheduler, self.database, self.clock, self.policy)
        self.scheduler.start()

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.database.dispose()

    def http_server(self) -> uvicorn.Server:
        app = create_app(self.database, lambda: bool(self.scheduler.running))
        config = uvicorn.Config(
            app,
            host=self.config.http.host,
            port=self.config.http.port,
            log_level="info",
            access_log=False,
            lifespan="off",
        )
        return EmbeddedServer(config)

    async def run(self) -> None:
        """Serve until SIGINT or SIGTERM, then stop everything in reverse order."""
        await self.start()
        server = self.http_server()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
        try:
            log.info(
                "Buurtagenda on http://%s:%d (health: /healthz)",
                self.config.http.host,
                self.config.http.port,
            )
            await server.serve()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
            await self.stop()
            log.info("stopped")
