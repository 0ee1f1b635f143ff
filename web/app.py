"""The HTTP side of the service (Starlette): health, the calendar feeds and the agenda page; the
Telegram webhook (``web/webhook.py``) is added by the service, in the same app and event loop as
the bot. Security headers for every response are set in one place, ``web/headers.py``."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from i18n.plain import language
from models.clock import Clock, system_clock
from models.db import Database
from web.agenda.routes import AgendaPages, agenda_routes
from web.favicon import favicon
from web.feeds.cache import RenderCache
from web.feeds.routes import (
    BotUsername,
    FeedService,
    feed_routes,
    not_found,
    respond,
    settings_provider,
)
from web.headers import SecurityHeaders


def create_app(
    database: Database,
    scheduler_running: Callable[[], bool],
    *,
    clock: Clock = system_clock,
    public_url: str = "http://127.0.0.1:8080",
    bot_username: BotUsername = None,
    timezone: str = "Europe/Amsterdam",
    check_interval: float = 1.0,
    sandbox: bool = False,
    role: Callable[[], str] = lambda: "leader",
) -> Starlette:
    """The app. ``bot_username`` may be a function (the name comes from getMe at runtime);
    ``role``: "leader" or "standby" (models/leadership.py), shown by /healthz;
    ``check_interval``: how stale a feed or the page may be, in seconds (see web/feeds/cache.py);
    ``sandbox``: event links open the sandbox page instead of Telegram (calendars/links.py).
    ``app.state.feeds`` and ``app.state.pages`` are there for the export job to share."""

    async def healthz(_request: Request) -> JSONResponse:
        checks = {"database": "ok", "scheduler": "ok" if scheduler_running() else "stopped"}
        try:
            async with database.read() as session:
                await session.execute(text("SELECT 1"))
        except Exception as error:  # any failure means "not healthy"; say which
            checks["database"] = f"error: {type(error).__name__}"
        healthy = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unhealthy", "role": role(), **checks},
            status_code=200 if healthy else 503,
        )

    feeds = FeedService(
        database,
        clock=clock,
        settings=settings_provider(public_url, bot_username, timezone, sandbox=sandbox),
        cache=RenderCache(clock=clock, check_interval=check_interval),
    )

    async def favicon_ico(request: Request) -> Response:
        return respond(request, favicon())

    async def unknown(request: Request, _exc: Exception) -> Response:
        return not_found(language(request.query_params.get("lang")))

    pages = AgendaPages(feeds)
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/favicon.ico", favicon_ico, methods=["GET", "HEAD"]),
    ]
    routes += [*feed_routes(feeds), *agenda_routes(pages)]
    # A wrong method on a known path is Starlette's 405 with Allow; an unknown path our own 404.
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={404: unknown},
    )
    app.state.feeds = feeds
    app.state.pages = pages
    return app
