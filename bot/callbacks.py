"""Callback data for inline buttons: short, opaque and signed for the member who got the button.

Telegram allows 64 bytes. A button carries ``action|arg|arg|mac``: the MAC (HMAC-SHA256 over the
Telegram user id and the data, 8 bytes) makes forged or copied data fail before anything runs.
A button can also carry the moment it was shown, ``action.shown|arg|…|mac`` (tenths of a second
since 1970, base 36): the double-tap guard (``bot/doubletap.py``) reads it, and it is signed
with the rest, so it cannot be moved back to slip past the guard.
The key is derived from the bot token, so buttons keep working after a restart. The MAC is not
the security boundary, though: every operation is authorised again in ``models/`` for the member
who pressed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_BYTES = 64
_SEPARATOR = "|"
_MAC_BYTES = 8
_SHOWN = "."
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


class InvalidCallback(ValueError):
    """Callback data we did not make for this user (forged, corrupted, or from another bot)."""


@dataclass(frozen=True)
class Callback:
    action: str
    args: tuple[str, ...] = ()
    shown_at: datetime | None = None  # when the button was shown, if it says (double-tap guard)

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

    def encode(
        self, user_id: int, action: str, *args: str | int, shown_at: datetime | None = None
    ) -> str:
        if _SHOWN in action:
            raise ValueError(f"callback actions cannot contain {_SHOWN!r}")
        head = action if shown_at is None else f"{action}{_SHOWN}{_base36(_tenths(shown_at))}"
        parts = [head, *(str(arg) for arg in args)]
        if any(_SEPARATOR in part for part in parts):
            raise ValueError("callback arguments cannot contain '|'")
        body = _SEPARATOR.join(parts)
        data = f"{body}{_SEPARATOR}{self._mac(user_id, body)}"
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    def shown(self, user_id: int, data: str, at: datetime) -> str:
        """``data`` (ours, for ``user_id``) carrying the moment ``at`` it was shown."""
        callback = self.decode(user_id, data)
        return self.encode(user_id, callback.action, *callback.args, shown_at=at)

    def decode(self, user_id: int, data: str | None) -> Callback:
        if not data or len(data.encode()) > MAX_BYTES or _SEPARATOR not in data:
            raise InvalidCallback("malformed")
        body, _, mac = data.rpartition(_SEPARATOR)
        # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError).
        if not hmac.compare_digest(mac.encode(), self._mac(user_id, body).encode()):
            raise InvalidCallback("signature does not match")
        head, *args = body.split(_SEPARATOR)
        action, _, shown = head.partition(_SHOWN)
        shown_at = None
        if shown:
            if len(shown) > 9 or any(digit not in _DIGITS for digit in shown):
                raise InvalidCallback("malformed moment")
            shown_at = datetime.fromtimestamp(int(shown, 36) / 10, UTC)
        return Callback(action, tuple(args), shown_at)


def _tenths(moment: datetime) -> int:
    return int(moment.timestamp() * 10)


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = _DIGITS[digit] + digits
        if not number:
            return digits
