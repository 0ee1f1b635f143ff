"""Run an ASGI app (the emulator, or a webhook receiver) on uvicorn inside the current loop.

``serve()`` binds 127.0.0.1 on a free port itself, so the URL is known before uvicorn starts and
no port can be stolen in between, then runs ``uvicorn.Server.serve()`` as a task of the running
event loop. The server is tuned for tests: signal handling is left to the test runner, start-up
is awaited through an event, and shutdown does not wait on uvicorn's 0.1 s housekeeping tick, so
starting and stopping costs milliseconds instead of a quarter second per test.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Generator
from typing import NamedTuple

import uvicorn
from starlette.types import ASGIApp

from emulator.core import TelegramEmulator

STARTUP_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 2.0

# Like Telegram, keep an idle connection open longer than clients do (httpx lets one go after
# 5 s). With uvicorn's default of 5 s too, a bot could send on a connection the server was
# closing at that moment, and that request failed (httpx.ReadError) without ever arriving.
KEEP_ALIVE_S = 75


class BotApiUrls(NamedTuple):
    """What python-telegram-bot's ApplicationBuilder needs::

    ApplicationBuilder().token(emu.token).base_url(urls.base_url).base_file_url(urls.base_file_url)
    """

    base_url: str
    base_file_url: str


def bot_api_urls(server_url: str) -> BotApiUrls:
    server_url = server_url.rstrip("/")
    return BotApiUrls(base_url=f"{server_url}/bot", base_file_url=f"{server_url}/file/bot")


class _TestServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()
        self.exit_requested = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # leave SIGINT/SIGTERM to whoever runs the tests

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()

    async def main_loop(self) -> None:
        await self.on_tick(0)  # sets the Date header once; tests do not need it to advance
        await self.exit_requested.wait()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # idle keep-alive connections close now, busy ones after
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SHUTDOWN_TIMEOUT_S
        # Uvicorn offers no event for "last connection closed"; poll briefly, with a bound.
        while self.server_state.connections or self.server_state.tasks:
            if loop.time() > deadline:
                for task in self.server_state.tasks:
                    task.cancel()
                break
            await asyncio.sleep(0.002)
        for server in self.servers:
            await server.wait_closed()


@contextlib.asynccontextmanager
async def serve(app: ASGIApp | TelegramEmulator, *, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve ``app`` (or an emulator's app) and yield its base URL, e.g. "http://127.0.0.1:53211".

    On exit the emulator's long polls are released first, so uvicorn's graceful shutdown does not
    wait for a getUpdates that could hang for up to 50 seconds.
    """
    emulator: TelegramEmulator | None = None
    asgi_app: ASGIApp
    if isinstance(app, TelegramEmulator):
        emulator, asgi_app = app, app.app
        emulator.open()
    else:
        asgi_app = app
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it every keep-alive request stalls ~40 ms on Nagle + delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        asgi_app,
        log_level="warning",
        lifespan="off",
        access_log=False,
        server_header=False,  # no "Server: uvicorn" banner, as in the service
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    server = _TestServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"uvicorn:{port}")
    try:
        await _wait_started(server, task)
        yield f"http://{host}:{port}"
    finally:
        if emulator is not None:
            await emulator.aclose()  # release long polls, or shutdown would wait for them
        server.exit_requested.set()
        await task
        sock.close()


async def _wait_started(server: _TestServer, task: asyncio.Task[None]) -> None:
    ready = asyncio.create_task(server.ready.wait())
    try:
        done, _ = await asyncio.wait(
            {task, ready}, timeout=STARTUP_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        ready.cancel()
    if task in done:
        task.result()  # re-raise why uvicorn died
        raise RuntimeError("uvicorn exited before it started")
    if not done:
        raise TimeoutError("uvicorn did not start")


@contextlib.asynccontextmanager
async def running_emulator(
    emulator: TelegramEmulator | None = None,
) -> AsyncIterator[tuple[TelegramEmulator, BotApiUrls]]:
    """An emulator served on a free port: yields it and the URLs to give PTB."""
    emu = emulator or TelegramEmulator()
    async with serve(emu) as url:
        yield emu, bot_api_urls(url)
