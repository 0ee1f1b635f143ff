"""Callback data for inline buttons: short, opaque and signed for the member who got the button.

Telegram allows 64 bytes. A button carries ``action|arg|arg|mac``: the MAC (HMAC-SHA256 over the
Telegram user id and the data, 8 bytes) makes forged or copied data fail before anything runs.
The key is derived from the bot token, so buttons keep working after a restart. The MAC is not
the security boundary, though: every operation is authorised again in ``models/`` for the member
who pressed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

MAX_BYTES = 64
_SEPARATOR = "|"
_MAC_BYTES = 8


class InvalidCallback(ValueError):
    """Callback data we did not make for this user (forged, corrupted, or from another bot)."""


@dataclass(frozen=True)
class Callback:
    action: str
    args: tuple[str, ...] = ()

    def arg(self, index: int) -> str:
        try:
            return self.args[index]
        except IndexError:
            raise InvalidCallback(f"{self.action}: missing argument {index}") from None

    def int_arg(self, index: int) -> int:
        value = self.arg(index)
        if not value.isdigit() or len(value) > 9:
            raise InvalidCallback(f"{self.action}: argument {index} is not a small number")
        return int(value)


class CallbackSigner:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(f"buurtagenda-callbacks:{secret}".encode()).digest()

    def _mac(self, user_id: int, body: str) -> str:
        digest = hmac.digest(self._key, f"{user_id}:{body}".encode(), "sha256")  # one C call
        return base64.urlsafe_b64encode(digest[:_MAC_BYTES]).decode().rstrip("=")

    def encode(self, user_id: int, action: str, *args: str | int) -> str:
        parts = [action, *(str(arg) for arg in args)]
        if any(_SEPARATOR in part for part in parts):
            raise ValueError("callback arguments cannot contain '|'")
        body = _SEPARATOR.join(parts)
        data = f"{body}{_SEPARATOR}{self._mac(user_id, body)}"
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    def decode(self, user_id: int, data: str | None) -> Callback:
        if not data or len(data.encode()) > MAX_BYTES or _SEPARATOR not in data:
            raise InvalidCallback("malformed")
        body, _, mac = data.rpartition(_SEPARATOR)
        # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError).
        if not hmac.compare_digest(mac.encode(), self._mac(user_id, body).encode()):
            raise InvalidCallback("signature does not match")
        action, *args = body.split(_SEPARATOR)
        return Callback(action, tuple(args))
