"""A real python-telegram-bot Application, our handlers, a real SQLite file, and the emulator
over real HTTP. Nothing of python-telegram-bot is mocked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.app import build_application
from bot.callbacks import CallbackSigner
from bot.context import BotDeps
from bot.ratelimit import SendRates
from emulator import Limits, Message, Person, TelegramEmulator, serve
from emulator.testing import polling
from models.clock import FrozenClock
from models.db import Database
from models.registrations.policy import RegistrationPolicy


@dataclass
class World:
    emulator: TelegramEmulator
    deps: BotDeps
    db: Database
    clock: FrozenClock
    application: Any

    def person(self, name: str = "Anouk", language: str = "nl") -> Person:
        return self.emulator.user(name, language_code=language)


def buttons(message: Message) -> list[tuple[str, str]]:
    """(label, callback_data) of every inline button, row by row."""
    markup: dict[str, Any] = message.reply_markup or {}
    return [
        (button["text"], button.get("callback_data", ""))
        for row in markup.get("inline_keyboard", [])
        for button in row
    ]


def labels(message: Message) -> list[str]:
    return [label for label, _ in buttons(message)]


def press(person: Person, message: Message, label_part: str):  # type: ignore[no-untyped-def]
    """Press the button labelled ``label_part``, or else the one label containing it."""
    if label_part in labels(message):
        return person.press(message, label_part)
    matches = [label for label in labels(message) if label_part in label]
    assert len(matches) == 1, f"{label_part!r} in {labels(message)}"
    return person.press(message, matches[0])


@pytest.fixture
async def world(sqlite_db: Database, clock: FrozenClock) -> AsyncIterator[World]:
    # Telegram's limits, ten times as fast: the same shapes, a shorter wait.
    emulator = TelegramEmulator(limits=Limits().scaled(10))
    async with serve(emulator) as url:
        deps = BotDeps(
            database=sqlite_db,
            clock=clock,
            policy=RegistrationPolicy(),
            signer=CallbackSigner(emulator.token),
        )
        application = build_application(
            deps, token=emulator.token, base_url=url, rates=SendRates().scaled(10)
        )
        async with polling(application, poll_timeout=1):
            yield World(emulator, deps, sqlite_db, clock, application)
