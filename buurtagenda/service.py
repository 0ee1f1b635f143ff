"""The running service: one process, one event loop, holding the database, the scheduler, the
HTTP server and the Telegram bot.

Start order matters: migrations and reference data first, so nothing ever sees an old schema;
then the scheduler; then HTTP; then the bot (in the sandbox the bot talks to the Bot API emulator
served by our own HTTP server, so that must be up first). Stop in reverse.

Without ``telegram.token`` the service runs as a sandbox: the Bot API emulator is mounted in the
HTTP server, a demo programme is loaded, and ``/sandbox`` lets anyone try the bot in a browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from starlette.applications import Starlette
from starlette.types import ASGIApp
from telegram.ext import Application

from bot.app import POLL_INTERVAL_S, build_application
from bot.callbacks import CallbackSigner
from bot.context import BotDeps
from bot.handlers.broadcasts import PROGRESS_KEY, BroadcastProgress
from bot.notifications import TelegramDelivery
from bot.ratelimit import SendRates
from buurtagenda.config import Config, parse_duration
from buurtagenda.redaction import hide_secrets
from emulator import TelegramEmulator
from emulator.server import KEEP_ALIVE_S
from models import migrations
from models.clock import Clock, system_clock
from models.db import Database
from models.events.demo import load_demo_programme
from models.events.uids import assign_legacy_uids
from models.members.entities import Language
from models.members.operations import member_by_telegram_id, set_language
from models.networks.reference import load_reference_data
from models.registrations.policy import RegistrationPolicy
from models.reminders.policy import Offset, ReminderPolicy
from models.send_budget import SharedSendBudget
from scheduler.dispatcher import Dispatcher, DispatcherSettings
from scheduler.executor import DrainingExecutor
from scheduler.jobs import schedule_domain_jobs
from web.app import create_app
from web.export import schedule_export_job

log = logging.getLogger(__name__)

# The emulated bot's name, for getMe only: no link ever points at it (anyone could register it on
# Telegram); in the sandbox, start links open the sandbox page instead (calendars/links.py).
SANDBOX_BOT_USERNAME = "buurtagenda_sandbox_bot"
# How long a stop waits for running jobs: sends in flight end within their timeouts, unless
# one waits out a long 429 pause (it is then sent again at the next start).
STOP_JOBS_TIMEOUT_S = 20.0


class EmbeddedServer(uvicorn.Server):
    """uvicorn inside our event loop, leaving signals to the service.

    uvicorn's own handling re-raises SIGTERM once it has stopped, which would end the process
    before the scheduler and the bot are shut down; the service stops everything in order instead.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


def http_server_config(
    app: ASGIApp, *, host: str, port: int, keep_alive_s: int = 5
) -> uvicorn.Config:
    """How the service runs uvicorn: no access log (the service logs what matters), no lifespan
    (the service starts and stops everything itself), and no ``Server: uvicorn`` banner (it
    tells a scanner which server and so which bugs, and a client nothing it needs)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        # uvicorn's loggers go through ours (and its redaction) rather than its own handlers.
        log_config=None,
        access_log=False,
        lifespan="off",
        server_header=False,
        timeout_keep_alive=keep_alive_s,
    )


def registration_policy(config: Config) -> RegistrationPolicy:
    quiet_start, quiet_end = config.reminders.quiet_hours
    return RegistrationPolicy(
        max_party_size=config.registration.max_party_size,
        offer_window=parse_duration(config.registration.offer_window),
        last_call=parse_duration(config.registration.last_call),
        reminders=ReminderPolicy(
            offsets=tuple(Offset.parse(o) for o in config.reminders.offsets),
            quiet_start=quiet_start,
            quiet_end=quiet_end,
            tz=config.tz,
        ),
    )


async def prepare_database(database: Database, *, public_url: str) -> None:
    """Apply migrations, load the reference data and give events from before stored UIDs their
    old feed UID (at ``public_url``'s host, as the feeds have known them); all safe to repeat."""
    await migrations.upgrade(database)
    async with database.transaction() as session:
        report = await load_reference_data(session)
        kept = await assign_legacy_uids(session, public_url=public_url)
    if kept:
        log.info("calendar feeds: %d events keep their UID", kept)
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
    emulator: TelegramEmulator | None = field(init=False, default=None)
    bot: Application | None = field(init=False, default=None)  # type: ignore[type-arg]
    dispatcher: Dispatcher | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.database = Database(self.config.database.url)
        hide_secrets(self.config)
        self.executor = DrainingExecutor()
        self.scheduler = AsyncIOScheduler(
            timezone=self.config.timezone, executors={"default": self.executor}
        )
        self.policy = registration_policy(self.config)
        if self.sandbox:
            self.emulator = TelegramEmulator(bot_username=SANDBOX_BOT_USERNAME)
        self._server: EmbeddedServer | None = None
        self._server_task: asyncio.Task[None] | None = None

    @property
    def sandbox(self) -> bool:
        return not self.config.telegram.token

    @property
    def local_url(self) -> str:
        host = self.config.http.host
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        return f"http://{host}:{self.config.http.port}"

    async def start(self) -> None:
        await prepare_database(self.database, public_url=self.config.http.public_url)
        # PostgreSQL: hear the other instances' commits (member changes, new outbox rows);
        # every instance listens, leader or not. Nothing to do on SQLite.
        await self.database.start_listening()
        if self.sandbox:
            async with self.database.transaction() as session:
                report = await load_demo_programme(session, now=self.clock(), tz=self.config.tz)
            log.info("sandbox: demo programme (%d events added)", report.created)
        schedule_domain_jobs(self.scheduler, self.database, self.clock, self.policy)
        schedule_export_job(
            self.scheduler,
            self.database,
            directory=self.config.export.directory,
            clock=self.clock,
            public_url=self.config.http.public_url,
            bot_username=self.bot_username,
            timezone=self.config.timezone,
            sandbox=self.sandbox,
        )
        self.scheduler.start()
        await self._start_http()
        await self._start_bot()
        await self._start_dispatcher()

    async def stop(self) -> None:
        await self._stop_scheduler()
        if self.bot is not None:
            await self._stop_bot(self.bot)
        if self.emulator is not None:
            await self.emulator.aclose()
        if self._server is not None and self._server_task is not None:
            self._server.should_exit = True
            await self._server_task
        await self.database.dispose()

    async def _stop_scheduler(self) -> None:
        """No job starts any more; the running ones end on their own (a dispatcher round
        after its sends in flight), before the bot they send through stops. APScheduler's
        shutdown alone would cancel them mid-send."""
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        if self.dispatcher is not None:
            self.dispatcher.stop()
        await self.executor.finish_running(timeout_s=STOP_JOBS_TIMEOUT_S)
        self.scheduler.shutdown(wait=False)  # cancels what still runs after the timeout

    def bot_username(self) -> str | None:
        """Known once the bot has asked Telegram who it is (getMe); None until then."""
        if self.bot is None:
            return None
        try:
            username: str = self.bot.bot.username
        except RuntimeError:  # PTB raises before initialize() has called getMe
            return None
        return username

    def http_app(self) -> Starlette:
        app = create_app(
            self.database,
            lambda: bool(self.scheduler.running),
            clock=self.clock,
            public_url=self.config.http.public_url,
            bot_username=self.bot_username,
            timezone=self.config.timezone,
            sandbox=self.sandbox,
        )
        if self.emulator is not None:
            from emulator.sandbox import sandbox_routes

            for route in sandbox_routes(self.emulator, set_bot_language=self._set_bot_language):
                app.router.routes.append(route)
            # The emulator answers what no route knows (the Bot API's /bot<token>/...). As the
            # router's default, not a catch-all Mount: a wrong method on a known path still gets
            # its 405 with Allow, where a Mount would have taken it to the emulator.
            app.router.default = self.emulator.app
        return app

    async def _set_bot_language(self, telegram_ids: Sequence[int], language: str) -> None:
        """The sandbox's language switch: the demo volunteers who talked to the bot already get
        their language changed as in /instellingen; newcomers take it from their Telegram."""
        async with self.database.transaction() as session:
            for telegram_id in telegram_ids:
                member = await member_by_telegram_id(session, telegram_id)
                if member is not None:
                    await set_language(session, member_id=member.id, language=Language(language))

    async def _start_http(self) -> None:
        config = http_server_config(
            self.http_app(),
            host=self.config.http.host,
            port=self.config.http.port,
            # The sandbox's bot talks to the emulator here (see emulator/server.py); otherwise
            # uvicorn's own 5 s.
            keep_alive_s=KEEP_ALIVE_S if self.emulator is not None else 5,
        )
        self._server = EmbeddedServer(config)
        self._server_task = asyncio.create_task(self._server.serve())
        ready = asyncio.create_task(self._server.ready.wait())
        done, _ = await asyncio.wait({ready, self._server_task}, return_when="FIRST_COMPLETED")
        if ready not in done:
            ready.cancel()
            await self._server_task  # raises why it could not start (port taken, ...)
            raise RuntimeError(f"the HTTP server did not start on {self.local_url}")

    def bot_deps(self) -> BotDeps:
        token = self.config.telegram.token or (self.emulator.token if self.emulator else "")
        return BotDeps(
            database=self.database,
            clock=self.clock,
            policy=self.policy,
            signer=CallbackSigner(token),
            admins=self.config.admins,
            default_language=self.config.default_language,
            timezone=self.config.timezone,
            public_url=self.config.http.public_url,
            sandbox=self.sandbox,
        )

    async def _start_bot(self) -> None:
        if self.emulator is not None:
            token, base_url = self.emulator.token, self.local_url
            self.emulator.add_demo_users()
        else:
            token, base_url = self.config.telegram.token, self.config.telegram.api_base_url
        # The outbox's bulk sends at the configured rate; replies to people go first.
        rates = SendRates(bulk_per_s=self.config.delivery.rate_per_s)
        # Several instances share one token, so on PostgreSQL they share one budget.
        shared = None if self.database.is_sqlite else SharedSendBudget(self.config.database.url)
        self.bot = build_application(
            self.bot_deps(), token=token, base_url=base_url, rates=rates, send_budget=shared
        )
        await self.bot.initialize()
        await self.bot.start()
        assert self.bot.updater is not None
        await self.bot.updater.start_polling(
            poll_interval=POLL_INTERVAL_S, timeout=20, drop_pending_updates=False
        )
        log.info("bot @%s is listening", self.bot.bot.username)

    async def _start_dispatcher(self) -> None:
        assert self.bot is not None
        delivery = TelegramDelivery(self.bot.bot, self.bot_deps().signer, self.config.timezone)
        settings = DispatcherSettings(
            # The bot's rate limiter paces the outbox at delivery.rate_per_s (bulk, behind
            # replies); pacing here too would only lose time after every pause.
            rate_per_s=0,
            max_attempts=self.config.delivery.max_attempts,
        )
        self.dispatcher = Dispatcher(
            self.database, delivery, self.clock, settings=settings, scheduler=self.scheduler
        )
        await self.dispatcher.recover()
        self.dispatcher.start()
        # Live progress of broadcasts (every 3 s while one is sending), resumed after a restart.
        progress = BroadcastProgress(
            self.database,
            self.bot.bot,
            self.bot_deps().signer,
            self.clock,
            scheduler=self.scheduler,
            timezone=self.config.timezone,
        )
        self.bot.bot_data[PROGRESS_KEY] = progress
        progress.start()

    @staticmethod
    async def _stop_bot(bot: Application) -> None:  # type: ignore[type-arg]
        if bot.updater is not None and bot.updater.running:
            await bot.updater.stop()
        if bot.running:
            await bot.stop()
        await bot.shutdown()

    async def run(self) -> None:
        """Serve until SIGINT or SIGTERM, then stop everything in reverse order."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            await self.start()
            where = f"{self.config.http.public_url}/sandbox" if self.sandbox else "Telegram"
            log.info(
                "Buurtagenda is running: %s (health: %s/healthz)",
                where,
                self.config.http.public_url,
            )
            waiter = asyncio.create_task(stop.wait())
            assert self._server_task is not None
            await asyncio.wait({waiter, self._server_task}, return_when="FIRST_COMPLETED")
            waiter.cancel()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
            await self.stop()
            log.info("stopped")


__all__ = [
    "EmbeddedServer",
    "Service",
    "http_server_config",
    "prepare_database",
    "registration_policy",
]
