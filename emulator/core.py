"""``TelegramEmulator``: one emulated bot account, the people around it, and its ASGI app.

The emulator owns all state (see ``state.py``); the Bot API handlers (``methods.py``), the scripted
people (``people.py``) and the control API (``control.py``) are thin layers that read and change
it through the helpers here. Every change goes through ``changed()``, which assigns a revision and
wakes everything that waits (long polls, ``wait_for_message``, the control API's feed).

The waiting helpers take ``timeout=`` on purpose (hence the ``noqa: ASYNC109``): a test that says
how long it is willing to wait reads better than one wrapped in ``asyncio.timeout``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import cached_property
from random import Random
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.applications import Starlette

from emulator.faults import Faults
from emulator.files import FileStore
from emulator.limits import Clock, Limits, RateLimiter
from emulator.people import Channel, Group, Person
from emulator.state import (
    CallbackQuery,
    Chat,
    ChatType,
    EditRecord,
    JsonDict,
    Message,
    Signal,
    Stats,
    User,
)
from emulator.updates import UpdateQueue
from emulator.webhook import WebhookDeliverer

if TYPE_CHECKING:
    from emulator.botapi import BotApi

T = TypeVar("T")

DEFAULT_TOKEN = "123456789:AAEmulatorTestTokenForBuurtagenda0000"
FIRST_USER_ID = 100_000_001
FIRST_GROUP_ID = -4_000_000_001  # basic groups have small negative ids
FIRST_CHANNEL_ID = -1_002_000_000_001  # supergroups and channels: -100...


class TelegramEmulator:
    """An in-process Telegram for one bot.

    Typical use::

        emu = TelegramEmulator()
        async with serve(emu) as url:
            ...build a python-telegram-bot Application with base_url(f"{url}/bot")...
            alice = emu.user("Alice", language_code="nl")
            reply = await alice.ask("/start")  # the bot's first message after it
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "buurtagenda_test_bot",
        bot_first_name: str = "Buurtagenda",
        limits: Limits | None = None,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        seed: int = 0,
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = False,
        supports_inline_queries: bool = False,
        strict_webhook_urls: bool = False,
        webhook_retry_delays: Sequence[float] = (0.05, 0.2, 1.0, 5.0),
        callback_query_ttl_s: float | None = 15.0,
        close_grace_s: float = 600.0,
        first_update_id: int = 1,
    ) -> None:
        self.token = token
        self.bot = User(id=int(token.split(":")[0]), first_name=bot_first_name, is_bot=True)
        self.bot.username = bot_username
        self.can_join_groups = can_join_groups
        self.can_read_all_group_messages = can_read_all_group_messages
        self.supports_inline_queries = supports_inline_queries
        self.strict_webhook_urls = strict_webhook_urls
        self.webhook_retry_delays = tuple(webhook_retry_delays)
        self.callback_query_ttl_s = callback_query_ttl_s
        self.close_grace_s = close_grace_s

        self.clock = clock
        self.wall_clock = wall_clock
        self.rng = Random(seed)
        self.signal = Signal()
        self.queue = UpdateQueue(self.signal, first_update_id)
        self.limiter = RateLimiter(limits, clock)
        self.faults = Faults(seed)
        self.stats = Stats()
        self.files = FileStore(self.rng)
        self.webhook = WebhookDeliverer(self)

        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.people: dict[int, Person] = {}
        self.callback_queries: dict[str, CallbackQuery] = {}
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}
        self.sent: list[Message] = []  # every message the bot sent, in order
        self.edits: list[EditRecord] = []  # every successful edit by the bot
        self.logged_out = False
        self.started_at = clock()

        self._seq = 0
        self._revision = 0
        self._next_user_id = FIRST_USER_ID
        self._next_group_id = FIRST_GROUP_ID
        self._next_channel_id = FIRST_CHANNEL_ID

    # ------------------------------------------------------------------------- configuration --

    @property
    def limits(self) -> Limits:
        return self.limiter.limits

    @limits.setter
    def limits(self, limits: Limits) -> None:
        self.limiter.limits = limits

    def get_me(self) -> JsonDict:
        return {
            **self.bot.to_api(),
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": self.supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @cached_property
    def api(self) -> BotApi:
        """The Bot API dispatcher; ``await emu.api.call("sendMessage", chat_id=..)`` works too."""
        from emulator.botapi import BotApi

        return BotApi(self)

    @cached_property
    def app(self) -> Starlette:
        """The ASGI app: Bot API (/bot<token>/), files (/file/), control API (/_emulator)."""
        from emulator.botapi import build_app

        return build_app(self)

    def open(self) -> None:
        """Accept long polls again (``serve()`` calls this, so an emulator can be re-served)."""
        self.queue.reopen()

    async def aclose(self) -> None:
        """Release long polls and stop webhook delivery; call before stopping the server."""
        self.queue.close()
        await self.webhook.stop()

    # ------------------------------------------------------------------------ people & chats --

    def user(
        self,
        first_name: str = "Alice",
        *,
        id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "nl",
        started: bool = True,
    ) -> Person:
        """A person with a private chat with the bot.

        ``started=False`` models someone who never pressed Start: the bot then gets 403
        "bot can't initiate conversation with a user" until they write.
        """
        user_id = id if id is not None else self._take_user_id()
        user = User(user_id, first_name, last_name, username, language_code)
        self.users[user_id] = user
        chat = self._add_chat(user_id, "private", user=user, started=started)
        person = Person(self, user, chat)
        self.people[user_id] = person
        return person

    def add_demo_users(self) -> list[Person]:
        """A few neighbours for the browser sandbox (idempotent: existing ones are reused)."""
        demo = [
            (900_000_001, "Anouk", "anouk_wyck", "nl"),
            (900_000_002, "Bram", "bram_mariaberg", "nl"),
            (900_000_003, "Fatima", "fatima_m", "en"),
        ]
        return [
            self.people.get(user_id)
            or self.user(name, id=user_id, username=username, language_code=language)
            for user_id, name, username, language in demo
        ]

    def person(self, user_id: int) -> Person:
        return self.people[user_id]

    def group(
        self,
        title: str,
        members: Sequence[Person] = (),
        *,
        id: int | None = None,
        supergroup: bool = False,
        bot_is_admin: bool = False,
    ) -> Group:
        """A group the bot is a member of, with ``members`` in it."""
        chat_id = id if id is not None else self._take_group_id(supergroup)
        chat = self._add_chat(
            chat_id, "supergroup" if supergroup else "group", title=title, bot_admin=bot_is_admin
        )
        chat.members.update({p.user.id: p.user for p in members})
        return Group(self, chat)

    def channel(self, title: str, *, username: str | None = None, id: int | None = None) -> Channel:
        """A channel in which the bot is an administrator (so it receives channel posts)."""
        chat_id = id if id is not None else self._take_group_id(True)
        chat = self._add_chat(chat_id, "channel", title=title, username=username, bot_admin=True)
        return Channel(self, chat)

    def resolve_chat(self, chat_id: str | int) -> Chat | None:
        """A chat by numeric id or "@username" (usernames resolve for public chats only)."""
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            name = chat_id[1:].lower()
            return next(
                (c for c in self.chats.values() if c.username and c.username.lower() == name),
                None,
            )
        try:
            return self.chats.get(int(chat_id))
        except ValueError:
            return None

    def _add_chat(self, chat_id: int, chat_type: ChatType, **fields: Any) -> Chat:
        if chat_id in self.chats:
            raise ValueError(f"chat {chat_id} already exists")
        instance = str(self.rng.getrandbits(63) - (1 << 62))
        chat = Chat(id=chat_id, type=chat_type, chat_instance=instance, **fields)
        self.chats[chat_id] = chat
        return chat

    def _take_user_id(self) -> int:
        while self._next_user_id in self.users:
            self._next_user_id += 1
        self._next_user_id += 1
        return self._next_user_id - 1

    def _take_group_id(self, channel_like: bool) -> int:
        if channel_like:
            self._next_channel_id -= 1
            return self._next_channel_id + 1
        self._next_group_id -= 1
        return self._next_group_id + 1

    # ----------------------------------------------------------------------------- changes --

    @property
    def current_seq(self) -> int:
        """The ``seq`` of the newest message; later messages have larger values."""
        return self._seq

    def now_date(self) -> int:
        return int(self.wall_clock())

    def changed(self, chat: Chat, message: Message | None = None) -> int:
        """Record a change to ``chat`` (and ``message``) and wake every waiter."""
        self._revision += 1
        chat.revision = self._revision
        if message is not None:
            message.revision = self._revision
        self.signal.notify()
        return self._revision

    def add_message(self, chat: Chat, **content: Any) -> Message:
        """Store a new message in ``chat`` (from a user or from the bot)."""
        self._seq += 1
        message = Message(
            chat=chat,
            message_id=chat.next_message_id(),
            date=self.now_date(),
            seq=self._seq,
            arrived_at=self.clock(),
            **content,
        )
        chat.messages[message.message_id] = message
        self.changed(chat, message)
        return message

    def push_update(self, kind: str, payload: JsonDict) -> int | None:
        update_id = self.queue.push(kind, payload)
        if update_id is not None:
            self.stats.updates_created += 1
        return update_id

    def bot_sees(self, message: Message) -> bool:
        """Group privacy mode: without "read all group messages" a bot only gets commands,
        replies to itself and mentions of itself."""
        chat = message.chat
        if not chat.is_group or self.can_read_all_group_messages or chat.bot_admin:
            return chat.bot_member and not chat.bot_kicked
        if not chat.bot_member or chat.bot_kicked:
            return False
        text = message.content
        mention = f"@{self.bot.username}".lower()
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0].lower()
            return "@" not in command or command.endswith(mention)
        if message.reply_to is not None and message.reply_to.from_bot:
            return True
        return mention in text.lower()

    # ---------------------------------------------------------------------------- waiting --

    async def wait_until(
        self,
        probe: Callable[[], T | None],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        describe: Callable[[], str] | str = "condition",
    ) -> T:
        """Wait until ``probe()`` returns something other than None (re-checked on every
        change, never by sleeping) and return it."""
        text = describe

        def explain() -> str:
            return text if isinstance(text, str) else text()

        return await self.signal.wait_for(probe, timeout, explain)

    async def wait_for_message(
        self,
        chat: Chat | Person | Group | Channel | int,
        predicate: Callable[[Message], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        after: int | None = None,
    ) -> Message:
        """The next bot message in ``chat`` that this helper has not returned before.

        ``after`` (a ``Message.seq``) overrides the read cursor, e.g. "the first reply after
        this user message". Messages that do not match ``predicate`` are skipped.
        """
        target = self._chat_of(chat)
        start = target.read_seq if after is None else after

        def probe() -> Message | None:
            for message in target.bot_messages():
                if message.seq > start and (predicate is None or predicate(message)):
                    return message
            return None

        def describe() -> str:
            seen = [m.content[:60] for m in target.bot_messages() if m.seq > start]
            return f"no matching bot message in chat {target.id}; unread bot messages: {seen}"

        message = await self.wait_until(probe, timeout=timeout, describe=describe)
        target.read_seq = max(target.read_seq, message.seq)
        return message

    async def wait_for_delivery(
        self,
        update_id: int,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Until the bot confirmed ``update_id`` (next getUpdates offset, or webhook 2xx)."""
        await self.wait_until(
            lambda: None if self.queue.is_pending(update_id) else True,
            timeout=timeout,
            describe=f"update {update_id} was not confirmed by the bot",
        )

    def _chat_of(self, chat: Chat | Person | Group | Channel | int) -> Chat:
        if isinstance(chat, Chat):
            return chat
        if isinstance(chat, int):
            return self.chats[chat]
        return chat.chat

    # ------------------------------------------------------------------------- inspection --

    def messages_to(self, chat: Chat | Person | Group | Channel | int) -> list[Message]:
        """What the bot sent to ``chat`` and is still visible, oldest first."""
        return self._chat_of(chat).bot_messages()

    def last_message_to(self, chat: Chat | Person | Group | Channel | int) -> Message | None:
        messages = self.messages_to(chat)
        return messages[-1] if messages else None

    def commands_for(
        self, chat: Chat | Person | Group | int, language_code: str = ""
    ) -> list[JsonDict]:
        """The command menu a client shows in ``chat``: Telegram's scope and language fallback."""
        target = self._chat_of(chat)
        scopes = [f"chat:{target.id}"]
        scopes.append("all_private_chats" if target.type == "private" else "all_group_chats")
        scopes.append("default")
        for scope in scopes:
            for language in (language_code, ""):
                if (scope, language) in self.commands:
                    return self.commands[(scope, language)]
        return []
