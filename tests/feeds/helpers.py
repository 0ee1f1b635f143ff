"""Shared by the feed and page tests: the app as the service builds it, served over real HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette

from buurtagenda.service import http_server_config
from models.clock import Clock
from models.db import Database
from web.app import create_app

PUBLIC_URL = "https://agenda.example.nl"
BOT = "BuurtagendaBot"


class _Server(uvicorn.Server):
    """uvicorn in the test's loop, leaving signals alone (as the service's EmbeddedServer)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_app(database: Database, clock: Clock, **options: Any) -> Starlette:
    """The app with test settings; ``check_interval=0``: every request sees the latest data."""
    settings: dict[str, Any] = {
        "clock": clock,
        "public_url": PUBLIC_URL,
        "bot_username": BOT,
        "check_interval": 0,
    }
    settings.update(options)
    return create_app(database, lambda: True, **settings)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """uvicorn on a free loopback port inside the test's event loop, configured as the service
    configures it."""
    port = free_port()
    server = _Server(http_server_config(app, host="127.0.0.1", port=port))
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def unfold(body: bytes) -> list[str]:
    """The logical content lines of an iCalendar document."""
    return body.decode("utf-8").replace("\r\n ", "").split("\r\n")


def properties(body: bytes, name: str) -> list[str]:
    """Values of every ``name`` property (any parameters), in order."""
    values = []
    for line in unfold(body):
        head, _, value = line.partition(":")
        if head.split(";")[0] == name:
            values.append(value)
    return values
