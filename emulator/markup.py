"""Validation of keyboards, bot commands and command scopes, with Telegram's error strings.

Each parser takes the raw parameter (a JSON string from a form post, or an already decoded value
from a JSON body) and returns the normalised structure Telegram would store and echo back.
"""

from __future__ import annotations

import json
import re
from typing import Any

from emulator import errors
from emulator.entities import check_url
from emulator.errors import bad_request
from emulator.state import JsonDict

INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
REPLY_BUTTON_FIELDS = (
    "request_users",
    "request_chat",
    "request_contact",
    "request_location",
    "request_poll",
    "web_app",
)
REPLY_KEYBOARD_FLAGS = (
    "is_persistent",
    "resize_keyboard",
    "one_time_keyboard",
    "input_field_placeholder",
    "selective",
)
MAX_CALLBACK_DATA_BYTES = 64
MAX_COMMANDS = 100
MAX_COMMAND_LENGTH = 32
MAX_DESCRIPTION_LENGTH = 256
_COMMAND_RE = re.compile(r"^[a-z0-9_]+$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
SCOPE_TYPES = (
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
    "chat",
    "chat_administrators",
    "chat_member",
)


def decode_json(raw: object, error: str) -> Any:
    """A form post carries nested objects as JSON strings; a JSON body carries them as-is."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request(error) from None


# ------------------------------------------------------------------------------- keyboards --


def parse_reply_markup(raw: object, *, inline_only: bool = False) -> JsonDict | None:
    """Validate ``reply_markup``; an empty inline keyboard means "no keyboard" (None)."""
    if raw is None or raw == "":
        return None
    markup = decode_json(raw, "can't parse reply keyboard markup JSON object")
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return _inline_keyboard(markup["inline_keyboard"])
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        return _reply_keyboard(markup)
    if markup.get("remove_keyboard") is True:
        return {"remove_keyboard": True, **_flags(markup, ("selective",))}
    if markup.get("force_reply") is True:
        fields = ("input_field_placeholder", "selective")
        return {"force_reply": True, **_flags(markup, fields)}
    raise bad_request("can't parse reply keyboard markup JSON object")


def _rows(raw: object, field: str, kind: str) -> list[list[Any]]:
    if not isinstance(raw, list) or not all(isinstance(row, list) for row in raw):
        raise bad_request(f'field "{field}" of the {kind} must be an Array of Arrays')
    return raw


def _inline_keyboard(raw: object) -> JsonDict | None:
    rows = [
        [_inline_button(b) for b in row]
        for row in _rows(raw, "inline_keyboard", "InlineKeyboardMarkup")
    ]
    rows = [row for row in rows if row]
    return {"inline_keyboard": rows} if rows else None


def _inline_button(raw: object) -> JsonDict:
    if not isinstance(raw, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = raw.get("text")
    if not isinstance(text, str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    actions = [name for name in INLINE_ACTIONS if name in raw]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    button: JsonDict = {"text": text}
    action = actions[0]
    value = raw[action]
    if action == "callback_data":
        if not isinstance(value, str) or not 1 <= len(value.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request(errors.BUTTON_DATA_INVALID)
    elif action == "url" and (not isinstance(value, str) or check_url(value) is None):
        raise bad_request(errors.BUTTON_URL_INVALID)
    button[action] = value
    return button


def _reply_keyboard(markup: JsonDict) -> JsonDict:
    rows = _rows(markup["keyboard"], "keyboard", "ReplyKeyboardMarkup")
    keyboard = [[_reply_button(b) for b in row] for row in rows]
    return {"keyboard": keyboard, **_flags(markup, REPLY_KEYBOARD_FLAGS)}


def _reply_button(raw: object) -> JsonDict:
    if isinstance(raw, str):
        return {"text": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
        raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
    button: JsonDict = {"text": raw["text"]}
    button.update({k: raw[k] for k in REPLY_BUTTON_FIELDS if k in raw})
    return button


def _flags(markup: JsonDict, names: tuple[str, ...]) -> JsonDict:
    return {name: markup[name] for name in names if name in markup}


# -------------------------------------------------------------------------------- commands --


def parse_commands(raw: object) -> list[JsonDict]:
    """setMyCommands' list, checked in TDLib's order: each command, then count and charset."""
    items = decode_json(raw if raw is not None else "[]", "can't parse commands JSON object")
    if not isinstance(items, list):
        raise bad_request("can't parse commands JSON object")
    commands = [_command(item) for item in items]
    if len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    if any(not _COMMAND_RE.match(c["command"]) for c in commands):
        raise bad_request("BOT_COMMAND_INVALID")
    return commands


def _command(raw: object) -> JsonDict:
    if not isinstance(raw, dict):
        raise bad_request("expected BotCommand")
    command, description = raw.get("command"), raw.get("description")
    if not isinstance(command, str) or not isinstance(description, str):
        raise bad_request("expected BotCommand")
    command = command.strip().removeprefix("/")
    if not command:
        raise bad_request("command must be non-empty")
    if len(command) > MAX_COMMAND_LENGTH:
        raise bad_request(f"command length must not exceed {MAX_COMMAND_LENGTH}")
    description = description.strip()
    if not description:
        raise bad_request("command description must be non-empty")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise bad_request(f"command description length must not exceed {MAX_DESCRIPTION_LENGTH}")
    return {"command": command, "description": description}


def parse_scope(raw: object) -> JsonDict:
    """A BotCommandScope; chat_id/user_id are left for the caller to resolve."""
    if raw is None or raw == "":
        return {"type": "default"}
    scope = decode_json(raw, "can't parse BotCommandScope JSON object")
    if not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    result: JsonDict = {"type": scope["type"]}
    if scope["type"] in ("chat", "chat_administrators", "chat_member"):
        if "chat_id" not in scope:
            raise bad_request(errors.CHAT_ID_EMPTY)
        result["chat_id"] = scope["chat_id"]
    if scope["type"] == "chat_member":
        if not isinstance(scope.get("user_id"), int):
            raise bad_request("user not found")
        result["user_id"] = scope["user_id"]
    return result


def check_language_code(code: str) -> str:
    if code and not _LANGUAGE_RE.match(code):
        raise bad_request(errors.INVALID_LANGUAGE_CODE)
    return code
