"""The HTTP side the bot talks to: ``/bot<token>/<method>`` and ``/file/bot<token>/<path>``.

Answers look exactly like Telegram's: ``{"ok": true, "result": ...}`` with HTTP 200, or
``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}`` with HTTP status N.
A malformed token gets 404 and an unknown one 401 before the method is even looked at; method
names are case-insensitive; GET and POST are both accepted.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from emulator.errors import ApiError, not_found, unauthorized
from emulator.methods import BotMethods, Described
from emulator.params import Params
from emulator.state import JsonDict

if TYPE_CHECKING:
    from emulator.core import TelegramEmulator

_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


class BotApi:
    """Dispatches Bot API calls to ``BotMethods``, applying faults, latency and counters."""

    def __init__(self, emulator: TelegramEmulator) -> None:
        self.emu = emulator
        self._methods = BotMethods(emulator).registry()

    async def call(self, method: str, **params: Any) -> Any:
        """Call a method from Python; returns ``result`` or raises ``ApiError``."""
        status, body = await self.invoke(method, Params(params))
        if not body["ok"]:
            raise ApiError(
                status,
                body["description"],
                retry_after=body.get("parameters", {}).get("retry_after"),
            )
        return body["result"]

    async def invoke(self, method: str, params: Params) -> tuple[int, JsonDict]:
        """One call after authentication: (HTTP status, Telegram's JSON body)."""
        entry = self._methods.get(method.lower())
        name = entry[0] if entry else method
        self.emu.stats.requests[name] += 1
        try:
            if entry is None:
                raise not_found()
            latency = self.emu.faults.latency_for(name.lower())
            if latency > 0:
                await asyncio.sleep(latency)  # artificial network latency, on purpose
            injected = self.emu.faults.pick(name.lower())
            if injected is not None:
                self.emu.stats.injected_faults += 1
                raise injected
            result = await entry[1](params)
        except ApiError as error:
            return self._answer(error.error_code, error.payload())
        if isinstance(result, Described):
            return self._answer(
                200, {"ok": True, "result": result.result, "description": result.description}
            )
        return self._answer(200, {"ok": True, "result": result})

    def _answer(self, status: int, body: JsonDict) -> tuple[int, JsonDict]:
        self.emu.stats.responses[status] += 1
        return status, body

    def authenticate(self, token: str) -> ApiError | None:
        if not _TOKEN_RE.match(token):
            return not_found()
        if token != self.emu.token or self.emu.logged_out:
            return unauthorized()
        return None

    async def endpoint(self, request: Request) -> Response:
        token = request.path_params["token"]
        method = request.path_params.get("method", "")
        refused = self.authenticate(token) or (None if method else not_found())
        if refused is not None:
            return _json(refused.error_code, refused.payload())
        try:
            params = await Params.from_request(request)
        except ApiError as error:
            return _json(error.error_code, error.payload())
        status, body = await self.invoke(method, params)
        return _json(status, body)

    async def file_endpoint(self, request: Request) -> Response:
        """Downloads of getFile's ``file_path`` (PTB's ``base_file_url``)."""
        refused = self.authenticate(request.path_params["token"])
        if refused is not None:
            return _json(refused.error_code, refused.payload())
        stored = self.emu.files.by_path(request.path_params["file_path"])
        if stored is None:
            return _json(404, not_found().payload())
        media_type = stored.mime_type or "application/octet-stream"
        return Response(stored.data, media_type=media_type)


def _json(status: int, body: JsonDict) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def build_app(emulator: TelegramEmulator) -> Starlette:
    from emulator.control import control_routes

    api = emulator.api
    return Starlette(
        routes=[
            Route("/bot{token}/{method}", api.endpoint, methods=["GET", "POST"]),
            Route("/bot{token}", api.endpoint, methods=["GET", "POST"]),
            Route("/bot{token}/", api.endpoint, methods=["GET", "POST"]),
            Route("/file/bot{token}/{file_path:path}", api.file_endpoint, methods=["GET"]),
            Mount("/_emulator", routes=control_routes(emulator)),
        ]
    )
