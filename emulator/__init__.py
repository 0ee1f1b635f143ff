"""A Telegram Bot API emulator for driving a real python-telegram-bot Application in tests.

See ``emulator/README.md``. The public API::

    from emulator import TelegramEmulator, Limits, serve, bot_api_urls

    emu = TelegramEmulator(limits=Limits().scaled(10))
    async with serve(emu) as url:
        urls = bot_api_urls(url)
        app = (ApplicationBuilder().token(emu.token)
               .base_url(urls.base_url).base_file_url(urls.base_file_url).build())
        ...
        alice = emu.user("Alice")
        reply = await alice.send("/start").reply()
"""

from emulator.core import DEFAULT_TOKEN, TelegramEmulator
from emulator.entities import Entity, EntityParseError, entity_text, utf16_len
from emulator.errors import ApiError
from emulator.faults import Faults
from emulator.limits import Limits, RateLimiter
from emulator.people import Channel, Group, Person, Press, Sent
from emulator.server import BotApiUrls, bot_api_urls, running_emulator, serve
from emulator.state import (
    CallbackAnswer,
    CallbackQuery,
    Chat,
    EditRecord,
    Message,
    Stats,
    StoredFile,
    User,
)

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "BotApiUrls",
    "CallbackAnswer",
    "CallbackQuery",
    "Channel",
    "Chat",
    "EditRecord",
    "Entity",
    "EntityParseError",
    "Faults",
    "Group",
    "Limits",
    "Message",
    "Person",
    "Press",
    "RateLimiter",
    "Sent",
    "Stats",
    "StoredFile",
    "TelegramEmulator",
    "User",
    "bot_api_urls",
    "entity_text",
    "running_emulator",
    "serve",
    "utf16_len",
]
