"""Scripted people: users in private chats, groups and channels, acting like Telegram clients.

Every action stores the message the way Telegram would and queues the matching update
(``message``, ``edited_message``, ``callback_query``, ``channel_post``...). Actions are plain
synchronous calls; what they return (``Sent``, ``Press``) has awaitable helpers to wait for the
bot's reaction without sleeping::

    alice = emu.user("Alice")
    reply = await alice.send("/start").reply()
    press = alice.press(reply, "Ja")
    assert (await press.answer()).text == "Genoteerd"
    edited = await press.edit()

Waiting helpers take ``timeout=`` deliberately (see ``core.py`` on ``noqa: ASYNC109``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator.entities import Entity, find_bot_commands
from emulator.files import guess_mime_type, image_size
from emulator.state import CallbackAnswer, CallbackQuery, Chat, Message, StoredFile, User

if TYPE_CHECKING:
    from emulator.core import TelegramEmulator

_DEEP_LINK_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# A minimal WebP header, enough for a sticker's bytes to look like one.
_STICKER_BYTES = b"RIFF\x1a\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\xff\x01\x00\xff\x01\x00"


@dataclass
class Sent:
    """A message a person sent, and the update it produced (None if the bot cannot see it)."""

    emulator: TelegramEmulator
    message: Message
    update_id: int | None
    after_seq: int  # bot messages with a larger seq came after this action

    async def reply(
        self,
        predicate: Callable[[Message], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Message:
        """The bot's first message in this chat after this one (matching ``predicate``)."""
        return await self.emulator.wait_for_message(
            self.message.chat, predicate, timeout=timeout, after=self.after_seq
        )

    async def replies(
        self,
        count: int,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[Message]:
        """The bot's first ``count`` messages in this chat after this one."""
        chat = self.message.chat

        def probe() -> list[Message] | None:
            later = [m for m in chat.bot_messages() if m.seq > self.after_seq]
            return later[:count] if len(later) >= count else None

        replies = await self.emulator.wait_until(
            probe, timeout=timeout, describe=f"fewer than {count} replies in chat {chat.id}"
        )
        chat.read_seq = max(chat.read_seq, replies[-1].seq)
        return replies

    async def delivered(
        self,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Until the bot confirmed the update (it was fetched and acknowledged)."""
        if self.update_id is None:
            raise ValueError("this message produced no update (privacy mode or allowed_updates)")
        await self.emulator.wait_for_delivery(self.update_id, timeout=timeout)


@dataclass
class Press:
    """A pressed inline button: the callback query and what became of it."""

    emulator: TelegramEmulator
    query: CallbackQuery
    update_id: int | None
    seq_at_press: int
    edits_at_press: int

    async def answer(
        self,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """The bot's answerCallbackQuery (its ``text`` is the toast the user sees)."""
        return await self.emulator.wait_until(
            lambda: self.query.answer,
            timeout=timeout,
            describe=f"callback query {self.query.data!r} was not answered",
        )

    async def edit(
        self,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Message:
        """The pressed message once the bot has edited it."""
        message = self.query.message
        return await self.emulator.wait_until(
            lambda: message if message.edit_count > self.edits_at_press else None,
            timeout=timeout,
            describe=f"message {message.message_id} was not edited; text: {message.content!r}",
        )

    async def reply(
        self,
        predicate: Callable[[Message], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Message:
        """The bot's first new message in the chat after the press."""
        return await self.emulator.wait_for_message(
            self.query.message.chat, predicate, timeout=timeout, after=self.seq_at_press
        )


class _Conversation:
    """Reading what the bot sent to one chat."""

    def __init__(self, emulator: TelegramEmulator, chat: Chat) -> None:
        self.emulator = emulator
        self.chat = chat

    @property
    def id(self) -> int:
        return self.chat.id

    @property
    def messages(self) -> list[Message]:
        """The bot's messages here as the user now sees them (edits applied, deletes gone)."""
        return self.chat.bot_messages()

    @property
    def last(self) -> Message | None:
        messages = self.messages
        return messages[-1] if messages else None

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        return list(self.chat.callback_answers)

    async def wait_for_message(
        self,
        predicate: Callable[[Message], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Message:
        """The next bot message here not returned before (see TelegramEmulator)."""
        return await self.emulator.wait_for_message(self.chat, predicate, timeout=timeout)

    def _post(self, sender: User | None, **content: Any) -> Sent:
        """Store a message from ``sender`` and queue its update if the bot may see it."""
        chat = self.chat
        if chat.type == "private":
            # Writing to a bot starts the chat, and undoes a block.
            chat.started, chat.blocked = True, False
        message = self.emulator.add_message(chat, sender=sender, **content)
        kind = "channel_post" if chat.type == "channel" else "message"
        update_id = None
        if self.emulator.bot_sees(message):
            update_id = self.emulator.push_update(kind, message.to_api())
        return Sent(self.emulator, message, update_id, message.seq)

    def _edit(self, message: Message, text: str) -> Sent:
        if message.chat is not self.chat or message.from_bot or message.text is None:
            raise ValueError("people can only edit their own text messages in this chat")
        message.text, message.entities = _text_content(text)
        message.edit_date = self.emulator.now_date()
        message.edit_count += 1
        self.emulator.changed(self.chat, message)
        kind = "edited_channel_post" if self.chat.type == "channel" else "edited_message"
        update_id = None
        if self.emulator.bot_sees(message):
            update_id = self.emulator.push_update(kind, message.to_api())
        return Sent(self.emulator, message, update_id, self.emulator.current_seq)

    def _press(
        self,
        user: User,
        message: Message,
        text: str | None,
        data: str | None,
        *,
        forged: bool = False,
    ) -> Press:
        if message.deleted or message.chat is not self.chat:
            raise ValueError("that message is not in this chat (any more)")
        if forged:
            if data is None:
                raise ValueError("a forged press needs the data to send")
            callback_data = data
        else:
            button = message.button(text, data=data)
            if "callback_data" not in button:
                raise ValueError(f"button {button['text']!r} has no callback_data")
            callback_data = button["callback_data"]
        emulator = self.emulator
        query = CallbackQuery(
            id=str(emulator.rng.getrandbits(63)),
            user=user,
            message=message,
            data=callback_data,
            chat_instance=self.chat.chat_instance,
            created_at=emulator.clock(),
        )
        emulator.callback_queries[query.id] = query
        seq, edits = emulator.current_seq, message.edit_count
        update_id = emulator.push_update("callback_query", query.to_api())
        return Press(emulator, query, update_id, seq, edits)


def _text_content(text: str) -> tuple[str, list[Entity]]:
    """A typed message: trimmed, with the bot_command entities Telegram detects."""
    text = text.strip()
    if not text:
        raise ValueError("Telegram does not send empty messages")
    return text, find_bot_commands(text)


class Person(_Conversation):
    """A user in their private chat with the bot."""

    def __init__(self, emulator: TelegramEmulator, user: User, chat: Chat) -> None:
        super().__init__(emulator, chat)
        self.user = user

    def send(self, text: str, *, reply_to: Message | None = None) -> Sent:
        body, entities = _text_content(text)
        return self._post(self.user, text=body, entities=entities, reply_to=reply_to)

    def command(self, command: str, *args: str) -> Sent:
        return self.send(" ".join(["/" + command.lstrip("/"), *args]))

    def start(self, payload: str | None = None) -> Sent:
        """Open the bot via a t.me/<bot>?start=<payload> deep link: sends "/start <payload>"."""
        if payload is not None and not _DEEP_LINK_PAYLOAD.match(payload):
            raise ValueError("deep link payloads are 1-64 characters of A-Z, a-z, 0-9, _ and -")
        return self.send("/start" if payload is None else f"/start {payload}")

    async def ask(
        self,
        text: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Message:
        """Send ``text`` and return the bot's first message after it."""
        return await self.send(text).reply(timeout=timeout)

    def send_sticker(self, emoji: str = "👍") -> Sent:
        sticker = self.emulator.files.add(
            "sticker", _STICKER_BYTES, mime_type="image/webp", width=512, height=512, emoji=emoji
        )
        return self._post(self.user, sticker=sticker)

    def send_photo(self, data: bytes, *, caption: str | None = None) -> Sent:
        width, height = image_size(data) or (512, 512)
        photo = self.emulator.files.add_photo(data, width, height)
        return self._post(self.user, photo=photo, **_caption(caption))

    def send_document(
        self,
        data: bytes,
        file_name: str,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> Sent:
        document: StoredFile = self.emulator.files.add(
            "document",
            data,
            file_name=file_name,
            mime_type=mime_type or guess_mime_type(file_name) or "application/octet-stream",
        )
        return self._post(self.user, document=document, **_caption(caption))

    def edit(self, message: Message, text: str) -> Sent:
        """Edit one of this person's own messages (an ``edited_message`` update)."""
        return self._edit(message, text)

    def press(self, message: Message, text: str | None = None, *, data: str | None = None) -> Press:
        """Press the inline button labelled ``text`` (or carrying ``data``) under ``message``."""
        return self._press(self.user, message, text, data)

    def forge_press(self, message: Message, data: str) -> Press:
        """What a tampered client or a replayed request sends: callback data that is on no
        button of ``message`` (Telegram's apps never do this; a bot must not trust the data)."""
        return self._press(self.user, message, None, data, forged=True)

    def block(self) -> None:
        """Block the bot: its sends to this chat now fail with 403."""
        self.chat.blocked = True

    def unblock(self) -> None:
        self.chat.blocked = False

    def deactivate(self) -> None:
        """Delete the account: sends fail with 403 "user is deactivated"."""
        self.user.deactivated = True


def _caption(caption: str | None) -> dict[str, Any]:
    if not caption:
        return {}
    text, entities = _text_content(caption)
    return {"caption": text, "caption_entities": entities}


class Group(_Conversation):
    """A group with the bot in it."""

    def add(self, person: Person) -> None:
        self.chat.members[person.user.id] = person.user

    def send(self, person: Person, text: str, *, reply_to: Message | None = None) -> Sent:
        if person.user.id not in self.chat.members:
            raise ValueError(f"{person.user.first_name} is not a member of {self.chat.title}")
        body, entities = _text_content(text)
        return self._post(person.user, text=body, entities=entities, reply_to=reply_to)

    def edit(self, message: Message, text: str) -> Sent:
        return self._edit(message, text)

    def press(
        self, person: Person, message: Message, text: str | None = None, *, data: str | None = None
    ) -> Press:
        return self._press(person.user, message, text, data)

    def remove_bot(self) -> None:
        """Kick the bot: sends fail with 403 "bot was kicked from the group chat"."""
        self.chat.bot_kicked = True


class Channel(_Conversation):
    """A channel with the bot as administrator; posts arrive as ``channel_post`` updates."""

    def post(self, text: str) -> Sent:
        body, entities = _text_content(text)
        return self._post(None, sender_chat=self.chat, text=body, entities=entities)

    def edit(self, message: Message, text: str) -> Sent:
        return self._edit(message, text)
