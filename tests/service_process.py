"""`buurtagenda run` in its own process, as people start it: its output read line by line, so
a test can act at a given moment (a line appeared) and check everything the service wrote."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    def __init__(
        self, cwd: Path, env: dict[str, str], *args: str, program: Sequence[str] = ()
    ) -> None:
        """``buurtagenda *args`` (``run`` without any); ``program``: another command line
        that starts the service (bench/scaleout.py's scaled instances)."""
        self.cwd = cwd
        self.program = tuple(program) or (str(BIN / "buurtagenda"),)
        self.port = free_port()
        self.env = {**os.environ, "BUURTAGENDA_HTTP_PORT": str(self.port), **env}
        self.args = args or (() if program else ("run",))
        self.lines: list[str] = []
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def output(self) -> str:
        return "".join(self.lines)

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            *self.program,
            *self.args,
            cwd=self.cwd,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        async for line in self._process.stdout:
            async with self._changed:
                self.lines.append(line.decode())
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    async def wait_for_line(self, wanted: str | Callable[[str], bool], within_s: float = 60) -> str:
        """The first line of output with ``wanted`` in it (or for which it is true)."""
        test = wanted if callable(wanted) else (lambda line: wanted in line)
        assert self._reader is not None

        def found() -> str | None:
            return next((line for line in self.lines if test(line)), None)

        async with asyncio.timeout(within_s):
            async with self._changed:
                while (line := found()) is None:
                    if self._reader.done():
                        ended = f"the service ended without {wanted!r}:\n{self.output}"
                        raise AssertionError(ended)
                    await self._changed.wait()
        return line

    async def get(self, path: str) -> httpx.Response:
        """``path`` from the service's HTTP server, once it answers."""
        async with httpx.AsyncClient(base_url=self.url) as client:
            for _ in range(600):
                try:
                    return await client.get(path)
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        raise AssertionError(f"the service did not answer within 30 s:\n{self.output}")

    async def stop(self) -> int:
        """SIGTERM, then its exit code once it ended (all output read)."""
        assert self._process is not None
        if self._process.returncode is None:
            self._process.send_signal(signal.SIGTERM)
        return await self.wait()

    async def wait(self, within_s: float = 60) -> int:
        assert self._process is not None and self._reader is not None
        async with asyncio.timeout(within_s):
            await self._reader
            return await self._process.wait()

    def kill(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
