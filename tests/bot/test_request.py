"""The bot's calls to the Bot API (``bot/request.py``): JSON through httpcore, files as multipart,
and python-telegram-bot's errors for a server that is away, slow or says no."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.request import BotApiRequest
from emulator import TelegramEmulator, serve
from emulator.testing import tiny_png

TOKEN = "123456:test-token"
ME = {"id": 123456, "is_bot": True, "first_name": "Buurtagenda", "username": "buurtagenda_bot"}


def recording_api(seen: list[tuple[str, str, bytes]], *, slow: float = 0) -> Starlette:
    """A Bot API that records each call (method, content type, body) and says yes; ``slow``:
    sendMessage answers that much later."""

    async def call(request: Request) -> Response:
        method = request.path_params["method"]
        if method == "sendMessage":
            await asyncio.sleep(slow)
        seen.append((method, request.headers.get("content-type", ""), await request.body()))
        return JSONResponse({"ok": True, "result": ME if method == "getMe" else True})

    return Starlette(routes=[Route("/bot{token}/{method}", call, methods=["GET", "POST"])])


async def bot_at(url: str, **request_options: Any) -> Bot:
    request = BotApiRequest(connection_pool_size=4, **request_options)
    bot = Bot(TOKEN, base_url=f"{url}/bot", request=request, get_updates_request=request)
    await bot.initialize()
    return bot


@pytest.fixture
async def emulated() -> AsyncIterator[tuple[TelegramEmulator, Bot]]:
    emulator = TelegramEmulator()
    async with serve(emulator) as url:
        request = BotApiRequest(connection_pool_size=4)
        async with Bot(
            emulator.token, base_url=f"{url}/bot", request=request, get_updates_request=request
        ) as bot:
            yield emulator, bot


async def test_a_call_goes_as_one_json_document() -> None:
    seen: list[tuple[str, str, bytes]] = []
    async with serve(recording_api(seen)) as url:
        bot = await bot_at(url)
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("✅ Aanmelden", callback_data="rg")]])
        assert await bot.edit_message_text(
            "Gelukt! 🎉", chat_id=7, message_id=3, reply_markup=markup
        )
        await bot.shutdown()
    method, content_type, body = seen[-1]
    assert (method, content_type) == ("editMessageText", "application/json")
    sent = json.loads(body)
    assert sent["text"] == "Gelukt! 🎉" and str(sent["chat_id"]) == "7"
    markup_sent = sent[
        "reply_markup"
    ]  # python-telegram-bot sends it JSON-encoded, as Telegram allows
    if isinstance(markup_sent, str):
        markup_sent = json.loads(markup_sent)
    assert markup_sent == {"inline_keyboard": [[{"text": "✅ Aanmelden", "callback_data": "rg"}]]}


async def test_the_emulator_understands_it_and_files_still_go_as_multipart(emulated) -> None:
    emulator, bot = emulated
    anna = emulator.user("Anna")
    message = await bot.send_message(anna.id, "<b>Welkom</b> bij Buurtagenda", parse_mode="HTML")
    assert anna.messages[-1].content == "Welkom bij Buurtagenda"
    assert message.entities[0].type == "bold"
    await bot.send_document(anna.id, b'{"naam": "Anna"}', filename="mijngegevens.json")
    await bot.send_photo(anna.id, tiny_png())
    document, photo = anna.messages[-2:]
    assert document.document is not None and document.document.file_name == "mijngegevens.json"
    assert photo.photo
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(anna.id, "")


async def test_a_server_that_is_away_is_a_network_error() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    bot = Bot(
        TOKEN,
        base_url=f"http://127.0.0.1:{port}/bot",
        request=BotApiRequest(connection_pool_size=1),
    )
    with pytest.raises(NetworkError, match="ConnectError"):
        await bot.get_me()


async def test_a_slow_answer_is_a_timeout() -> None:
    seen: list[tuple[str, str, bytes]] = []
    async with serve(recording_api(seen, slow=0.5)) as url:
        bot = await bot_at(url, read_timeout=0.1)
        with pytest.raises(TimedOut):
            await bot.send_message(7, "hallo")
        await bot.shutdown()


async def test_a_request_can_be_used_again_after_shutdown() -> None:
    seen: list[tuple[str, str, bytes]] = []
    async with serve(recording_api(seen)) as url:
        request = BotApiRequest(connection_pool_size=1)
        for _ in range(2):
            async with Bot(TOKEN, base_url=f"{url}/bot", request=request) as bot:
                assert await bot.send_message(7, "hallo")
    assert [method for method, _, _ in seen] == ["getMe", "sendMessage"] * 2
