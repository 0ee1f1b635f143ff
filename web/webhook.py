"""The Telegram webhook endpoint: checks the secret, and answers 200 only once the update is
stored (``accept`` returns after the commit; the bot handles it from there, ``bot/updates.py``).

A request without the right ``X-Telegram-Bot-Api-Secret-Token`` gets 401 and nothing from it is
read further; anything but POST gets 405. An answer other than 2xx makes Telegram deliver the
update again later, so a failed commit answers 503 and loses nothing.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# Keeps the update (committed when it returns); a redelivered update is accepted again and
# changes nothing.
Accept = Callable[[int, Mapping[str, Any]], Awaitable[None]]


def webhook_route(path: str, *, secret: str, accept: Accept) -> Route:
    expected = secret.encode("ascii")  # the configuration allows A-Z a-z 0-9 _ - only

    async def receive(request: Request) -> Response:
        # Starlette decodes header values as latin-1: encoded back, any value compares.
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1")
        if not hmac.compare_digest(given, expected):  # in constant time
            return Response(status_code=401)
        try:
            update: Any = await request.json()
        except ValueError:
            return Response("not JSON", status_code=400)
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return Response("not an update", status_code=400)
        try:
            await accept(update_id, update)
        except Exception:  # not stored: Telegram delivers it again later
            log.warning("webhook: update %d not stored", update_id, exc_info=True)
            return Response(status_code=503)
        return Response(status_code=200)

    return Route(path, receive, methods=["POST"], name="telegram_webhook")
