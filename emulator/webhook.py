"""Webhook delivery: POST each update as JSON to the bot's URL, in order, retrying on failure.

Like Telegram, an update counts as delivered only on a 2xx answer; anything else (an error status,
a refused connection, a timeout) is recorded as ``last_error_message`` and retried after a growing
delay. A 2xx answer may carry a Bot API call (``{"method": "sendMessage", ...}``), which is then
executed, as Telegram does. Deliveries are sequential (one connection), which keeps tests
deterministic; Telegram may use up to ``max_connections`` in parallel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import httpx

from emulator.state import JsonDict
from emulator.updates import PendingUpdate

if TYPE_CHECKING:
    from emulator.core import TelegramEmulator

DELIVERY_TIMEOUT_S = 10.0


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


class WebhookDeliverer:
    def __init__(self, emulator: TelegramEmulator) -> None:
        self._emulator = emulator
        self.config: WebhookConfig | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self.config is not None

    def set(self, config: WebhookConfig) -> None:
        self.config = config
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="emulator-webhook")
        self._emulator.signal.notify()

    async def delete(self) -> None:
        self.config = None
        await self.stop()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            if task is asyncio.current_task():
                return  # deleteWebhook sent back by the webhook itself
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def info(self) -> JsonDict:
        """getWebhookInfo's result."""
        queue = self._emulator.queue
        info: JsonDict = {
            "url": self.config.url if self.config else "",
            "has_custom_certificate": False,
            "pending_update_count": len(queue.pending),
        }
        if self.config is None:
            return info
        info["max_connections"] = self.config.max_connections
        optional = {
            "ip_address": self.config.ip_address,
            "last_error_date": self.config.last_error_date,
            "last_error_message": self.config.last_error_message,
            "allowed_updates": self.config.allowed_updates,
        }
        info.update({k: v for k, v in optional.items() if v is not None})
        return info

    async def _run(self) -> None:
        emulator = self._emulator
        failures = 0
        async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_S) as client:
            while (config := self.config) is not None:
                pending = emulator.queue.pending
                if not pending:
                    await emulator.signal.wait()
                    continue
                update = pending[0]
                error = await self._deliver(client, config, update)
                if self.config is not config:
                    continue  # the webhook changed while we were posting; start over
                if error is None:
                    failures = 0
                    emulator.stats.webhook_deliveries += 1
                    emulator.queue.confirm_one(update.update_id)
                    continue
                emulator.stats.webhook_failures += 1
                config.last_error_date = emulator.now_date()
                config.last_error_message = error
                emulator.signal.notify()  # lets tests wait for "the webhook failed"
                delays = emulator.webhook_retry_delays or (1.0,)
                await asyncio.sleep(delays[min(failures, len(delays) - 1)])
                failures += 1

    async def _deliver(
        self, client: httpx.AsyncClient, config: WebhookConfig, update: PendingUpdate
    ) -> str | None:
        """POST one update; returns None on success, else Telegram's description of the error."""
        headers = {"Content-Type": "application/json"}
        if config.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = config.secret_token
        try:
            response = await client.post(
                config.url, content=json.dumps(update.to_api()), headers=headers
            )
        except httpx.TimeoutException:
            return "Read timeout expired"
        except httpx.HTTPError as error:
            return f"Connection failed: {type(error).__name__}"
        if self._emulator.faults.take_lost_webhook_answer():
            return "Read timeout expired"  # the bot answered; the answer was lost on the way
        if not 200 <= response.status_code < 300:
            phrase = _phrase(response.status_code)
            return f"Wrong response from the webhook: {response.status_code} {phrase}"
        await self._run_reply_method(response)
        return None

    async def _run_reply_method(self, response: httpx.Response) -> None:
        """Telegram executes a method call sent back as the webhook's response body."""
        if not response.headers.get("content-type", "").startswith("application/json"):
            return
        try:
            body: Any = response.json()
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("method"), str):
            from emulator.params import Params

            values = {k: v for k, v in body.items() if k != "method"}
            await self._emulator.api.invoke(body["method"], Params(values))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
