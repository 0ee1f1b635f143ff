"""The bot tests of this feature use the same world as tests/bot: the real Application, the
emulator over HTTP, a SQLite file."""

from __future__ import annotations

from tests.bot.conftest import world

__all__ = ["world"]
