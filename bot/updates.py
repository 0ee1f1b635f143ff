"""How updates reach the bot: by webhook, kept in the database first; or by long polling.

Webhook mode (``telegram.webhook_url``): the HTTP route (``web/webhook.py``) hands each update to
``WebhookInbox.accept``, which commits it (``models/inbox``) before the route answers 200 and then
gives it to the Application in the background. The row makes an update handled once, however
often Telegram delivers it again (a redelivery finds its row and is only acknowledged), and an
acknowledged update is never lost: one stored while no instance was handling updates (at start,
during a stop), or claimed by an instance that died, is taken by the next sweep of any instance.
The window that remains is the outbox's: a crash while the bot handles an update (after its
replies went out, before its row was marked) handles it once more after the claim ran out.

Only the leading instance talks to Telegram about how updates arrive: ``use_webhook`` (setWebhook
with the secret) or ``use_polling`` (which deletes a webhook first, as python-telegram-bot does
before every long poll).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from telegram import Bot, Update
from telegram.ext import Application

from models.clock import Clock
from models.db import Database
from models.inbox.operations import (
    StoredUpdate,
    claim_leftovers,
    extend_claims,
    mark_processed,
    purge_processed,
    release_claims,
    store,
)

log = logging.getLogger(__name__)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

# The update types the handlers use (bot/app.py): everything else Telegram need not send.
ALLOWED_UPDATES = ("message", "callback_query")
# Parallel webhook connections Telegram may open (its default; 1-100). Each costs one short
# write transaction here, the handling runs behind it.
MAX_CONNECTIONS = 40
# How long an instance's claim on an update holds without being extended: after a crash, what
# it was handling is taken over within this (plus a sweep).
CLAIM = timedelta(seconds=30)
SWEEP_EVERY_S = 5.0
# Telegram stops delivering an update again after a day; a row is kept that long.
KEEP = timedelta(days=1)
PURGE_EVERY_S = 600.0
# A stop waits this long for the updates being handled.
STOP_TIMEOUT_S = 20.0


def instance_name(port: int) -> str:
    """This instance's name in claims: the same after a restart on the same host and port, so
    a restarted instance takes its previous run's unfinished claims back at once."""
    return f"{socket.gethostname()[:50]}:{port}"


class WebhookInbox:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        instance: str | None = None,
        claim: timedelta = CLAIM,
        sweep_every_s: float = SWEEP_EVERY_S,
        keep: timedelta = KEEP,
    ) -> None:
        self._database = database
        self._clock = clock
        self.instance = instance or f"{socket.gethostname()[:40]}:{os.getpid()}"
        self._claim = claim
        self._sweep_every_s = sweep_every_s
        self._keep = keep
        self._application: AnyApplication | None = None
        self._working: dict[int, asyncio.Task[None]] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._last_purge = float("-inf")

    @property
    def handling(self) -> int:
        """How many updates this instance is handling now."""
        return len(self._working)

    async def accept(self, update_id: int, payload: Mapping[str, Any]) -> None:
        """Keep the update; returns once it is committed. A new one is then handled in the
        background while this instance handles updates; otherwise a sweep takes it later."""
        application = self._application
        now = self._clock()
        async with self._database.transaction() as session:
            new = await store(
                session,
                update_id=update_id,
                payload=payload,
                now=now,
                claimed_by=self.instance if application is not None else None,
                claimed_until=now + self._claim if application is not None else None,
            )
        if new and application is not None:
            self._spawn(application, StoredUpdate(update_id, payload))

    async def start(self, application: AnyApplication) -> None:
        """Handle updates from now on, beginning with those nobody handled (this instance's
        previous run's included)."""
        async with self._database.transaction() as session:
            released = await release_claims(session, claimed_by=self.instance)
        if released:
            log.info("webhook: %d updates of the previous run are handled again", released)
        self._application = application
        await self.sweep()
        self._sweeper = asyncio.create_task(self._sweep_regularly(), name="webhook-inbox")

    async def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop handling: updates that arrive from now on are only stored; those being handled
        are finished (what still runs after ``timeout_s`` is left to the next sweep)."""
        self._application = None
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        working = list(self._working.values())
        if working:
            _, unfinished = await asyncio.wait(working, timeout=timeout_s)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
        async with self._database.transaction() as session:
            await release_claims(session, claimed_by=self.instance)

    async def sweep(self) -> int:
        """Extend the claims still being worked on, take over the updates nobody handles, and
        now and then forget old handled ones. Returns how many were taken over."""
        application = self._application
        if application is None:
            return 0
        now = self._clock()
        async with self._database.transaction() as session:
            await extend_claims(
                session,
                update_ids=list(self._working),
                claimed_by=self.instance,
                claimed_until=now + self._claim,
            )
            leftovers = await claim_leftovers(
                session, now=now, claimed_by=self.instance, claimed_until=now + self._claim
            )
        for stored in leftovers:
            self._spawn(application, stored)
        if leftovers:
            log.info("webhook: handling %d updates left unhandled", len(leftovers))
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_purge >= PURGE_EVERY_S:
            self._last_purge = loop.time()
            async with self._database.transaction() as session:
                await purge_processed(session, processed_before=now - self._keep)
        return len(leftovers)

    async def _sweep_regularly(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_every_s)
            try:
                await self.sweep()
            except Exception:  # the database is away for a moment: the next sweep tries again
                log.warning("webhook: sweeping the stored updates failed", exc_info=True)

    def _spawn(self, application: AnyApplication, stored: StoredUpdate) -> None:
        if stored.update_id in self._working:
            return
        task = asyncio.create_task(self._handle(application, stored))
        self._working[stored.update_id] = task
        task.add_done_callback(lambda _: self._working.pop(stored.update_id, None))

    async def _handle(self, application: AnyApplication, stored: StoredUpdate) -> None:
        try:
            update = Update.de_json(dict(stored.payload), application.bot)
            # Through the update processor, as polled updates go: the same limit on
            # concurrency. Handler errors end in the Application's error handler, not here.
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        except Exception:  # not an update python-telegram-bot understands: never will be
            log.exception("webhook: update %d could not be handled", stored.update_id)
        try:
            async with self._database.transaction() as session:
                await mark_processed(session, update_id=stored.update_id, now=self._clock())
        except Exception:  # handled, not marked: its claim runs out and it is handled again
            log.warning("webhook: update %d handled but not marked", stored.update_id)


async def use_webhook(bot: Bot, *, url: str, secret: str) -> None:
    """Tell Telegram to post updates to ``url`` (the leader does this at every start)."""
    await bot.set_webhook(
        url,
        secret_token=secret,
        allowed_updates=ALLOWED_UPDATES,
        max_connections=MAX_CONNECTIONS,
    )


async def use_polling(application: AnyApplication, *, poll_interval: float) -> None:
    """Long-poll; python-telegram-bot deletes a webhook first (getUpdates is refused while one is
    set), so switching back from webhook mode needs nothing more."""
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=poll_interval,
        timeout=20,
        drop_pending_updates=False,
        allowed_updates=ALLOWED_UPDATES,
    )
