"""Helpers for tests that drive a python-telegram-bot Application through the emulator."""

from __future__ import annotations

import contextlib
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

from telegram.ext import Application, ApplicationBuilder

from emulator.core import TelegramEmulator
from emulator.server import BotApiUrls

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class FakeClock:
    """A monotonic clock that only moves when told to; pass it as ``TelegramEmulator(clock=)``."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def application_builder(
    emulator: TelegramEmulator, urls: BotApiUrls
) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
    """An ApplicationBuilder already pointed at the emulator (add handlers after ``build()``)."""
    return (
        ApplicationBuilder()
        .token(emulator.token)
        .base_url(urls.base_url)
        .base_file_url(urls.base_file_url)
    )


@contextlib.asynccontextmanager
async def polling(
    app: AnyApplication, *, poll_timeout: int = 5, poll_interval: float = 0
) -> AsyncIterator[AnyApplication]:
    """Run ``app`` with real long polling (initialize, start, poll) and stop it cleanly."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=poll_interval, timeout=poll_timeout)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    """A valid one-colour PNG of the given size, built without image libraries."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
