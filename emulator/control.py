"""HTTP control API under ``/_emulator`` (JSON), for a browser sandbox and out-of-process tests.

People and chats::

    GET    /_emulator/                          bot (getMe), users, chats
    GET    /_emulator/users                     {"users": [{id, first_name, username,
                                                  language_code, chat_id, blocked}]}
    POST   /_emulator/users                     {first_name, username?, language_code?, id?}
                                                -> the new user (201)
    POST   /_emulator/users/{user_id}/block     {"blocked": true|false}

Acting as a user (each queues an Update for the bot)::

    POST   /_emulator/chats/{chat_id}/messages  {"text", "from"?: user_id, "reply_to"?: message_id}
                                                -> {"update_id", "message"}
    POST   /_emulator/chats/{chat_id}/press     {"message_id", "callback_data"? | "text"?,
                                                 "from"?: user_id}
                                                -> {"update_id", "callback_query_id"}

Reading a chat (long poll)::

    GET    /_emulator/chats/{chat_id}/messages?since=REV&timeout=S
        -> {"revision", "messages": [{"revision", "deleted", "message"}],
            "callback_answers": [...], "chat_action", "keyboard"}
        Everything in the chat that changed after revision ``since`` (0 = all): new messages
        from both sides, edits and deletions, answers to button presses. Pass the returned
        ``revision`` as the next ``since``. With ``timeout`` (seconds, max 50) the call waits
        until something changes.
    GET    /_emulator/feed?chats=ID,ID&since=REV&timeout=S
        -> {"revision", "reset", "chats": [{"chat_id", "revision", "messages",
            "callback_answers", "chat_action", "keyboard"}]}
        The same for several chats in one long poll (a page with a tab per person keeps one
        connection open, not one per tab): only the chats that changed after ``since``.
        Revisions are emulator-wide, so one cursor covers them all. Without ``chats``: every
        chat. A ``since`` beyond anything this emulator has seen (the page outlived a restart)
        answers at once with everything and ``"reset": true``: forget what you had. Long polls
        end early, empty, when the emulator closes (server shutdown).
    GET    /_emulator/chats/{chat_id}/commands?language_code=nl   the command menu shown there
    GET    /_emulator/files/{file_id}           the file's bytes (download a document; with
                                                its file name, UTF-8 safe)

Test knobs::

    GET    /_emulator/stats                     counters (requests, 429s, messages sent, ...)
    POST   /_emulator/faults                    {"kind": "error", "status": 500, "count": 1,
                                                 "method"?} | {"kind": "random", "probability",
                                                 "status"?, "method"?} | {"kind": "flood",
                                                 "retry_after", "count"?, "method"?} |
                                                {"kind": "latency", "seconds", "method"?} |
                                                {"kind": "lost_webhook_answer", "count"?}
    DELETE /_emulator/faults                    clear all faults
    PUT    /_emulator/limits                    Limits fields, plus optional "scale"

Errors are ``{"error": "..."}`` with status 400 or 404.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, fields, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.limits import Limits
from emulator.people import Channel, Group, Person
from emulator.state import Chat, JsonDict, User
from emulator.updates import MAX_LONG_POLL_S

if TYPE_CHECKING:
    from emulator.core import TelegramEmulator


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _user_api(emu: TelegramEmulator, user: User) -> JsonDict:
    chat = emu.chats.get(user.id)
    return {
        **user.to_api(),
        "language_code": user.language_code,
        "chat_id": user.id,
        "blocked": bool(chat and chat.blocked),
    }


def _chat_api(chat: Chat) -> JsonDict:
    return {**chat.to_api(), "revision": chat.revision}


def chat_feed(chat: Chat, since: int) -> JsonDict:
    """Everything in ``chat`` that changed after revision ``since``."""
    messages = [m for m in chat.messages.values() if m.revision > since]
    return {
        "revision": chat.revision,
        "messages": [
            {"revision": m.revision, "deleted": m.deleted, "message": m.to_api()}
            for m in sorted(messages, key=lambda m: m.seq)
        ],
        "callback_answers": [a.to_api() for a in chat.callback_answers if a.revision > since],
        "chat_action": chat.action,
        "keyboard": chat.keyboard,
    }


def content_disposition(file_name: str) -> str:
    """``attachment`` with the name as ASCII (for old clients) and as RFC 5987 UTF-8."""
    fallback = file_name.encode("ascii", "replace").decode().replace("?", "_")
    fallback = fallback.replace("\\", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


class Control:
    def __init__(self, emulator: TelegramEmulator) -> None:
        self.emu = emulator

    # ----------------------------------------------------------------------------- helpers --

    def _chat(self, request: Request) -> Chat:
        try:
            chat = self.emu.chats.get(int(request.path_params["chat_id"]))
        except ValueError:
            chat = None
        if chat is None:
            raise ControlError(404, "no such chat")
        return chat

    def _conversation(self, chat: Chat) -> Person | Group | Channel:
        if chat.type == "private":
            return self.emu.people[chat.id]
        if chat.type == "channel":
            return Channel(self.emu, chat)
        return Group(self.emu, chat)

    def _sender(self, chat: Chat, body: JsonDict) -> Person:
        user_id = body.get("from", chat.id if chat.type == "private" else None)
        person = self.emu.people.get(user_id) if isinstance(user_id, int) else None
        if person is None:
            raise ControlError(400, "'from' must be the id of a known user")
        return person

    def _message(self, chat: Chat, message_id: object) -> Any:
        message = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if message is None:
            raise ControlError(404, "no such message")
        return message

    # ----------------------------------------------------------------------------- handlers --

    async def overview(self, request: Request) -> JsonDict:
        return {
            "bot": self.emu.get_me(),
            "users": [_user_api(self.emu, u) for u in self.emu.users.values()],
            "chats": [_chat_api(c) for c in self.emu.chats.values()],
        }

    async def list_users(self, request: Request) -> JsonDict:
        return {"users": [_user_api(self.emu, u) for u in self.emu.users.values()]}

    async def create_user(self, request: Request) -> JsonDict:
        body = await _body(request)
        first_name = body.get("first_name")
        if not isinstance(first_name, str) or not first_name:
            raise ControlError(400, "first_name is required")
        user_id = body.get("id")
        if user_id is not None and (not isinstance(user_id, int) or user_id in self.emu.users):
            raise ControlError(400, "id must be a new integer user id")
        person = self.emu.user(
            first_name,
            id=user_id,
            username=body.get("username"),
            language_code=body.get("language_code", "nl"),
        )
        return _user_api(self.emu, person.user)

    async def block_user(self, request: Request) -> JsonDict:
        body = await _body(request)
        person = self.emu.people.get(_int(request.path_params["user_id"]))
        if person is None:
            raise ControlError(404, "no such user")
        person.chat.blocked = bool(body.get("blocked", True))
        return _user_api(self.emu, person.user)

    async def post_message(self, request: Request) -> JsonDict:
        chat = self._chat(request)
        body = await _body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ControlError(400, "text is required")
        reply_to = self._message(chat, body["reply_to"]) if "reply_to" in body else None
        conversation = self._conversation(chat)
        if isinstance(conversation, Person):
            sent = conversation.send(text, reply_to=reply_to)
        elif isinstance(conversation, Group):
            sent = conversation.send(self._sender(chat, body), text, reply_to=reply_to)
        else:
            sent = conversation.post(text)
        return {"update_id": sent.update_id, "message": sent.message.to_api()}

    async def press(self, request: Request) -> JsonDict:
        chat = self._chat(request)
        body = await _body(request)
        message = self._message(chat, body.get("message_id"))
        conversation = self._conversation(chat)
        text, data = body.get("text"), body.get("callback_data")
        try:
            if isinstance(conversation, Person):
                press = conversation.press(message, text, data=data)
            elif isinstance(conversation, Group):
                press = conversation.press(self._sender(chat, body), message, text, data=data)
            else:
                raise ControlError(400, "nobody can press buttons in a channel here")
        except (LookupError, ValueError) as error:
            raise ControlError(400, str(error)) from None
        return {"update_id": press.update_id, "callback_query_id": press.query.id}

    async def _wait_for_change(self, request: Request, chats: list[Chat], since: int) -> None:
        """Long poll: until one of ``chats`` changes after ``since``, the timeout passes (an
        empty answer, as with getUpdates) or the emulator closes."""
        timeout = min(_float(request.query_params.get("timeout", "0")), MAX_LONG_POLL_S)
        if timeout <= 0:
            return

        def probe() -> bool | None:
            changed = any(chat.revision > since for chat in chats)
            return True if changed or self.emu.queue.closed else None

        with contextlib.suppress(TimeoutError):
            await self.emu.wait_until(probe, timeout=timeout)

    async def feed(self, request: Request) -> JsonDict:
        chat = self._chat(request)
        since = _int(request.query_params.get("since", "0"))
        await self._wait_for_change(request, [chat], since)
        return chat_feed(chat, since)

    async def all_feeds(self, request: Request) -> JsonDict:
        wanted = request.query_params.get("chats", "")
        if wanted.strip():
            chats = []
            for part in wanted.split(","):
                chat = self.emu.chats.get(_int(part.strip()))
                if chat is None:
                    raise ControlError(404, f"no such chat: {part.strip()}")
                chats.append(chat)
        else:
            chats = list(self.emu.chats.values())
        since = _int(request.query_params.get("since", "0"))
        # Every change bumps some chat's revision, so the largest one is the emulator's.
        latest = max((chat.revision for chat in self.emu.chats.values()), default=0)
        reset = since > latest
        if reset:
            since = 0
        else:
            await self._wait_for_change(request, chats, since)
        changed = [chat for chat in chats if chat.revision > since]
        return {
            "revision": max([since, *(chat.revision for chat in chats)]),
            "reset": reset,
            "chats": [{"chat_id": chat.id, **chat_feed(chat, since)} for chat in changed],
        }

    async def commands(self, request: Request) -> JsonDict:
        chat = self._chat(request)
        language = request.query_params.get("language_code", "")
        if not language and chat.user is not None:
            language = chat.user.language_code or ""
        return {"commands": self.emu.commands_for(chat, language)}

    async def download(self, request: Request) -> Response:
        stored = self.emu.files.get(request.path_params["file_id"])
        if stored is None:
            raise ControlError(404, "no such file")
        headers = {"X-Content-Type-Options": "nosniff"}
        if stored.file_name:
            headers["Content-Disposition"] = content_disposition(stored.file_name)
        media_type = stored.mime_type or "application/octet-stream"
        return Response(stored.data, media_type=media_type, headers=headers)

    async def stats(self, request: Request) -> JsonDict:
        return self.emu.stats.to_api()

    async def add_fault(self, request: Request) -> JsonDict:
        body = await _body(request)
        faults = self.emu.faults
        method = body.get("method")
        kind = body.get("kind")
        if kind == "error":
            faults.fail_next(body.get("count", 1), method=method, status=body.get("status", 500))
        elif kind == "random":
            probability = float(body.get("probability", 0.5))
            faults.fail_randomly(probability, method=method, status=body.get("status", 502))
        elif kind == "flood":
            faults.flood(body.get("retry_after", 5), count=body.get("count", 1), method=method)
        elif kind == "latency":
            faults.set_latency(float(body.get("seconds", 0)), method=method)
        elif kind == "lost_webhook_answer":
            faults.lose_webhook_answers(int(body.get("count", 1)))
        else:
            raise ControlError(
                400, "kind must be error, random, flood, latency or lost_webhook_answer"
            )
        return {"ok": True}

    async def clear_faults(self, request: Request) -> JsonDict:
        self.emu.faults.clear()
        return {"ok": True}

    async def set_limits(self, request: Request) -> JsonDict:
        body = await _body(request)
        known = {f.name for f in fields(Limits)}
        unknown = set(body) - known - {"scale"}
        if unknown:
            raise ControlError(400, f"unknown limit fields: {sorted(unknown)}")
        limits = replace(Limits(), **{k: v for k, v in body.items() if k in known})
        if "scale" in body:
            limits = limits.scaled(float(body["scale"]))
        self.emu.limits = limits
        return asdict(limits)


async def _body(request: Request) -> JsonDict:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ControlError(400, "body must be JSON") from None
    if not isinstance(body, dict):
        raise ControlError(400, "body must be a JSON object")
    return body


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ControlError(400, f"not an integer: {value!r}") from None


def _float(value: str) -> float:
    try:
        return float(value or 0)
    except ValueError:
        raise ControlError(400, f"not a number: {value!r}") from None


def _route(path: str, handler: Any, method: str) -> Route:
    """Wrap a handler so dicts become JSON and ControlErrors become {"error": ...}."""

    async def endpoint(request: Request) -> Response:
        try:
            result = await handler(request)
        except ControlError as error:
            return JSONResponse({"error": str(error)}, status_code=error.status)
        if isinstance(result, Response):
            return result
        status = 201 if method == "POST" and path == "/users" else 200
        return JSONResponse(result, status_code=status)

    return Route(path, endpoint, methods=[method])


def control_routes(emulator: TelegramEmulator) -> list[Route]:
    control = Control(emulator)
    return [
        _route("/", control.overview, "GET"),
        _route("/users", control.list_users, "GET"),
        _route("/users", control.create_user, "POST"),
        _route("/users/{user_id}/block", control.block_user, "POST"),
        _route("/chats/{chat_id}/messages", control.post_message, "POST"),
        _route("/chats/{chat_id}/messages", control.feed, "GET"),
        _route("/chats/{chat_id}/press", control.press, "POST"),
        _route("/chats/{chat_id}/commands", control.commands, "GET"),
        _route("/feed", control.all_feeds, "GET"),
        _route("/files/{file_id}", control.download, "GET"),
        _route("/stats", control.stats, "GET"),
        _route("/faults", control.add_fault, "POST"),
        _route("/faults", control.clear_faults, "DELETE"),
        _route("/limits", control.set_limits, "PUT"),
    ]
