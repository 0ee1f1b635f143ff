"""Bot API errors with Telegram's own status codes and description strings.

Telegram answers every failed call with ``{"ok": false, "error_code": N, "description": "..."}``
and the same N as HTTP status. Descriptions are prefixed by the HTTP reason phrase
("Bad Request: ", "Forbidden: ", ...); python-telegram-bot strips that prefix again when it builds
its exceptions, so tests can match on the bare detail.
"""

from __future__ import annotations

import math
from typing import Any

# Descriptions, spelled exactly as the official Bot API server spells them (without prefix).
CHAT_ID_EMPTY = "chat_id is empty"
CHAT_NOT_FOUND = "chat not found"
MESSAGE_TEXT_EMPTY = "message text is empty"
MESSAGE_TOO_LONG = "message is too long"
CAPTION_TOO_LONG = "message caption is too long"
MESSAGE_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
MESSAGE_TO_EDIT_NOT_FOUND = "message to edit not found"
MESSAGE_TO_DELETE_NOT_FOUND = "message to delete not found"
MESSAGE_CANT_BE_EDITED = "message can't be edited"
MESSAGE_CANT_BE_DELETED = "message can't be deleted"
NO_TEXT_TO_EDIT = "there is no text in the message to edit"
MESSAGE_ID_NOT_SPECIFIED = "message identifier is not specified"
REPLIED_MESSAGE_NOT_FOUND = "message to be replied not found"
BUTTON_DATA_INVALID = "BUTTON_DATA_INVALID"
BUTTON_URL_INVALID = "BUTTON_URL_INVALID"
QUERY_ID_INVALID = "query is too old and response timeout expired or query ID is invalid"
ANSWER_TOO_LONG = "MESSAGE_TOO_LONG"
UNSUPPORTED_PARSE_MODE = "unsupported parse_mode"
WRONG_CHAT_ACTION = "wrong parameter action in request"
INVALID_LANGUAGE_CODE = "invalid language code specified"
WRONG_FILE_ID = "wrong file identifier/HTTP URL specified"
INVALID_FILE_ID = "invalid file_id"
FILE_EMPTY = "file must be non-empty"
FILE_TOO_BIG = "file is too big"
IMAGE_PROCESS_FAILED = "IMAGE_PROCESS_FAILED"

BLOCKED_BY_USER = "bot was blocked by the user"
USER_DEACTIVATED = "user is deactivated"
CANT_INITIATE = "bot can't initiate conversation with a user"
KICKED_FROM_GROUP = "bot was kicked from the group chat"
NOT_A_MEMBER = "bot is not a member of the group chat"
NOT_IN_CHANNEL = "bot is not a member of the channel chat"

TERMINATED_BY_OTHER_POLL = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)
TERMINATED_BY_SET_WEBHOOK = "terminated by setWebhook request"
WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)

# Reason phrases Telegram (or its nginx front) uses for server-side failures.
SERVER_ERROR_PHRASES: dict[int, str] = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """A failed Bot API call; ``payload()`` is the exact JSON body Telegram would send."""

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        retry_after: float | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        parameters: dict[str, Any] = {}
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        if self.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = self.migrate_to_chat_id
        if parameters:
            body["parameters"] = parameters
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")


def conflict(detail: str) -> ApiError:
    return ApiError(409, f"Conflict: {detail}")


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized")


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def too_many_requests(wait_s: float, *, whole_seconds: bool = True) -> ApiError:
    """429 as Telegram sends it: an integer number of seconds, never zero.

    ``whole_seconds=False`` keeps millisecond precision, for benchmarks that compress time with
    scaled limits (Telegram itself never does this).
    """
    if whole_seconds:
        retry_after: float = max(1, math.ceil(wait_s))
        shown = f"{int(retry_after)}"
    else:
        retry_after = max(0.001, round(wait_s, 3))
        shown = f"{retry_after:g}"
    return ApiError(429, f"Too Many Requests: retry after {shown}", retry_after=retry_after)


def server_error(status: int) -> ApiError:
    return ApiError(status, SERVER_ERROR_PHRASES.get(status, "Internal Server Error"))
