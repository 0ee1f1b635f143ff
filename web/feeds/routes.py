"""The calendar feeds over HTTP: ``/agenda.ics``, ``/netwerk/<slug>.ics``, ``/feed/<token>.ics``,
``/event/<id>.ics``; and the HTTP semantics every rendered document shares (``respond``).

Feeds are rendered in ``ical.py`` once per change of their data (``cache.py``); here they are
looked up and sent with a strong ETag and Last-Modified, answered with 304 when the client has
them already. No negotiation on Accept: Google's fetcher sends none, and there is one format.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import anyio.to_thread
from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendars.ical import CalendarItem, FeedSettings, render_calendar, render_event
from i18n.plain import _
from models.clock import Clock
from models.db import Database
from models.feeds import operations as tokens
from models.feeds import queries
from models.members.entities import Member
from web.feeds.cache import RenderCache, Rendered, RenderResult

log = logging.getLogger(__name__)

CALENDAR = "text/calendar; charset=utf-8"
# Renders of more items than this go to a worker thread, so the bot's event loop keeps going.
THREAD_ABOVE_ITEMS = 50


BotUsername = str | Callable[[], str | None] | None


def settings_provider(
    public_url: str,
    bot_username: BotUsername = None,
    timezone: str = "Europe/Amsterdam",
    *,
    sandbox: bool = False,
) -> Callable[[], FeedSettings]:
    """FeedSettings as they are now: the bot's username is learnt at runtime (getMe), so it may
    be a function, which returns None until it is known; until then feeds and the page leave
    deep links out. In the ``sandbox`` deep links lead to the sandbox page."""
    cached: dict[str | None, FeedSettings] = {}

    def current() -> FeedSettings:
        name = bot_username() if callable(bot_username) else bot_username
        if name not in cached:
            cached[name] = FeedSettings(public_url.rstrip("/"), name or None, timezone, sandbox)
        return cached[name]

    return current


class FeedService:
    """The feeds of one running service: what to render, from which data, cached."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Clock,
        settings: Callable[[], FeedSettings],
        cache: RenderCache,
    ) -> None:
        self.database = database
        self.clock = clock
        self.settings = settings
        self.cache = cache

    async def events_version(self) -> tuple[object, ...]:
        async with self.database.read() as session:
            data = await queries.data_version(session, registrations=False)
        return (self.settings(), *data)

    async def everything_version(self) -> tuple[object, ...]:
        async with self.database.read() as session:
            data = await queries.data_version(session, registrations=True)
        return (self.settings(), *data)

    async def agenda_feed(self) -> Rendered:
        async def render() -> RenderResult:
            async with self.database.read() as session:
                selection = await queries.public_feed(session, now=self.clock())
            name = _("nl", "Buurtagenda Maastricht")
            return await self._render(selection, name, "nl")

        rendered = await self.cache.get(("agenda.ics",), version=self.events_version, render=render)
        assert rendered is not None
        return rendered

    async def network_feed(self, slug: str) -> Rendered | None:
        async def render() -> RenderResult:
            async with self.database.read() as session:
                network = await queries.network_by_slug(session, slug)
                if network is None:
                    return None, None
                selection = await queries.public_feed(session, now=self.clock(), network=network)
            name = _("nl", "Buurtagenda – {network}", network=network.name)
            return await self._render(selection, name, "nl")

        return await self.cache.get(("netwerk", slug), version=self.events_version, render=render)

    async def personal_feed(self, member_id: int, lang: str) -> Rendered:
        async def render() -> RenderResult:
            async with self.database.read() as session:
                selection = await queries.personal_feed(
                    session, member_id=member_id, now=self.clock()
                )
            name = _(lang, "Buurtagenda – mijn bijeenkomsten")
            return await self._render(selection, name, lang)

        rendered = await self.cache.get(
            ("feed", member_id, lang), version=self.everything_version, render=render
        )
        assert rendered is not None
        return rendered

    async def event_document(self, event_id: int, lang: str = "nl") -> Rendered | None:
        async def render() -> RenderResult:
            async with self.database.read() as session:
                event = await queries.feed_event(session, event_id=event_id)
            if event is None:
                return None, None
            body = render_event(CalendarItem.of(event), settings=self.settings(), lang=lang)
            return Rendered.of(body, CALENDAR, event.updated_at), None

        return await self.cache.get(
            ("event", event_id, lang), version=self.events_version, render=render
        )

    async def _render(self, selection: queries.FeedSelection, name: str, lang: str) -> RenderResult:
        items = [CalendarItem.of_entry(entry) for entry in selection.entries]
        settings = self.settings()

        def work() -> bytes:
            return render_calendar(items, name=name, settings=settings, lang=lang)

        # Snapshots only (no ORM objects), so the render is safe in a thread.
        body = await anyio.to_thread.run_sync(work) if len(items) > THREAD_ABOVE_ITEMS else work()
        return Rendered.of(body, CALENDAR, selection.last_modified), selection.next_change


# --- HTTP ---------------------------------------------------------------------------------------


class _Ready(Response):
    """A response whose header bytes were prepared once, for the cheapest possible 304."""

    def __init__(
        self,
        status_code: int,
        raw_headers: list[tuple[bytes, bytes]],
        body: bytes = b"",
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        self.raw_headers = raw_headers
        self.body = body
        self.background = background


def respond(
    request: Request,
    rendered: Rendered,
    *,
    private: bool = False,
    headers: dict[str, str] | None = None,
    background: BackgroundTask | None = None,
) -> Response:
    """200 with the document, or 304 when the client's copy is current (RFC 9110, 13.2.2).

    If-None-Match decides when present (weak comparison, as the RFC says for it); otherwise
    If-Modified-Since, parsed as an HTTP date (an unparsable one is ignored). The 304 repeats
    ETag, Last-Modified, Cache-Control and Vary. HEAD gets the headers of GET (the server drops
    the body). ``headers`` go with the 200 only.
    """
    if_none_match = if_modified_since = accept_encoding = None
    # One pass over the raw request headers: this runs for every poll of every calendar app.
    for name, value in request.scope["headers"]:
        if name == b"if-none-match":
            if_none_match = value.decode("latin-1")
        elif name == b"if-modified-since":
            if_modified_since = value.decode("latin-1")
        elif name == b"accept-encoding":
            accept_encoding = value.decode("latin-1")
    compressed = rendered.gzip_body is not None and _accepts_gzip(accept_encoding)
    if _not_modified(rendered, if_none_match, if_modified_since):
        return _Ready(304, rendered.headers(compressed, private), background=background)
    raw = [*rendered.headers(compressed, private), *rendered.content_headers(compressed)]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    body = rendered.gzip_body if compressed and rendered.gzip_body is not None else rendered.body
    return _Ready(200, raw, body, background)


def _not_modified(
    rendered: Rendered, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    if if_none_match is not None:
        if if_none_match in (rendered.etag, rendered.gzip_etag):
            return True  # the usual case: one tag, the one we sent
        if if_none_match.strip() == "*":
            return True
        theirs = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return rendered.etag in theirs or rendered.gzip_etag in theirs
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:  # RFC 850 or asctime dates are GMT too
        since = since.replace(tzinfo=UTC)
    return rendered.last_modified <= since


def _accepts_gzip(accept_encoding: str | None) -> bool:
    if not accept_encoding or "gzip" not in accept_encoding:
        return False
    for part in accept_encoding.split(","):
        coding, _sep, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip"):
            q = params.strip().removeprefix("q=").strip() if params else "1"
            try:
                return float(q or "1") > 0
            except ValueError:
                return False
    return False


def not_found(lang: str = "nl") -> Response:
    """Unknown token, unknown network, unknown event: the same short answer, nothing revealed."""
    return Response(
        _(lang, "Niet gevonden."),
        status_code=404,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


def feed_routes(feeds: FeedService) -> Sequence[Route]:
    async def agenda_ics(request: Request) -> Response:
        return respond(request, await feeds.agenda_feed(), headers=_inline("agenda.ics"))

    async def network_ics(request: Request) -> Response:
        slug = request.path_params["slug"]
        rendered = await feeds.network_feed(slug)
        if rendered is None:
            return not_found()
        return respond(request, rendered, headers=_inline(f"{slug}.ics"))

    async def personal_ics(request: Request) -> Response:
        plain = request.path_params["token"]
        now = feeds.clock()
        async with feeds.database.read() as session:
            token = await tokens.resolve_feed_token(session, plain)
            language = None
            if token is not None:
                language = await session.scalar(
                    select(Member.language).where(Member.id == token.member_id)
                )
        if token is None or language is None:
            return not_found()
        rendered = await feeds.personal_feed(token.member_id, language.value)
        record = None
        if tokens.fetch_is_due(token, now):
            record = BackgroundTask(_record_fetch, feeds.database, token.id, now)
        return respond(
            request,
            rendered,
            private=True,
            headers={**_inline("buurtagenda.ics"), **_PRIVATE},
            background=record,
        )

    async def event_ics(request: Request) -> Response:
        rendered = await feeds.event_document(request.path_params["event_id"])
        if rendered is None:
            return not_found()
        name = f"bijeenkomst-{request.path_params['event_id']}.ics"
        return respond(request, rendered, headers=_inline(name))

    return [
        Route("/agenda.ics", agenda_ics, methods=["GET", "HEAD"]),
        Route("/netwerk/{slug}.ics", network_ics, methods=["GET", "HEAD"]),
        Route("/feed/{token}.ics", personal_ics, methods=["GET", "HEAD"]),
        Route("/event/{event_id:int}.ics", event_ics, methods=["GET", "HEAD"]),
    ]


# A personal feed link is a secret: keep it out of search engines and other sites' logs.
_PRIVATE = {"X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}


def _inline(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'inline; filename="{filename}"'}


async def _record_fetch(database: Database, token_id: int, now: datetime) -> None:
    # After the response is sent; a busy database must not make the feed fail.
    try:
        async with database.transaction() as session:
            await tokens.record_fetch(session, token_id=token_id, now=now)
    except Exception:  # the fetch time is a statistic; log and go on
        log.warning("could not record a feed fetch", exc_info=True)
