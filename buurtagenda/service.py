"""The running service: one process, one event loop, holding the database, the scheduler, the
HTTP server and the Telegram bot.

Start order matters: migrations and reference data first, so nothing ever sees an old schema;
then the scheduler; then HTTP; then the bot (in the sandbox the bot talks to the Bot API emulator
served by our own HTTP server, so that must be up first); then the bid for the lead. Stop in
reverse.

Several instances may share one PostgreSQL database (``models/leadership.py``). Every instance
serves HTTP (feeds, the page, /healthz) and has the bot ready to handle updates. Only the
leader runs what must run once, started in ``_lead`` and stopped in ``_stand_by``: the
scheduler's jobs (sweeps, digest, export, broadcast progress), the outbox dispatcher, the
command menus, and how updates arrive (``_start_receiving``: setWebhook or polling). On a
standby the scheduler runs paused and without jobs. On SQLite the one process always leads.

Without ``telegram.token`` the service runs as a sandbox: the Bot API emulator is mounted in the
HTTP server, a demo programme is loaded, and ``/sandbox`` lets anyone try the bot in a browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass, field

import uvicorn
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.types import ASGIApp
from telegram.error import TelegramError
from telegram.ext import Application

from bot.app import POLL_INTERVAL_S, build_application
from bot.callbacks import CallbackSigner
from bot.context import BotDeps
from bot.handlers.broadcasts import PROGRESS_KEY, BroadcastProgress
from bot.menus import publish_command_menus
from bot.notifications import TelegramDelivery
from bot.ratelimit import SendRates
from bot.updates import WebhookInbox, instance_name, use_polling, use_webhook
from buurtagenda.config import Config, parse_duration
from buurtagenda.redaction import hide_secrets
from emulator import TelegramEmulator
from emulator.server import KEEP_ALIVE_S
from models import migrations
from models.clock import Clock, system_clock
from models.db import Database
from models.events.demo import load_demo_programme
from models.events.uids import assign_legacy_uids
from models.leadership import Leadership, leadership_for
from models.locks import PREPARE_LOCK, exclusively
from models.members.entities import Language
from models.members.operations import member_by_telegram_id, set_language
from models.networks.reference import load_reference_data
from models.registrations.policy import RegistrationPolicy
from models.reminders.policy import Offset, ReminderPolicy
from models.send_budget import SharedSendBudget
from scheduler.dispatcher import Dispatcher, DispatcherSettings
from scheduler.executor import DrainingExecutor
from scheduler.jobs import (
    schedule_broadcast_progress_sweep,
    schedule_domain_jobs,
    schedule_export,
)
from telemetry.metrics import REGISTRY, report_leadership
from telemetry.outbox import OutboxCounts
from web.app import create_app
from web.export import EXPORT_SECONDS, configured_exporter
from web.metrics import metrics_route
from web.webhook import webhook_route

log = logging.getLogger(__name__)

# The emulated bot's name, for getMe only: no link ever points at it (anyone could register it on
# Telegram); in the sandbox, start links open the sandbox page instead (calendars/links.py).
SANDBOX_BOT_USERNAME = "buurtagenda_sandbox_bot"
# How long a stop waits for running jobs: sends in flight end within their timeouts, unless
# one waits out a long 429 pause (it is then sent again at the next start).
STOP_JOBS_TIMEOUT_S = 20.0
# How long a leader that lost its lead lets running jobs finish before cancelling them: another
# instance may already lead.
LOST_LEAD_JOBS_TIMEOUT_S = 2.0
# With several instances: how often the leader looks for broadcasts confirmed on another one.
PROGRESS_SWEEP_S = 10


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


async def prepare_database(
    database: Database,
    *,
    public_url: str,
    then: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Apply migrations, load the reference data and give events from before stored UIDs their
    old feed UID (at ``public_url``'s host, as the feeds have known them); all safe to repeat,
    and done by one instance at a time (others starting at the same moment wait, then find it
    done). ``then``: more start-up writes, under the same lock. A schema newer than this code
    is refused (``migrations.SchemaTooNew``)."""
    async with exclusively(database, PREPARE_LOCK):
        await migrations.upgrade(database)
        async with database.transaction() as session:
            report = await load_reference_data(session)
            kept = await assign_legacy_uids(session, public_url=public_url)
        if kept:
            log.info("calendar feeds: %d events keep their UID", kept)
        if report.changed:
            log.info(
                "reference data: %d buurten, %d networks, %d themes added",
                report.buurten_added,
                report.networks_added,
                report.themes_added,
            )
        if then is not None:
            await then()


@dataclass
class Service:
    config: Config
    clock: Clock = system_clock
    # How fast the bot sends; None: Telegram's limits, the outbox at ``delivery.rate_per_s``.
    # (bench/scaleout.py runs instances against a faster emulated Telegram.)
    send_rates: SendRates | None = None
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
        # Webhook mode: updates posted to every instance are kept in the database first.
        self.inbox: WebhookInbox | None = None
        if self.config.telegram.webhook_url and not self.sandbox:
            self.inbox = WebhookInbox(
                self.database, self.clock, instance=instance_name(self.config.http.port)
            )
        self._server: EmbeddedServer | None = None
        self._server_task: asyncio.Task[None] | None = None
        # What runs once among all instances starts and stops with the lead (see the module's
        # docstring). Others may add their own hooks before ``start``.
        self.leadership: Leadership = leadership_for(self.database)
        self.leadership.on_lead(self._lead)
        self.leadership.on_lose(self._stand_by)
        # How updates arrive (setWebhook, or long polling: Telegram allows one getUpdates) is the
        # leader's to say.
        self.leadership.on_lead(self._start_receiving)
        self.leadership.on_lose(self._stop_receiving)
        self._started = False
        # /metrics: the process's metrics, and this service's outbox counts.
        self.outbox_counts = OutboxCounts(self.database)
        self.metrics = CollectorRegistry()
        self.metrics.register(self.outbox_counts)
        report_leadership(self.is_leader)

    @property
    def sandbox(self) -> bool:
        return not self.config.telegram.token

    def is_leader(self) -> bool:
        """Whether this process runs what must run once (the scheduler, the outbox, updates)."""
        return self.leadership.is_leader

    @property
    def local_url(self) -> str:
        host = self.config.http.host
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        return f"http://{host}:{self.config.http.port}"

    async def start(self) -> None:
        # SQLite: a second process on the same file is refused before it touches anything.
        self.leadership.open()
        await prepare_database(
            self.database,
            public_url=self.config.http.public_url,
            then=self._load_demo_programme if self.sandbox else None,
        )
        self._started = True
        # PostgreSQL: hear the other instances' commits (member changes, new outbox rows);
        # every instance listens, leader or not. Nothing to do on SQLite.
        await self.database.start_listening()
        # Paused until this instance leads (``_lead``): a standby runs no job.
        self.scheduler.start(paused=True)
        await self._start_http()
        await self._start_bot()
        await self.leadership.start()

    async def _load_demo_programme(self) -> None:
        async with self.database.transaction() as session:
            report = await load_demo_programme(session, now=self.clock(), tz=self.config.tz)
        log.info("sandbox: demo programme (%d events added)", report.created)

    async def _lead(self) -> None:
        """This instance leads: the command menus, the scheduler's jobs and the dispatcher."""
        assert self.bot is not None
        try:
            await publish_command_menus(self.bot)
        except TelegramError as error:  # a missing menu is no reason to stay offline
            log.warning("could not publish the command menus: %s", error)
        self.scheduler.remove_all_jobs()  # anything a standby's handlers may have added
        schedule_domain_jobs(self.scheduler, self.database, self.clock, self.policy)
        exporter = configured_exporter(
            self.database,
            directory=self.config.export.directory,
            clock=self.clock,
            public_url=self.config.http.public_url,
            bot_username=self.bot_username,
            timezone=self.config.timezone,
            sandbox=self.sandbox,
        )
        if exporter is not None:
            schedule_export(self.scheduler, exporter.export_if_changed, seconds=EXPORT_SECONDS)
        await self._start_dispatcher()
        self.scheduler.resume()

    async def _stand_by(self) -> None:
        """The lead is gone (lost, or handed on at a stop): no job starts any more, the
        dispatcher stops claiming, and what still runs gets a moment to finish, then is
        cancelled (another instance may lead already)."""
        if self.scheduler.running:
            self.scheduler.pause()
        if self.dispatcher is not None:
            self.dispatcher.stop()
            self.dispatcher = None
        if self.bot is not None:
            self.bot.bot_data.pop(PROGRESS_KEY, None)
        if not await self.executor.finish_running(timeout_s=LOST_LEAD_JOBS_TIMEOUT_S):
            self.executor.cancel_running()
        if self.scheduler.running:
            self.scheduler.remove_all_jobs()

    async def stop(self) -> None:
        if not self._started:  # refused, or the database could not be prepared
            await self.leadership.stop()
            await self.database.dispose()
            return
        await self._stop_scheduler()
        if self.inbox is not None:
            # Updates being handled are finished; later ones are only stored (next start).
            await self.inbox.stop()
        # The lead goes to another instance now, while this one stops its bot and HTTP.
        await self.leadership.stop()
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
            role=lambda: self.leadership.role,
        )
        app.router.routes.append(
            metrics_route([REGISTRY, self.metrics], refresh=[self.outbox_counts.refresh])
        )
        if self.emulator is not None:
            from emulator.sandbox import sandbox_routes

            for route in sandbox_routes(self.emulator, set_bot_language=self._set_bot_language):
                app.router.routes.append(route)
            # The emulator answers what no route knows (the Bot API's /bot<token>/...). As the
            # router's default, not a catch-all Mount: a wrong method on a known path still gets
            # its 405 with Allow, where a Mount would have taken it to the emulator.
            app.router.default = self.emulator.app
        if self.inbox is not None:
            telegram = self.config.telegram
            # First: on "/" it must not be taken for the agenda page's wrong method.
            route = webhook_route(
                telegram.webhook_path, secret=telegram.webhook_secret, accept=self.inbox.accept
            )
            app.router.routes.insert(0, route)
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
        rates = self.send_rates or SendRates(bulk_per_s=self.config.delivery.rate_per_s)
        # Several instances share one token, so on PostgreSQL they share one budget.
        shared = None if self.database.is_sqlite else SharedSendBudget(self.config.database.url)
        self.bot = build_application(
            self.bot_deps(),
            token=token,
            base_url=base_url,
            rates=rates,
            menus_at_start=False,
            send_budget=shared,
        )
        # Ready to handle updates on every instance; fetching them is the leader's.
        await self.bot.initialize()
        await self.bot.start()
        if self.inbox is not None:  # every instance handles the updates posted to it
            await self.inbox.start(self.bot)

    async def _start_receiving(self) -> None:
        """The leader's part: tell Telegram how updates arrive (setWebhook), or long-poll."""
        assert self.bot is not None
        telegram = self.config.telegram
        if self.inbox is not None:
            await use_webhook(
                self.bot.bot, url=telegram.webhook_url, secret=telegram.webhook_secret
            )
            log.info("bot @%s receives updates at %s", self.bot.bot.username, telegram.webhook_url)
            return
        if telegram.webhook_url:
            log.warning("sandbox: telegram.webhook_url is not used (the sandbox polls)")
        await use_polling(self.bot, poll_interval=POLL_INTERVAL_S)
        log.info("bot @%s is listening", self.bot.bot.username)

    async def _stop_receiving(self) -> None:
        """When leadership is lost: stop polling. A webhook stays set: every instance serves
        it, and the next leader sets it again."""
        if self.bot is not None and self.bot.updater is not None and self.bot.updater.running:
            await self.bot.updater.stop()

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
        if not self.database.is_sqlite:
            # A broadcast confirmed on another instance (an update that reached a standby)
            # woke no progress here: look for one now and then.
            schedule_broadcast_progress_sweep(
                self.scheduler, progress.wake, seconds=PROGRESS_SWEEP_S
            )

    @staticmethod
    async def _stop_bot(bot: Application) -> None:  # type: ignore[type-arg]
        if bot.updater is not None and bot.updater.running:  # a start that failed half way
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
            started = self._started
            await self.stop()
            if started:
                log.info("stopped")


__all__ = [
    "EmbeddedServer",
    "Service",
    "http_server_config",
    "prepare_database",
    "registration_policy",
]
