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
word), ``EventCode`` (an event's public code) and ``Token`` (a dialog's or flow's short id);
``EventCode | None`` and ``int | None`` travel as an empty argument for None. A handler with
another annotation fails at import, not at the first press. Trailing parameters with a default
may be left out of a button (an older button that carried fewer arguments keeps working), and
``@action(..., older=n)``: the last n parameters only come from buttons made by an older version
(new buttons leave them out, so what is made now stays within 64 bytes; old ones keep working).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, NewType

from telegram import InlineKeyboardButton

from bot.callbacks import Callback, CallbackSigner, InvalidCallback

# The public code of an event (``Event.public_code``): letters, digits, - and _.
EventCode = NewType("EventCode", str)
# A short opaque id of something a button belongs to (a dialog's token, a draft's id).
Token = NewType("Token", str)
# A dialog's answer carried by a choice button: any text that fits (the signature guards it).
Value = NewType("Value", str)

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


def _optional(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An empty argument is None (a button made with ``""`` for it)."""

    def parse_optional(value: str) -> Any:
        return None if value == "" else parse(value)

    return parse_optional


def _value(value: str) -> Value:
    if not value or len(value.encode()) > 40:
        raise InvalidCallback("not a choice")
    return Value(value)


PARSERS: dict[str, Callable[[str], Any]] = {
    "Value": _value,
    "int": _small_int,
    "str": _word,
    "EventCode": _event_code,
    "Token": _token,
    "int | None": _optional(_small_int),
    "EventCode | None": _optional(_event_code),
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
    # Arguments a button must carry; the parameters after them have defaults. None: all.
    required: int | None = None
    # Arguments only buttons of an older version carry, after ``parsers`` (``older``).
    older: tuple[Callable[[str], Any], ...] = ()

    def parse(self, callback: Callback) -> list[Any]:
        """The handler's arguments from ``callback``, checked (``InvalidCallback`` if not)."""
        required = len(self.parsers) if self.required is None else self.required
        parsers = (*self.parsers, *self.older)
        if not required <= len(callback.args) <= len(parsers):
            raise InvalidCallback(f"{self.code}: {len(callback.args)} arguments")
        return [parse(arg) for parse, arg in zip(parsers, callback.args, strict=False)]

    async def run(self, turn: Any, callback: Callback) -> None:
        await self.handler(turn, *self.parse(callback))


REGISTRY: dict[str, Action] = {}
_CODE_OF: dict[Handler, str] = {}


def action(
    code: str, *, changes_registration: bool = False, shows_event: bool = False, older: int = 0
) -> Callable[[Handler], Handler]:
    """Declare ``handler`` as the one behind buttons with ``code``; ``older``: how many of its
    last parameters (each with a default) only older buttons carry."""
    if not re.fullmatch(r"[A-Za-z]{2}", code):
        raise ValueError(f"button code {code!r}: two letters")

    def register(handler: Handler) -> Handler:
        if code in REGISTRY:
            taken = REGISTRY[code].handler.__qualname__
            raise ValueError(f"button code {code!r} is taken by {taken}")
        parsers = _parsers(handler)
        required = _required(handler)
        if older and required > len(parsers) - older:
            raise TypeError(f"{handler.__qualname__}: an older button's parameter has a default")
        REGISTRY[code] = Action(
            code,
            handler,
            parsers[: len(parsers) - older],
            changes_registration=changes_registration,
            shows_event=shows_event,
            required=required,
            older=parsers[len(parsers) - older :],
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


def button_for(
    signer: CallbackSigner, user_id: int, label: str, handler: Handler, *args: str | int
) -> InlineKeyboardButton:
    """A button for ``user_id`` that runs ``handler`` (an ``@action``) with ``args``: what
    ``Turn.button`` makes, for messages sent without a turn (``bot/notifications.py``)."""
    if len(args) != arity(handler):
        raise ValueError(f"{handler.__qualname__}: {len(args)} arguments")
    return InlineKeyboardButton(
        label, callback_data=signer.encode(user_id, code_of(handler), *args)
    )


# What to do next, kept as data (e.g. in a dialog's answers, so it survives a restart and needs
# no import of the feature it leads to): a declared action's code and its arguments.
Then = list[str | int]


def then(handler: Handler, *args: str | int) -> Then:
    """``handler`` with ``args``, to be run later by ``run_then`` (checked now, as a button)."""
    if len(args) != arity(handler):
        raise ValueError(f"{handler.__qualname__}: {len(args)} arguments")
    return [code_of(handler), *args]


async def run_then(turn: Any, then: Sequence[str | int]) -> None:
    """Run what ``then`` names, its arguments parsed and checked as a pressed button's are."""
    code, *args = then
    await find(str(code)).run(turn, Callback(str(code), tuple(str(arg) for arg in args)))


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


def _required(handler: Handler) -> int:
    """How many parameters after ``turn`` have no default (Python puts those first)."""
    parameters = list(inspect.signature(handler).parameters.values())[1:]
    return sum(1 for p in parameters if p.default is inspect.Parameter.empty)
