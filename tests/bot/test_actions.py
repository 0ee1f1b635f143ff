"""The typed button registry (bot/actions.py): codes unique, arguments parsed from signatures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot import actions
from bot.actions import EventCode, action
from bot.callbacks import Callback, CallbackSigner, InvalidCallback


@pytest.fixture
def scratch() -> Iterator[None]:
    """Codes registered in a test are taken out again, so tests do not leak into the bot."""
    before = dict(actions.REGISTRY)
    yield
    for code in set(actions.REGISTRY) - set(before):
        handler = actions.REGISTRY.pop(code).handler
        actions._CODE_OF.pop(handler, None)


async def test_arguments_are_parsed_from_the_signature(scratch: None) -> None:
    seen: list[Any] = []

    @action("zq")
    async def on_party(turn: object, event: EventCode, party: int) -> None:
        seen.append((event, party))

    await actions.find("zq").run(object(), Callback("zq", ("ab12", "3")))
    assert seen == [("ab12", 3)]
    for bad in (("ab12",), ("ab12", "3", "4"), ("ab12", "-1"), ("ab 12", "1"), ("ab12", "9" * 10)):
        with pytest.raises(InvalidCallback):
            await actions.find("zq").run(object(), Callback("zq", bad))
    assert seen == [("ab12", 3)]


def test_a_code_is_taken_once(scratch: None) -> None:
    @action("zr")
    async def first(turn: object) -> None: ...

    with pytest.raises(ValueError, match="taken by"):

        @action("zr")
        async def second(turn: object) -> None: ...


def test_an_unknown_argument_type_fails_at_import(scratch: None) -> None:
    with pytest.raises(TypeError, match="button argument"):

        @action("zs")
        async def on_float(turn: object, amount: float) -> None: ...


def test_unknown_code_is_refused() -> None:
    with pytest.raises(InvalidCallback):
        actions.find("??")


def test_every_bot_button_code_is_unique_and_short() -> None:
    import bot.buttons  # noqa: F401  (imports every feature, which declares its buttons)

    assert all(len(code.encode()) == 2 for code in actions.REGISTRY)
    # The longest data a declared button can carry still fits Telegram's 64 bytes for the
    # largest Telegram user id with the longest event code (32) and small numbers.
    signer = CallbackSigner("secret")
    for code, declared in actions.REGISTRY.items():
        longest = [
            "x" * (32 if parse is actions.PARSERS["EventCode"] else 9) for parse in declared.parsers
        ]
        assert len(signer.encode(2**52, code, *longest)) <= 64, code


async def test_a_continuation_is_data_and_runs_as_a_pressed_button(scratch: None) -> None:
    """``actions.then`` keeps a handler and its arguments as JSON-able data (a dialog stores it);
    ``run_then`` parses them as a button's: what is stored cannot reach a handler unchecked."""
    seen: list[Any] = []

    @action("zt")
    async def on_card(turn: object, event: EventCode) -> None:
        seen.append(event)

    later = actions.then(on_card, "ab12")
    assert later == ["zt", "ab12"]
    await actions.run_then(object(), later)
    assert seen == ["ab12"]
    with pytest.raises(ValueError):
        actions.then(on_card)  # an argument short, refused when it is made
    with pytest.raises(InvalidCallback):
        await actions.run_then(object(), ["zt", "ab 12"])
    assert seen == ["ab12"]


def test_a_button_names_its_handler_never_a_code() -> None:
    async def not_declared(turn: object) -> None: ...

    signer = CallbackSigner("123456:ABCDEF")
    with pytest.raises(ValueError, match="not a button handler"):
        actions.button_for(signer, 7, "Label", not_declared)
