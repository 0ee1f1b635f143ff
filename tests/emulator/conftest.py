"""Fixtures: an emulator served by uvicorn, and PTB bots and applications pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot

from emulator import BotApiUrls, Limits, TelegramEmulator, bot_api_urls, serve
from emulator.testing import AnyApplication, FakeClock, application_builder


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu() -> TelegramEmulator:
    # Limits off so functional tests can send freely; the limit tests build their own emulator.
    return TelegramEmulator(limits=Limits.off())


@pytest.fixture
async def server(emu: TelegramEmulator) -> AsyncIterator[str]:
    async with serve(emu) as url:
        yield url


@pytest.fixture
def urls(server: str) -> BotApiUrls:
    return bot_api_urls(server)


@pytest.fixture
async def http(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        yield client


@pytest.fixture
async def bot(emu: TelegramEmulator, urls: BotApiUrls) -> AsyncIterator[Bot]:
    """A bare PTB Bot for calling Bot API methods directly."""
    async with Bot(emu.token, base_url=urls.base_url, base_file_url=urls.base_file_url) as b:
        yield b


@pytest.fixture
def app(emu: TelegramEmulator, urls: BotApiUrls) -> AnyApplication:
    """A fresh Application pointed at the emulator; tests add handlers and run ``polling(app)``."""
    return application_builder(emu, urls).build()
