"""``/metrics``: Prometheus' text format, for the composition root to mount.

Not for the public: a reverse proxy in front answers it with 404 (see deploy/Caddyfile) and
Prometheus scrapes each instance at its own port.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import CollectorRegistry
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def metrics_route(
    registries: Sequence[CollectorRegistry],
    *,
    refresh: Sequence[Callable[[], Awaitable[None]]] = (),
) -> Route:
    """``GET /metrics``: every metric of ``registries`` (after awaiting each of ``refresh``,
    for collectors that read the database first)."""

    async def metrics(_request: Request) -> Response:
        for read in refresh:
            await read()
        body = b"".join(generate_latest(registry) for registry in registries)
        # The classic text format (0.0.4): what every Prometheus version reads, and what the
        # client library itself answers a scraper that asks for nothing else.
        return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)

    return Route("/metrics", metrics, methods=["GET"])


__all__ = ["metrics_route"]
