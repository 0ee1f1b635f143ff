"""The typed button registry: every inline button is declared where its handler is.

::

    @action("rg")
    async def on_register(turn: Turn, event: EventCode, party: int) -> None: ...

    turn.button(t("✅ Aanmelden"), on_register, event.public_code, 1)

A button names its handler, not a string, so a reader can go from a button to its handler (and
back: grep the handler's name). The code (``"rg"``) is what travels in the callback data: short,
because Telegram allows 64 bytes, and unique, checked here when the module is imported. The
arguments are parsed and checked from the handler's signature before it runs: a forged or
damaged button never reaches a handler with a wrong value (``InvalidCallback``, answered in
``bot.buttons``). The data stays opaque and signed (``bot.callbacks``).

Argument types are a closed list (``PARSERS``): ``int`` (a small whole number), ``str`` (a short
word), ``EventCode`` (an event's public code) and ``Token`` (a dialog's or flow's short id). A
handler with another annotation fails at import, not at the first press.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NewType

from bot.callbacks import Callback, InvalidCallback

# The public code of an event (``Event.public_code``): letters, digits, - and _.
EventCode = NewType("EventCode", str)
# A short opaque id of something a button belongs to (a dialog's token, a draft's id).
Token = NewType("Token", str)

_WORD = re.compile(r"^[A-Za-z0-9_.:+\-]{1,40}$")
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def _small_int(value: str) -> int:
    if not value.isdigit() or len(value) > 9:
        raise InvalidCallback("not a small number")
    return int(value)


def _word(value: str) -> str:
    if not _WORD.match(value):
        raise InvalidCallback("not a short word")
    return value


def _event_code(value: str) -> EventCode:
    if not _CODE.match(value):
        raise InvalidCallback("not an event code")
    return EventCode(value)


def _token(value: str) -> Token:
    if not _CODE.match(value):
        raise InvalidCallback("not a token")
    return Token(value)


PARSERS: dict[str, Callable[[str], Any]] = {
    "int": _small_int,
    "str": _word,
    "EventCode": _event_code,
    "Token": _token,
}

Handler = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class Action:
    """A button's code, its handler, and how to read its arguments."""

    code: str
    handler: Handler
    parsers: tuple[Callable[[str], Any], ...]
    # Pressing it changes a registration: the double-tap guard looks at it (bot/doubletap.py).
    changes_registration: bool = False
    # After a refusal, show the event's card again (its first argument is the event's code).
    shows_event: bool = False

    def parse(self, callback: Callback) -> list[Any]:
        """The handler's arguments from ``callback``, checked (``InvalidCallback`` if not)."""
        if len(callback.args) != len(self.parsers):
            raise InvalidCallback(f"{self.code}: {len(callback.args)} arguments")
        return [parse(arg) for parse, arg in zip(self.parsers, callback.args, strict=True)]

    async def run(self, turn: Any, callback: Callback) -> None:
        await self.handler(turn, *self.parse(callback))


REGISTRY: dict[str, Action] = {}
_CODE_OF: dict[Handler, str] = {}


def action(
    code: str, *, changes_registration: bool = False, shows_event: bool = False
) -> Callable[[Handler], Handler]:
    """Declare ``handler`` as the one behind buttons with ``code``."""
    if not re.fullmatch(r"[A-Za-z]{2}", code):
        raise ValueError(f"button code {code!r}: two letters")

    def register(handler: Handler) -> Handler:
        if code in REGISTRY:
            taken = REGISTRY[code].handler.__qualname__
            raise ValueError(f"button code {code!r} is taken by {taken}")
        REGISTRY[code] = Action(
            code,
            handler,
            _parsers(handler),
            changes_registration=changes_registration,
            shows_event=shows_event,
        )
        _CODE_OF[handler] = code
        return handler

    return register


def code_of(handler: Handler) -> str:
    try:
        return _CODE_OF[handler]
    except KeyError:
        raise ValueError(f"{handler.__qualname__} is not a button handler (@action)") from None


def arity(handler: Handler) -> int:
    return len(REGISTRY[code_of(handler)].parsers)


def find(code: str) -> Action:
    try:
        return REGISTRY[code]
    except KeyError:
        raise InvalidCallback(f"unknown button {code!r}") from None


def _parsers(handler: Handler) -> tuple[Callable[[str], Any], ...]:
    """The parsers of every parameter after ``turn``, from their annotations (as written)."""
    parameters = list(inspect.signature(handler).parameters.values())[1:]
    parsers = []
    for parameter in parameters:
        annotation = parameter.annotation
        name = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
        if name not in PARSERS:
            raise TypeError(
                f"{handler.__qualname__}({parameter.name}): a button argument is one of "
                f"{', '.join(PARSERS)}, not {name or annotation!r}"
            )
        parsers.append(PARSERS[name])
    return tuple(parsers)
