"""getUpdates semantics (offset, limit, long poll, conflicts) and webhook delivery."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Bot, Update
from telegram.error import Conflict
from telegram.ext import CommandHandler, ContextTypes

from emulator import TelegramEmulator, serve
from emulator.testing import AnyApplication

CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)


async def get_updates(http: httpx.AsyncClient, emu: TelegramEmulator, **params: Any) -> Any:
    response = await http.post(f"/bot{emu.token}/getUpdates", json=params)
    return response.json()


def ids(body: Any) -> list[int]:
    return [update["update_id"] for update in body["result"]]


async def test_updates_have_telegrams_shape(http: httpx.AsyncClient, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice", username="alice", language_code="nl")
    sent = alice.send("/start")
    (update,) = (await get_updates(http, emu))["result"]
    assert update == {
        "update_id": sent.update_id,
        "message": {
            "message_id": 1,
            "from": {
                "id": alice.id,
                "is_bot": False,
                "first_name": "Alice",
                "username": "alice",
                "language_code": "nl",
            },
            "date": sent.message.date,
            "chat": {"id": alice.id, "type": "private", "first_name": "Alice", "username": "alice"},
            "text": "/start",
            "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
        },
    }
    assert isinstance(update["message"]["date"], int)


async def test_offset_confirms_and_negative_offset_forgets(
    http: httpx.AsyncClient, emu: TelegramEmulator
) -> None:
    alice = emu.user("Alice")
    first, second, third = (alice.send(str(n)).update_id for n in range(3))
    assert first is not None and second is not None and third is not None
    assert ids(await get_updates(http, emu)) == [first, second, third]
    assert ids(await get_updates(http, emu)) == [first, second, third]  # nothing confirmed yet

    assert ids(await get_updates(http, emu, offset=second)) == [second, third]
    assert ids(await get_updates(http, emu)) == [second, third]  # first is gone for good

    assert ids(await get_updates(http, emu, offset=-1)) == [third]
    assert ids(await get_updates(http, emu, offset=third + 1)) == []
    assert emu.queue.pending == []


async def test_limit_is_clamped(http: httpx.AsyncClient, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")
    for n in range(5):
        alice.send(f"bericht {n}")
    assert len(ids(await get_updates(http, emu, limit=2))) == 2
    assert len(ids(await get_updates(http, emu, limit=0))) == 1
    assert len(ids(await get_updates(http, emu, limit=1000))) == 5


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    http: httpx.AsyncClient, emu: TelegramEmulator
) -> None:
    alice = emu.user("Alice")
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(get_updates(http, emu, timeout=30))
    await emu.wait_until(lambda: emu.stats.requests["getUpdates"] or None)
    sent = alice.send("hallo")
    body = await poll
    assert ids(body) == [sent.update_id]
    assert loop.time() - started < 5  # far below the 30 s timeout


async def test_empty_long_poll_waits_for_its_timeout(
    http: httpx.AsyncClient, emu: TelegramEmulator
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await get_updates(http, emu, timeout=0.2))["result"] == []
    assert loop.time() - started >= 0.2


async def test_newer_get_updates_terminates_the_waiting_one(
    http: httpx.AsyncClient, emu: TelegramEmulator
) -> None:
    older = asyncio.create_task(get_updates(http, emu, timeout=30))
    await emu.wait_until(lambda: emu.stats.requests["getUpdates"] or None)
    newer = await get_updates(http, emu)
    assert newer == {"ok": True, "result": []}
    assert await older == {"ok": False, "error_code": 409, "description": CONFLICT_OTHER_POLL}


async def test_allowed_updates_filters_new_updates_and_is_sticky(
    http: httpx.AsyncClient, emu: TelegramEmulator
) -> None:
    alice = emu.user("Alice")
    before = alice.send("voor het filter")
    await get_updates(http, emu, allowed_updates=["callback_query"])
    ignored = alice.send("na het filter")
    assert before.update_id is not None and ignored.update_id is None

    keyboard = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    await emu.api.call("sendMessage", chat_id=alice.id, text="Kies", reply_markup=keyboard)
    assert alice.last is not None
    press = alice.press(alice.last, "A")
    body = await get_updates(http, emu, offset=before.update_id + 1)  # no allowed_updates: sticky
    assert ids(body) == [press.update_id]
    assert "callback_query" in body["result"][0]

    await get_updates(http, emu, allowed_updates=[])  # back to the default
    assert alice.send("weer alles").update_id is not None


# ------------------------------------------------------------------------------ webhooks --


def recording_receiver(
    received: list[tuple[dict[str, str], Any]], statuses: list[int]
) -> Starlette:
    async def hook(request: Request) -> Response:
        received.append((dict(request.headers), await request.json()))
        return Response(status_code=statuses.pop(0) if statuses else 200)

    return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


async def test_webhook_delivery_with_secret_and_retry(bot: Bot, emu: TelegramEmulator) -> None:
    received: list[tuple[dict[str, str], Any]] = []
    async with serve(recording_receiver(received, statuses=[500])) as receiver_url:
        assert await bot.set_webhook(f"{receiver_url}/hook", secret_token="geheim-123")
        alice = emu.user("Alice")
        sent = alice.send("/start")
        await sent.delivered()

        info = await bot.get_webhook_info()
        with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
            await bot.get_updates()
        assert await bot.delete_webhook()

    assert len(received) == 2  # a 500, then the retry that succeeded
    headers, body = received[-1]
    assert headers["x-telegram-bot-api-secret-token"] == "geheim-123"
    assert headers["content-type"] == "application/json"
    assert body["update_id"] == sent.update_id and body["message"]["text"] == "/start"
    assert info.url == f"{receiver_url}/hook"
    assert info.pending_update_count == 0
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert emu.stats.webhook_deliveries == 1 and emu.stats.webhook_failures == 1
    assert await bot.get_updates() == ()


async def test_webhook_feeds_a_real_application(
    emu: TelegramEmulator, app: AnyApplication, bot: Bot
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Via de webhook")

    app.add_handler(CommandHandler("start", start))

    async def hook(request: Request) -> Response:
        # What a production Starlette webhook endpoint does with PTB.
        if request.headers.get("x-telegram-bot-api-secret-token") != "s3cret":
            return Response(status_code=403)
        await app.process_update(Update.de_json(await request.json(), app.bot))
        return Response()

    receiver = Starlette(routes=[Route("/telegram", hook, methods=["POST"])])
    async with app, serve(receiver) as receiver_url:
        await bot.set_webhook(f"{receiver_url}/telegram", secret_token="s3cret")
        reply = await emu.user("Alice").send("/start").reply()
        await bot.delete_webhook()
    assert reply.text == "Via de webhook"


async def test_webhook_response_can_carry_a_method_call(bot: Bot, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")

    async def hook(request: Request) -> Response:
        update = await request.json()
        chat_id = update["message"]["chat"]["id"]
        return JSONResponse({"method": "sendMessage", "chat_id": chat_id, "text": "Meteen"})

    receiver = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    async with serve(receiver) as receiver_url:
        await bot.set_webhook(f"{receiver_url}/hook", drop_pending_updates=True)
        reply = await alice.send("hoi").reply()
        await bot.delete_webhook()
    assert reply.text == "Meteen"


async def test_webhook_connection_errors_are_reported(bot: Bot, emu: TelegramEmulator) -> None:
    async with serve(recording_receiver([], [])) as dead_url:
        pass  # the server is gone again: nothing listens on its port any more
    await bot.set_webhook(f"{dead_url}/hook")
    emu.user("Alice").send("hallo")
    config = emu.webhook.config
    assert config is not None
    message = await emu.wait_until(lambda: config.last_error_message)
    assert message.startswith("Connection failed")
    assert (await bot.get_webhook_info()).pending_update_count == 1
    await bot.delete_webhook(drop_pending_updates=True)
    assert emu.queue.pending == []


async def test_set_webhook_ends_a_waiting_long_poll_with_409(
    http: httpx.AsyncClient, bot: Bot, emu: TelegramEmulator
) -> None:
    """As the official Bot API server does: the poll is not left to return updates that the
    webhook now delivers too."""
    waiting = asyncio.create_task(get_updates(http, emu, timeout=30))
    await emu.wait_until(lambda: emu.stats.requests.get("getUpdates") or None)
    async with serve(recording_receiver([], [])) as receiver_url:
        assert await bot.set_webhook(f"{receiver_url}/hook", secret_token="geheim")
        ended = await waiting
        await bot.delete_webhook()
    assert ended == {
        "ok": False,
        "error_code": 409,
        "description": "Conflict: terminated by setWebhook request",
    }


async def test_a_lost_webhook_answer_is_delivered_again(bot: Bot, emu: TelegramEmulator) -> None:
    """The bot answered 200, but the answer never reached Telegram: the same update again."""
    received: list[tuple[dict[str, str], Any]] = []
    emu.faults.lose_webhook_answers(1)
    async with serve(recording_receiver(received, statuses=[])) as receiver_url:
        await bot.set_webhook(f"{receiver_url}/hook", secret_token="geheim")
        sent = emu.user("Alice").send("hallo")
        await sent.delivered()
        info = await bot.get_webhook_info()
        await bot.delete_webhook()
    assert [body["update_id"] for _, body in received] == [sent.update_id, sent.update_id]
    assert info.last_error_message == "Read timeout expired"
    assert emu.stats.webhook_failures == 1 and emu.stats.webhook_deliveries == 1
