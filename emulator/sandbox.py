"""``GET /sandbox``: try the bot in a browser, as one of the demo volunteers, without Telegram.

One self-contained page: HTML, CSS and vanilla JavaScript inline, no build step, no CDN, so it
works offline. The sources live next to this module in ``sandbox_page/`` (``page.html``,
``page.css``, ``page.js``) and are put together once, at import. The page uses only the control
API (``control.py``): one long poll on ``/_emulator/feed`` for every volunteer's chat, and POSTs
to send a message or press a button. Bot messages are built from their entities as DOM nodes,
never as HTML, and a Content-Security-Policy that allows exactly the page's own script and style
(by hash) backs that up.

The service adds these routes to its app and lets the emulator answer every path no route knows,
at the root of the same HTTP server; all URLs in the page are relative, so a reverse proxy with a
path prefix works too::

    app = Starlette(routes=sandbox_routes(emu))
    app.router.default = emu.app
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from emulator.state import JsonDict

if TYPE_CHECKING:
    from emulator.core import TelegramEmulator

_ASSETS = resources.files("emulator") / "sandbox_page"
LANGUAGES = ("nl", "en")
# Given the demo volunteers' user ids and a language: the service makes it their bot's language.
SetBotLanguage = Callable[[Sequence[int], str], Awaitable[None]]


def _asset(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


STYLE = _asset("page.css")
SCRIPT = _asset("page.js")
TEMPLATE = _asset("page.html").replace("{{STYLE}}", STYLE).replace("{{SCRIPT}}", SCRIPT)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        f"script-src {_csp_hash(SCRIPT)}",
        f"style-src {_csp_hash(STYLE)}",
        "connect-src 'self'",
        "img-src 'self' data: blob:",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def page_config(emulator: TelegramEmulator) -> JsonDict:
    """What the page needs to start: the bot's name and the demo volunteers with their chats."""
    people = emulator.add_demo_users()  # idempotent; a bare emulator gets its volunteers here
    return {
        "bot": {"name": emulator.bot.first_name, "username": emulator.bot.username},
        "people": [
            {
                "id": person.user.id,
                "chat_id": person.chat.id,
                "first_name": person.user.first_name,
                "language_code": person.user.language_code or "",
            }
            for person in people
        ],
    }


def render_page(config: JsonDict) -> str:
    """The page with ``config`` as a JSON data block, safe against ``</script>`` in names."""
    data = json.dumps(config, ensure_ascii=False)
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return TEMPLATE.replace("{{CONFIG}}", data)


def sandbox_routes(
    emulator: TelegramEmulator, *, set_bot_language: SetBotLanguage | None = None
) -> list[BaseRoute]:
    """``/sandbox`` (the chat page), ``/sandbox/`` (a redirect to it) and ``POST
    /sandbox/language`` (the page's language switch: the volunteers' Telegram language, and
    through ``set_bot_language`` the language the bot speaks with them, follow the page)."""

    async def page(request: Request) -> Response:
        return HTMLResponse(render_page(page_config(emulator)), headers=HEADERS)

    async def to_page(request: Request) -> Response:
        # Relative, so it also lands right behind a reverse proxy that adds a path prefix.
        return RedirectResponse("../sandbox", status_code=308)

    async def language(request: Request) -> Response:
        # JSON only: a form on another site cannot send it without the browser asking first.
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return JSONResponse({"error": "send JSON"}, status_code=415)
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        chosen = body.get("language") if isinstance(body, dict) else None
        if chosen not in LANGUAGES:
            return JSONResponse({"error": f"language must be one of {LANGUAGES}"}, status_code=400)
        people = emulator.add_demo_users()
        for person in people:
            person.user.language_code = chosen
        if set_bot_language is not None:
            await set_bot_language([person.user.id for person in people], chosen)
        return JSONResponse({"language": chosen})

    return [
        Route("/sandbox", page, methods=["GET"]),
        Route("/sandbox/", to_page, methods=["GET"]),
        Route("/sandbox/language", language, methods=["POST"]),
    ]


__all__ = ["CONTENT_SECURITY_POLICY", "page_config", "render_page", "sandbox_routes"]
