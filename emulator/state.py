"""What the emulated Telegram knows: users, chats, messages, files, callback queries.

Everything here is plain data plus ``to_api()`` methods that render the exact JSON shapes of the
Bot API (``User``, ``Chat``, ``Message``, ``Document``, ``PhotoSize``, ``Sticker``...), omitting
empty optional fields the way Telegram does. All mutation happens on one event loop; every change
bumps a revision and fires the shared ``Signal`` so waiters can re-check their condition instead
of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from emulator.entities import Entity

JsonDict = dict[str, Any]
ChatType = Literal["private", "group", "supergroup", "channel"]
T = TypeVar("T")


class Signal:
    """A broadcast "something changed" that any number of coroutines can await.

    ``notify()`` is synchronous so plain functions (bot API handlers, scripted users) can call it;
    waiters always re-check their own predicate, so spurious wake-ups are harmless.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(
        self,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> None:
        """Wait for the next ``notify()`` or until ``timeout`` passes, whichever comes first."""
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    async def wait_for(
        self,
        probe: Callable[[], T | None],
        timeout: float,  # noqa: ASYNC109
        describe: Callable[[], str],
    ) -> T:
        """Return ``probe()``'s first non-None value; ``TimeoutError`` (with ``describe()``)
        if there is none within ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                while (value := probe()) is None:
                    await self._event.wait()
                return value
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout}s: {describe()}") from None


@dataclass(eq=False)
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    is_premium: bool = False
    deactivated: bool = False

    def to_api(self) -> JsonDict:
        data: JsonDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        if self.is_premium:
            data["is_premium"] = True
        return data


@dataclass(eq=False)
class StoredFile:
    """A file Telegram holds: uploaded by the bot or sent by a user. Bytes are kept verbatim."""

    file_id: str
    file_unique_id: str
    kind: Literal["document", "photo", "sticker"]
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    emoji: str | None = None
    url: str | None = None  # sent by URL: Telegram would download it, the emulator does not

    @property
    def size(self) -> int:
        return len(self.data)

    def to_api(self) -> JsonDict:
        data: JsonDict = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.kind == "document":
            if self.file_name:
                data["file_name"] = self.file_name
            if self.mime_type:
                data["mime_type"] = self.mime_type
        else:
            data["width"] = self.width
            data["height"] = self.height
        if self.kind == "sticker":
            data.update(type="regular", is_animated=False, is_video=False)
            if self.emoji:
                data["emoji"] = self.emoji
        if self.size:
            data["file_size"] = self.size
        return data

    def file_api(self) -> JsonDict:
        """The ``File`` object getFile returns."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


@dataclass(frozen=True)
class CallbackAnswer:
    """What the bot said when it answered a button press (the toast or alert)."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int
    at: float
    revision: int

    def to_api(self) -> JsonDict:
        return {
            "callback_query_id": self.callback_query_id,
            "text": self.text,
            "show_alert": self.show_alert,
            "url": self.url,
            "revision": self.revision,
        }


@dataclass(eq=False)
class Chat:
    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    user: User | None = None  # the person on the other side of a private chat
    members: dict[int, User] = field(default_factory=dict)
    chat_instance: str = "0"
    # The bot's standing in the chat; these decide Telegram's 403 answers.
    blocked: bool = False  # private: the user blocked the bot
    started: bool = True  # private: the user has pressed Start (bots cannot write first)
    bot_member: bool = True  # groups and channels
    bot_admin: bool = False
    bot_kicked: bool = False
    messages: dict[int, Message] = field(default_factory=dict)
    last_message_id: int = 0
    read_seq: int = 0  # cursor of wait_for_message(): bot messages up to here were consumed
    action: str | None = None  # last sendChatAction ("typing", ...)
    keyboard: JsonDict | None = None  # the reply keyboard the client currently shows
    callback_answers: list[CallbackAnswer] = field(default_factory=list)
    revision: int = 0

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def to_api(self) -> JsonDict:
        data: JsonDict = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
            return data
        if self.title:
            data["title"] = self.title
        if self.username:
            data["username"] = self.username
        return data

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id

    def live_messages(self) -> Iterator[Message]:
        return (m for m in self.messages.values() if not m.deleted)

    def bot_messages(self) -> list[Message]:
        """What the bot sent here, oldest first, as currently shown (after edits/deletes)."""
        return [m for m in self.live_messages() if m.from_bot]


@dataclass(eq=False)
class Message:
    chat: Chat
    message_id: int
    date: int
    seq: int  # emulator-wide arrival order
    arrived_at: float  # monotonic clock at arrival
    sender: User | None = None
    sender_chat: Chat | None = None  # channel posts
    text: str | None = None
    entities: list[Entity] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[Entity] = field(default_factory=list)
    document: StoredFile | None = None
    photo: list[StoredFile] = field(default_factory=list)
    sticker: StoredFile | None = None
    reply_markup: JsonDict | None = None
    reply_to: Message | None = None
    edit_date: int | None = None
    deleted: bool = False
    revision: int = 0
    edit_count: int = 0
    by_bot: bool = False  # sent by our bot (in channels it posts as the channel, without "from")

    @property
    def from_bot(self) -> bool:
        return self.by_bot

    @property
    def content(self) -> str:
        """Text or caption, whichever the message has."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def inline_markup(self) -> JsonDict | None:
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            return self.reply_markup
        return None

    def inline_buttons(self) -> list[JsonDict]:
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [button for row in self.reply_markup["inline_keyboard"] for button in row]

    def button(self, text: str | None = None, *, data: str | None = None) -> JsonDict:
        """The inline button with this label (or callback_data); ``LookupError`` if none."""
        for button in self.inline_buttons():
            if (text is None or button.get("text") == text) and (
                data is None or button.get("callback_data") == data
            ):
                return button
        labels = [b.get("text") for b in self.inline_buttons()]
        raise LookupError(f"no button text={text!r} data={data!r} on message; buttons: {labels}")

    def to_api(self, *, nested: bool = True) -> JsonDict:
        data: JsonDict = {"message_id": self.message_id}
        if self.sender is not None:
            data["from"] = self.sender.to_api()
        if self.sender_chat is not None:
            data["sender_chat"] = self.sender_chat.to_api()
        data["date"] = self.date
        data["chat"] = self.chat.to_api()
        if self.reply_to is not None and nested and not self.reply_to.deleted:
            data["reply_to_message"] = self.reply_to.to_api(nested=False)
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = [e.to_api() for e in self.entities]
        if self.document is not None:
            data["document"] = self.document.to_api()
        if self.photo:
            data["photo"] = [p.to_api() for p in self.photo]
        if self.sticker is not None:
            data["sticker"] = self.sticker.to_api()
        if self.caption:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = [e.to_api() for e in self.caption_entities]
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            # Only inline keyboards are part of a Message; reply keyboards belong to the client.
            data["reply_markup"] = self.reply_markup
        return data


@dataclass(eq=False)
class CallbackQuery:
    id: str
    user: User
    message: Message
    data: str
    chat_instance: str
    created_at: float
    answer: CallbackAnswer | None = None
    revision_at_press: int = 0

    def to_api(self) -> JsonDict:
        return {
            "id": self.id,
            "from": self.user.to_api(),
            "message": self.message.to_api(),
            "chat_instance": self.chat_instance,
            "data": self.data,
        }


@dataclass(frozen=True)
class EditRecord:
    """One successful edit by the bot, kept for tests and benchmarks."""

    chat_id: int
    message_id: int
    at: float
    text_before: str | None
    text_after: str | None
    markup_before: JsonDict | None
    markup_after: JsonDict | None


@dataclass
class Stats:
    """Counters for tests and benchmarks; ``to_api()`` is what the control API returns."""

    requests: Counter[str] = field(default_factory=Counter)
    responses: Counter[int] = field(default_factory=Counter)
    too_many_requests: int = 0
    injected_faults: int = 0
    messages_sent: int = 0
    edits: int = 0
    deletions: int = 0
    callback_answers: int = 0
    updates_created: int = 0
    webhook_deliveries: int = 0
    webhook_failures: int = 0

    def to_api(self) -> JsonDict:
        return {
            "requests": dict(self.requests),
            "responses": {str(code): n for code, n in self.responses.items()},
            "too_many_requests": self.too_many_requests,
            "injected_faults": self.injected_faults,
            "messages_sent": self.messages_sent,
            "edits": self.edits,
            "deletions": self.deletions,
            "callback_answers": self.callback_answers,
            "updates_created": self.updates_created,
            "webhook_deliveries": self.webhook_deliveries,
            "webhook_failures": self.webhook_failures,
        }
