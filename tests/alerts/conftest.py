"""The bot tests here drive the real bot through the emulator, as tests/bot does."""

from tests.bot.conftest import world  # noqa: F401  (the fixture)
