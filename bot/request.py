"""How the bot's calls reach the Bot API: JSON bodies straight through httpcore.

Every tap costs two calls (answer the button, edit the card) and a share of a getUpdates, and
with python-telegram-bot's ``HTTPXRequest`` most of a call's cost is httpx's client layer around
the connection pool (building and merging URLs, headers, cookies, auth and redirect handling)
and form-encoding every parameter, which the server then has to parse back. Telegram takes
``application/json`` for any call without a file, so those go as one JSON document through
httpcore's pool (the one under httpx); a call that uploads a file (``sendDocument``,
``sendPhoto``) still goes the ``HTTPXRequest`` way, as multipart. What comes back is handled by
python-telegram-bot as before (``BaseRequest`` turns statuses into its errors).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpcore
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

_JSON = (b"Content-Type", b"application/json")
# httpx closes an idle connection after 5 s; so does this pool (the servers keep them longer).
KEEPALIVE_EXPIRY_S = 5.0


class BotApiRequest(HTTPXRequest):
    """``HTTPXRequest`` with JSON calls through httpcore (see the module docstring)."""

    def __init__(self, *, connection_pool_size: int, **kwargs: Any) -> None:
        super().__init__(connection_pool_size=connection_pool_size, **kwargs)
        self._pool_size = connection_pool_size
        self._pool: httpcore.AsyncConnectionPool | None = self._build_pool()
        self._hosts: dict[str, bytes] = {}

    def _build_pool(self) -> httpcore.AsyncConnectionPool:
        return httpcore.AsyncConnectionPool(
            max_connections=self._pool_size,
            max_keepalive_connections=self._pool_size,
            keepalive_expiry=KEEPALIVE_EXPIRY_S,
        )

    async def initialize(self) -> None:
        await super().initialize()
        if self._pool is None:
            self._pool = self._build_pool()

    async def shutdown(self) -> None:
        await super().shutdown()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.aclose()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._pool is None or (request_data is not None and request_data.contains_files):
            return await super().do_request(
                url,
                method,
                request_data,
                read_timeout,
                write_timeout,
                connect_timeout,
                pool_timeout,
            )
        defaults = self._client.timeout
        timeouts = {
            "connect": _or(connect_timeout, defaults.connect),
            "read": _or(read_timeout, defaults.read),
            "write": _or(write_timeout, defaults.write),
            "pool": _or(pool_timeout, defaults.pool),
        }
        headers = [(b"Host", self._host(url)), (b"User-Agent", self.USER_AGENT.encode())]
        body = None
        if request_data is not None:
            headers.append(_JSON)
            body = request_data.json_payload
        try:
            response = await self._pool.request(
                method, url, headers=headers, content=body, extensions={"timeout": timeouts}
            )
        except httpcore.PoolTimeout as error:
            raise TimedOut(
                "Pool timeout: all connections in the pool are busy; the request was not sent."
            ) from error
        except httpcore.TimeoutException as error:
            raise TimedOut from error
        except (
            httpcore.NetworkError,
            httpcore.ProtocolError,
            httpcore.UnsupportedProtocol,
        ) as error:
            # The text ends up in the outbox's last_error, which no log filter sees: the kind of
            # failure only, never httpcore's own text, which could one day carry the URL (with
            # the token in it). The cause stays chained for the (redacted) log.
            raise NetworkError(f"httpcore.{error.__class__.__name__}") from error
        return response.status, response.content

    def _host(self, url: str) -> bytes:
        """The Host header for ``url`` (httpx sets it; httpcore sends only what it is given),
        remembered per server."""
        end = url.find("/", url.find("//") + 2)
        server = url if end < 0 else url[:end]
        host = self._hosts.get(server)
        if host is None:
            host = self._hosts[server] = urlsplit(server).netloc.encode()
        return host


def _or(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value
