"""A round-robin proxy for webhooks, as a reverse proxy in front of several instances is (Caddy in
deploy/): each POST goes to the next instance in turn, path, body and the secret header as they
came. When the chosen instance does not answer (killed, not started yet) the proxy answers 502,
and Telegram (the emulator) delivers the update again: to the next one.

    async with round_robin_proxy([service.url for service in services]) as proxy:
        ...  # telegram.webhook_url = f"{proxy.url}/telegram/updates"

``pin(i)`` sends everything to instance ``i`` until ``round_robin()``, so that a test can say
which instance gets the next update; ``deliveries`` records where each update went and how it
was answered.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.server import serve

# What the proxy passes on (Telegram sends no more than these).
FORWARDED_HEADERS = ("content-type", "x-telegram-bot-api-secret-token")
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Delivery:
    update_id: int | None
    upstream: int  # the index of the instance it went to
    status: int  # what the instance answered (502: it did not)


class RoundRobinProxy:
    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = [url.rstrip("/") for url in upstreams]
        self.deliveries: list[Delivery] = []
        self.pinned: int | None = None
        self.url = ""  # once served
        self._next = 0
        self._client: httpx.AsyncClient | None = None
        self.app = Starlette(routes=[Route("/{path:path}", self._forward, methods=["POST"])])

    def pin(self, upstream: int) -> None:
        """Everything to ``upstream`` from now on."""
        self.pinned = upstream

    def round_robin(self) -> None:
        self.pinned = None

    def where(self, update_id: int) -> list[int]:
        """The instances ``update_id`` was posted to, in order (more than one: redelivered)."""
        return [d.upstream for d in self.deliveries if d.update_id == update_id]

    def _choose(self) -> int:
        if self.pinned is not None:
            return self.pinned
        chosen = self._next
        self._next = (self._next + 1) % len(self.upstreams)
        return chosen

    async def _forward(self, request: Request) -> Response:
        body = await request.body()
        upstream = self._choose()
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_HEADERS}
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT_S)
        try:
            answer = await self._client.post(
                self.upstreams[upstream] + request.url.path, content=body, headers=headers
            )
        except httpx.HTTPError:
            self.deliveries.append(Delivery(_update_id(body), upstream, 502))
            return Response(status_code=502)
        self.deliveries.append(Delivery(_update_id(body), upstream, answer.status_code))
        content_type = answer.headers.get("content-type")
        return Response(
            answer.content,
            status_code=answer.status_code,
            headers={"content-type": content_type} if content_type else None,
        )

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


@asynccontextmanager
async def round_robin_proxy(upstreams: list[str]) -> AsyncIterator[RoundRobinProxy]:
    """The proxy, served on loopback (its address: ``proxy.url``)."""
    proxy = RoundRobinProxy(upstreams)
    try:
        async with serve(proxy.app) as url:
            proxy.url = url
            yield proxy
    finally:
        await proxy.aclose()


def _update_id(body: bytes) -> int | None:
    try:
        update_id = json.loads(body).get("update_id")
    except (ValueError, AttributeError):
        return None
    return update_id if isinstance(update_id, int) else None
