"""The agenda page over HTTP (``/``, ``/?netwerk=<slug>&lang=en``), a poster per event
(``/poster/<code>``) and its QR code (``/qr/<code>.svg``); rendered once per change of their data,
like the feeds."""

from __future__ import annotations

import io
from collections.abc import Sequence

import segno
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from i18n.plain import language
from models.feeds import queries
from models.networks.reference import slugify
from web.agenda.page import NetworkChoice, PageLinks, render_page, render_poster
from web.feeds.cache import Rendered, RenderResult
from web.feeds.routes import FeedService, not_found, respond

HTML = "text/html; charset=utf-8"
SVG = "image/svg+xml"


class AgendaPages:
    """The page in each language and for each network filter, and the QR codes."""

    def __init__(self, feeds: FeedService) -> None:
        self.feeds = feeds

    async def page(self, *, lang: str, slug: str | None, static: bool = False) -> Rendered | None:
        feeds = self.feeds

        async def render() -> RenderResult:
            async with feeds.database.read() as session:
                networks = await queries.active_networks(session)
                current = None
                if slug is not None:
                    current = next((n for n in networks if n.slug == slug), None)
                    if current is None:
                        return None, None
                agenda = await queries.agenda(session, now=feeds.clock(), network=current)
            choices = [
                NetworkChoice(n.slug, n.name)
                for n in sorted(networks, key=lambda n: slugify(n.name))
            ]
            html = render_page(
                agenda,
                networks=choices,
                current=NetworkChoice(current.slug, current.name) if current else None,
                lang=lang,
                settings=feeds.settings(),
                links=PageLinks(static=static),
            )
            return Rendered.of(html.encode(), HTML, agenda.last_modified), agenda.next_change

        return await feeds.cache.get(
            ("page", slug, lang, static), version=feeds.everything_version, render=render
        )

    async def poster(self, public_code: str, *, lang: str, static: bool = False) -> Rendered | None:
        """The printable poster of a published event; None when it has no link to show."""
        feeds = self.feeds

        async def render() -> RenderResult:
            settings = feeds.settings()
            if settings.deep_link(public_code) is None:
                return None, None
            async with feeds.database.read() as session:
                event = await queries.published_event(session, public_code=public_code)
            if event is None:
                return None, None
            # The live poster sits in /poster/, the exported one next to index.html.
            links = PageLinks(static=static, up="" if static else "../")
            html = render_poster(event, lang=lang, settings=settings, links=links)
            return Rendered.of(html.encode(), HTML, event.updated_at), None

        return await feeds.cache.get(
            ("poster", public_code, lang, static), version=feeds.events_version, render=render
        )

    async def qr_code(self, public_code: str) -> Rendered | None:
        """An SVG QR code of the event's Telegram deep link; None when there is none to show."""
        feeds = self.feeds

        async def render() -> RenderResult:
            settings = feeds.settings()
            link = settings.deep_link(public_code)
            if link is None:
                return None, None
            async with feeds.database.read() as session:
                event = await queries.published_event(session, public_code=public_code)
            if event is None:
                return None, None
            return Rendered.of(qr_svg(link), SVG, event.created_at), None

        return await feeds.cache.get(
            ("qr", public_code), version=feeds.events_version, render=render
        )


def qr_svg(url: str) -> bytes:
    """A printable QR code: medium error correction survives a crumpled poster."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=8, border=2, xmldecl=False)
    return buffer.getvalue()


def agenda_routes(pages: AgendaPages) -> Sequence[Route]:
    async def page(request: Request) -> Response:
        lang = language(request.query_params.get("lang"))
        slug = request.query_params.get("netwerk") or None
        rendered = await pages.page(lang=lang, slug=slug)
        if rendered is None:
            return not_found(lang)
        return respond(request, rendered, headers={"Content-Language": lang})

    async def poster(request: Request) -> Response:
        lang = language(request.query_params.get("lang"))
        rendered = await pages.poster(request.path_params["code"], lang=lang)
        if rendered is None:
            return not_found(lang)
        return respond(request, rendered, headers={"Content-Language": lang})

    async def qr(request: Request) -> Response:
        rendered = await pages.qr_code(request.path_params["code"])
        if rendered is None:
            return not_found()
        return respond(request, rendered)

    return [
        Route("/", page, methods=["GET", "HEAD"]),
        Route("/poster/{code}", poster, methods=["GET", "HEAD"]),
        Route("/qr/{code}.svg", qr, methods=["GET", "HEAD"]),
    ]
