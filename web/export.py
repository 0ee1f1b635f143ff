"""The public feeds and the agenda page as files, for any static web host (``export.directory``).

An APScheduler job looks every ``EXPORT_SECONDS`` whether the data changed (one small query) and
then writes what changed: ``index.html`` and ``index.en.html`` (and the ``favicon.ico`` they
link), ``agenda.ics``, per network ``netwerk/<slug>.ics`` and ``netwerk-<slug>[.en].html``, per
coming event ``event/<id>.ics``, ``poster-<code>[.en].html`` and ``qr/<code>.svg``. Files are
replaced atomically (write, then rename), so a web server never serves half a file; files of
events that left the agenda are
removed. Every ``FULL_PASS`` it writes regardless, which catches changes by time alone (an event
that ended leaves the page).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Hashable
from datetime import datetime, timedelta
from pathlib import Path

import anyio.to_thread

from i18n.plain import LANGUAGES
from models.clock import Clock
from models.db import Database
from models.feeds import queries
from web.agenda.routes import AgendaPages
from web.favicon import favicon
from web.feeds.cache import RenderCache, Rendered
from web.feeds.routes import BotUsername, FeedService, settings_provider

log = logging.getLogger(__name__)

EXPORT_SECONDS = 15
FULL_PASS = timedelta(minutes=5)
# Only files of these shapes are ever removed: the directory may hold other things.
_OURS = ("event/*.ics", "qr/*.svg", "netwerk/*.ics", "netwerk-*.html", "poster-*.html")


class Exporter:
    """Writes the public documents to ``directory`` when they change."""

    def __init__(self, pages: AgendaPages, directory: Path) -> None:
        self.pages = pages
        self.feeds = pages.feeds
        self.directory = directory
        self._version: Hashable | None = None
        self._last_pass: datetime | None = None
        self._written: dict[str, str] = {}  # relative path -> ETag of what is on disk

    async def export_if_changed(self) -> int:
        """The job: export when the data changed or a full pass is due; returns files written."""
        version = await self.feeds.everything_version()
        now = self.feeds.clock()
        due = self._last_pass is None or now - self._last_pass >= FULL_PASS
        if version == self._version and not due:
            return 0
        written = await self.export()
        self._version, self._last_pass = version, now
        return written

    async def export(self) -> int:
        documents: dict[str, Rendered] = {}
        agenda = await self.feeds.agenda_feed()
        documents["agenda.ics"] = agenda
        documents["favicon.ico"] = favicon()  # the pages link it
        async with self.feeds.database.read() as session:
            networks = await queries.active_networks(session)
            coming = await queries.agenda(session, now=self.feeds.clock())
        for lang in LANGUAGES:
            suffix = ".en" if lang == "en" else ""
            await self._add(
                documents, f"index{suffix}.html", self.pages.page(lang=lang, slug=None, static=True)
            )
            for network in networks:
                await self._add(
                    documents,
                    f"netwerk-{network.slug}{suffix}.html",
                    self.pages.page(lang=lang, slug=network.slug, static=True),
                )
        for network in networks:
            await self._add(
                documents, f"netwerk/{network.slug}.ics", self.feeds.network_feed(network.slug)
            )
        for item in coming.items:
            event = item.event
            await self._add(documents, f"event/{event.id}.ics", self.feeds.event_document(event.id))
            await self._add(
                documents, f"qr/{event.public_code}.svg", self.pages.qr_code(event.public_code)
            )
            for lang in LANGUAGES:
                suffix = ".en" if lang == "en" else ""
                poster = self.pages.poster(event.public_code, lang=lang, static=True)
                await self._add(documents, f"poster-{event.public_code}{suffix}.html", poster)
        changed = {
            path: rendered
            for path, rendered in documents.items()
            if self._written.get(path) != rendered.etag
        }
        await anyio.to_thread.run_sync(self._write, changed, set(documents))
        for path, rendered in changed.items():
            self._written[path] = rendered.etag
        if changed:
            log.info("export: %d files written to %s", len(changed), self.directory)
        return len(changed)

    @staticmethod
    async def _add(
        documents: dict[str, Rendered], path: str, pending: Awaitable[Rendered | None]
    ) -> None:
        rendered = await pending
        if rendered is not None:
            documents[path] = rendered

    def _write(self, changed: dict[str, Rendered], keep: set[str]) -> None:
        for path, rendered in changed.items():
            target = self.directory / path
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.tmp")
            temporary.write_bytes(rendered.body)
            os.replace(temporary, target)
        for pattern in _OURS:
            for stale in self.directory.glob(pattern):
                relative = stale.relative_to(self.directory).as_posix()
                if relative not in keep:
                    stale.unlink(missing_ok=True)
                    self._written.pop(relative, None)


def create_exporter(
    database: Database,
    *,
    directory: str | Path,
    clock: Clock,
    public_url: str,
    bot_username: BotUsername = None,
    timezone: str = "Europe/Amsterdam",
    sandbox: bool = False,
) -> Exporter:
    # Its own cache: the export renders its own variant of the page (links between files).
    feeds = FeedService(
        database,
        clock=clock,
        settings=settings_provider(public_url, bot_username, timezone, sandbox=sandbox),
        cache=RenderCache(clock=clock, check_interval=0),
    )
    return Exporter(AgendaPages(feeds), Path(directory))


def configured_exporter(
    database: Database,
    *,
    directory: str | Path,
    clock: Clock,
    public_url: str,
    bot_username: BotUsername = None,
    timezone: str = "Europe/Amsterdam",
    sandbox: bool = False,
) -> Exporter | None:
    """The exporter when ``directory`` is configured (``export.directory``), else None; the job
    that runs it is set up in ``scheduler/jobs.py`` (``schedule_export``). ``public_url`` goes
    into the subscribe links (webcal needs an absolute URL)."""
    if not str(directory).strip():
        return None
    return create_exporter(
        database,
        directory=directory,
        clock=clock,
        public_url=public_url,
        bot_username=bot_username,
        timezone=timezone,
        sandbox=sandbox,
    )
