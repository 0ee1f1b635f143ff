"""Webhook mode: the real service (uvicorn, the real Application) receives updates from the Bot
API emulator by webhook. Each update is stored before the 200 and answered once, however often it
is delivered; a request without the secret is refused and changes nothing; an update stored but
not handled (a crash) is handled after the restart; getUpdates gets 409 while the webhook is set;
switching back to polling deletes the webhook."""

from __future__ import annotations

import asyncio
import inspect
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.updates import ALLOWED_UPDATES, MAX_CONNECTIONS, instance_name
from buurtagenda.config import Config, DatabaseConfig, HttpConfig, TelegramConfig
from buurtagenda.service import Service
from emulator import TelegramEmulator
from emulator.server import serve
from models.inbox.entities import InboundUpdate
from models.inbox.operations import store
from tests.conftest import POSTGRES_URL, postgres_database, sqlite_database
from tests.service_process import ServiceProcess

SECRET = "geheim_Webhook-123"
PATH = "/telegram/updates"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database with the reference data, on SQLite and on PostgreSQL."""
    database = (
        await sqlite_database(tmp_path) if request.param == "sqlite" else await postgres_database()
    )
    await database.dispose()
    return database.url if request.param == "sqlite" else POSTGRES_URL


async def sqlite_url(directory: Path) -> str:
    database = await sqlite_database(directory)
    await database.dispose()
    return database.url


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[TelegramEmulator, str]]:
    emu = TelegramEmulator(bot_username="BuurtagendaBot")
    async with serve(emu) as url:
        yield emu, url
        await emu.aclose()


def webhook_config(
    database_url: str, api_url: str, token: str, *, port: int, webhook: bool = True
) -> Config:
    return Config(
        telegram=TelegramConfig(
            token=token,
            api_base_url=api_url,
            webhook_url=f"http://127.0.0.1:{port}{PATH}" if webhook else "",
            webhook_secret=SECRET if webhook else "",
        ),
        database=DatabaseConfig(url=database_url),
        http=HttpConfig(port=port, public_url=f"http://127.0.0.1:{port}"),
    )


async def eventually(probe: Any, what: str) -> None:
    """Until ``probe()`` (awaited if it must be) is true; fails after 10 s."""
    for _ in range(500):
        result = probe()
        if await result if inspect.isawaitable(result) else result:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within 10 s: {what}")


async def rows(service: Service) -> list[InboundUpdate]:
    async with service.database.read() as session:
        return list(await session.scalars(select(InboundUpdate).order_by(InboundUpdate.update_id)))


async def all_handled(service: Service, count: int) -> bool:
    """``count`` updates stored, all marked handled, and nothing still being handled."""
    stored = await rows(service)
    assert service.inbox is not None
    done = all(row.processed_at is not None for row in stored)
    return len(stored) == count and done and not service.inbox.handling


async def test_updates_arrive_by_webhook_and_are_answered_once(
    database_url: str, telegram: tuple[TelegramEmulator, str]
) -> None:
    emu, api_url = telegram
    port = free_port()
    service = Service(webhook_config(database_url, api_url, emu.token, port=port))
    await service.start()
    try:
        info = await emu.api.call("getWebhookInfo")
        assert info["url"] == f"http://127.0.0.1:{port}{PATH}"
        assert info["allowed_updates"] == list(ALLOWED_UPDATES)
        assert info["max_connections"] == MAX_CONNECTIONS

        alice = emu.user("Alice")
        first = alice.command("privacy")
        await first.reply()
        await first.delivered()

        # The bot's 200 for the next update is lost on the way: Telegram delivers it again.
        emu.faults.lose_webhook_answers(1)
        again = alice.command("privacy")
        await again.delivered()
        await eventually(lambda: all_handled(service, 2), "both updates handled")

        assert emu.stats.webhook_failures == 1 and emu.stats.webhook_deliveries == 2
        replies = [m for m in alice.chat.bot_messages() if m.seq > again.after_seq]
        assert len(replies) == 1  # delivered twice, answered once
        assert len(alice.chat.bot_messages()) == 2

        # getUpdates is refused while the webhook is set, as Telegram does.
        async with httpx.AsyncClient() as client:
            polled = await client.post(f"{api_url}/bot{emu.token}/getUpdates")
        assert polled.status_code == 409
        assert "webhook is active" in polled.json()["description"]
    finally:
        await service.stop()


async def test_a_request_without_the_secret_is_refused_and_changes_nothing(
    tmp_path: Path, telegram: tuple[TelegramEmulator, str]
) -> None:
    emu, api_url = telegram
    port = free_port()
    database_url = await sqlite_url(tmp_path)
    service = Service(webhook_config(database_url, api_url, emu.token, port=port))
    await service.start()
    try:
        alice = emu.user("Alice")
        # Someone else set the webhook with another secret: every delivery gets 401 and is
        # delivered again (by Telegram) until the right secret is set.
        await emu.api.call(
            "setWebhook", url=f"http://127.0.0.1:{port}{PATH}", secret_token="niet-het-goede"
        )
        sent = alice.command("privacy")
        await emu.wait_until(lambda: emu.stats.webhook_failures >= 2 or None)
        info = await emu.api.call("getWebhookInfo")
        assert info["last_error_message"] == "Wrong response from the webhook: 401 Unauthorized"
        assert info["pending_update_count"] == 1

        update = emu.queue.pending[0].to_api()
        url = f"http://127.0.0.1:{port}{PATH}"
        async with httpx.AsyncClient() as client:
            missing = await client.post(url, json=update)
            wrong = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "x"}
            )
            longer = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}
            )
            not_post = await client.get(url)
            not_json = await client.post(
                url, content=b"{", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            )
        assert [missing.status_code, wrong.status_code, longer.status_code] == [401, 401, 401]
        assert not_post.status_code == 405 and not_post.headers["allow"] == "POST"
        assert not_json.status_code == 400
        assert await rows(service) == []
        assert alice.chat.bot_messages() == []

        # The right secret again: the update that waited at Telegram is answered, once.
        await emu.api.call("setWebhook", url=url, secret_token=SECRET)
        await sent.reply()
        await sent.delivered()
        await eventually(lambda: all_handled(service, 1), "the update handled")
        assert len(alice.chat.bot_messages()) == 1
    finally:
        await service.stop()


async def test_updates_stored_but_not_handled_before_a_crash_are_handled_after_the_restart(
    database_url: str, telegram: tuple[TelegramEmulator, str]
) -> None:
    """What a crash leaves behind, as it would: the update committed and acknowledged to Telegram
    (the emulator has forgotten it), and then either not claimed yet (stored while the instance
    was stopping), claimed by this instance's previous run, or claimed by an instance that died
    (its claim ran out)."""
    emu, api_url = telegram
    port = free_port()
    config = webhook_config(database_url, api_url, emu.token, port=port)
    people = [emu.user(name) for name in ("Anouk", "Bram", "Fatima")]
    sent = [person.command("privacy") for person in people]
    now = datetime.now(UTC)
    claims = [
        (None, None),
        (instance_name(port), now + timedelta(seconds=25)),  # this instance, before its crash
        ("elders:8080", now - timedelta(seconds=1)),  # another instance, long gone
    ]
    service = Service(config)
    async with service.database.transaction() as session:
        for update, (claimed_by, claimed_until) in zip(emu.queue.pending, claims, strict=True):
            await store(
                session,
                update_id=update.update_id,
                payload=update.to_api(),
                now=now,
                claimed_by=claimed_by,
                claimed_until=claimed_until,
            )
    for update in emu.queue.pending:
        emu.queue.confirm_one(update.update_id)  # Telegram had its 200

    await service.start()
    try:
        for message in sent:
            await message.reply()
        await eventually(lambda: all_handled(service, 3), "all three handled")
        assert [len(person.chat.bot_messages()) for person in people] == [1, 1, 1]
    finally:
        await service.stop()


async def test_switching_back_to_polling_deletes_the_webhook(
    tmp_path: Path, telegram: tuple[TelegramEmulator, str]
) -> None:
    emu, api_url = telegram
    port = free_port()
    database_url = await sqlite_url(tmp_path)
    webhook = Service(webhook_config(database_url, api_url, emu.token, port=port))
    await webhook.start()
    await webhook.stop()
    assert (await emu.api.call("getWebhookInfo"))["url"]  # a stop leaves it set

    polling = Service(webhook_config(database_url, api_url, emu.token, port=port, webhook=False))
    await polling.start()
    try:
        assert (await emu.api.call("getWebhookInfo"))["url"] == ""
        alice = emu.user("Alice")
        await alice.command("privacy").reply()
        async with httpx.AsyncClient() as client:
            refused = await client.post(f"http://127.0.0.1:{port}{PATH}", json={"update_id": 1})
        assert refused.status_code == 404  # polling: no webhook route
    finally:
        await polling.stop()


async def test_kill_9_while_handling_an_acknowledged_update_it_is_handled_after_the_restart(
    tmp_path: Path,
) -> None:
    """`buurtagenda run` in its own process: the update is committed and acknowledged, the bot is
    handling it (its reply hangs at Telegram), and the process is killed. Started again (same
    host and port: the same instance), it handles the update; the secret is in no output."""
    emu = TelegramEmulator(bot_username="BuurtagendaBot")
    async with serve(emu) as api_url:
        port = free_port()
        env = {
            "BUURTAGENDA_TELEGRAM_TOKEN": emu.token,
            "BUURTAGENDA_TELEGRAM_API_BASE_URL": api_url,
            "BUURTAGENDA_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}{PATH}",
            "BUURTAGENDA_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "BUURTAGENDA_DATABASE_URL": await sqlite_url(tmp_path),
            "BUURTAGENDA_HTTP_PORT": str(port),
        }
        first = ServiceProcess(tmp_path, env)
        await first.start()
        await first.wait_for_line("receives updates at")
        emu.faults.set_latency(600, method="sendMessage")  # the reply never gets through
        alice = emu.user("Alice")
        sent = alice.command("privacy")
        await sent.delivered()  # Telegram had its 200
        await eventually(lambda: emu.stats.requests["sendMessage"], "the reply is on its way")
        first.kill()
        await first.wait()
        emu.faults.clear()

        second = ServiceProcess(tmp_path, env)
        await second.start()
        try:
            reply = await sent.reply(timeout=30)
            assert "privacy" in reply.content.lower()
        finally:
            assert await second.stop() == 0
    assert SECRET not in first.output + second.output
    assert "1 updates of the previous run are handled again" in second.output
    await emu.aclose()
