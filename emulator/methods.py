"""The Bot API methods, one handler each, with Telegram's checks in Telegram's order.

A handler receives the call's ``Params`` and returns the ``result`` value (or ``Described`` when
Telegram adds a description to a successful answer); failures are ``ApiError``s. The checks run in
the order the official server runs them where it matters to a caller: parameters and markup
first, then the chat, then the content, then the bot's right to write, and the flood limits last,
so a refused send never costs a rate-limit token.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from emulator import errors
from emulator.entities import KNOWN_TYPES, Entity, EntityParseError, finalize, parse, utf16_len
from emulator.errors import ApiError, bad_request, conflict, forbidden, too_many_requests
from emulator.files import MAX_DOWNLOAD_BYTES, Upload, guess_mime_type, image_size
from emulator.markup import (
    check_language_code,
    decode_json,
    parse_commands,
    parse_reply_markup,
    parse_scope,
)
from emulator.params import Params
from emulator.state import CallbackAnswer, Chat, EditRecord, JsonDict, Message, StoredFile
from emulator.webhook import WebhookConfig

if TYPE_CHECKING:
    from emulator.core import TelegramEmulator

MAX_TEXT_LENGTH = 4096  # UTF-16 code units, after entity parsing
MAX_CAPTION_LENGTH = 1024
MAX_ANSWER_TEXT_LENGTH = 200
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "record_audio",
        "upload_audio",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
        "cancel",
    }
)
WEBHOOK_PORTS = (80, 88, 443, 8443)
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Described:
    """A successful result that Telegram sends with a ``description`` (webhook methods)."""

    result: Any
    description: str


Handler = Callable[[Params], Awaitable[Any]]


class BotMethods:
    def __init__(self, emulator: TelegramEmulator) -> None:
        self.emu = emulator

    def registry(self) -> dict[str, tuple[str, Handler]]:
        """Lower-case method name -> (canonical name, handler); Telegram ignores case."""
        handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "logOut": self.log_out,
            "close": self.close,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message,
            "sendDocument": self.send_document,
            "sendPhoto": self.send_photo,
            "editMessageText": self.edit_message_text,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "sendChatAction": self.send_chat_action,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "getFile": self.get_file,
        }
        return {name.lower(): (name, handler) for name, handler in handlers.items()}

    # ------------------------------------------------------------------------------ account --

    async def get_me(self, p: Params) -> JsonDict:
        return self.emu.get_me()

    async def log_out(self, p: Params) -> bool:
        # After logOut the cloud Bot API refuses the token (until the emulator is told otherwise).
        self.emu.logged_out = True
        return True

    async def close(self, p: Params) -> bool:
        # Telegram refuses close() during the first 10 minutes after the bot was launched.
        remaining = self.emu.close_grace_s - (self.emu.clock() - self.emu.started_at)
        if remaining > 0:
            raise too_many_requests(remaining)
        return True

    # ------------------------------------------------------------------------------ updates --

    async def get_updates(self, p: Params) -> list[JsonDict]:
        if self.emu.webhook.active:
            raise conflict(errors.WEBHOOK_ACTIVE)
        self.emu.queue.set_allowed(_allowed_updates(p))
        return await self.emu.queue.get_updates(
            offset=p.integer("offset", 0) or 0,
            limit=p.integer("limit", 100) or 0,
            timeout=p.number("timeout", 0.0),
        )

    async def set_webhook(self, p: Params) -> Described:
        url = p.text("url") or ""
        if not url:
            return await self._delete_webhook(p.flag("drop_pending_updates"))
        self._check_webhook_url(url)
        secret = p.text("secret_token")
        if secret is not None and len(secret) > 256:
            raise bad_request("secret token is too long")
        if secret is not None and not _SECRET_TOKEN_RE.match(secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = _allowed_updates(p)
        config = WebhookConfig(
            url=url,
            secret_token=secret or None,
            max_connections=min(max(p.integer("max_connections", 40) or 40, 1), 100),
            ip_address=p.text("ip_address"),
            allowed_updates=allowed,
        )
        previous = self.emu.webhook.config
        if p.flag("drop_pending_updates"):
            self.emu.queue.drop_all()
        self.emu.queue.set_allowed(allowed)
        self.emu.queue.end_long_poll_for_webhook()
        self.emu.webhook.set(config)
        if previous is not None and previous.url == url:
            return Described(True, "Webhook is already set")
        return Described(True, "Webhook was set")

    def _check_webhook_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        if not self.emu.strict_webhook_urls:
            return  # tests receive webhooks on http://127.0.0.1:<random port>
        if parts.scheme != "https":
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if (parts.port or 443) not in WEBHOOK_PORTS:
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )

    async def delete_webhook(self, p: Params) -> Described:
        return await self._delete_webhook(p.flag("drop_pending_updates"))

    async def _delete_webhook(self, drop_pending: bool) -> Described:
        was_set = self.emu.webhook.active
        await self.emu.webhook.delete()
        if drop_pending:
            self.emu.queue.drop_all()
        return Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def get_webhook_info(self, p: Params) -> JsonDict:
        return self.emu.webhook.info()

    # ----------------------------------------------------------------------------- sending --

    async def send_message(self, p: Params) -> JsonDict:
        markup = parse_reply_markup(p.raw("reply_markup"))
        text, entities = self._format(p.text("text"), p.text("parse_mode"), p.raw("entities"))
        chat = self._chat(p)
        _check_text(text)
        reply_to = self._reply_target(p, chat)
        self._check_can_write(chat)
        self._flood(chat)
        message = self._send(
            chat, text=text, entities=entities, reply_markup=markup, reply_to=reply_to
        )
        return message.to_api()

    async def send_document(self, p: Params) -> JsonDict:
        return await self._send_media(p, "document")

    async def send_photo(self, p: Params) -> JsonDict:
        return await self._send_media(p, "photo")

    async def _send_media(self, p: Params, field: str) -> JsonDict:
        markup = parse_reply_markup(p.raw("reply_markup"))
        caption, caption_entities = self._format(
            p.text("caption"), p.text("parse_mode"), p.raw("caption_entities")
        )
        chat = self._chat(p)
        if utf16_len(caption) > MAX_CAPTION_LENGTH:
            raise bad_request(errors.CAPTION_TOO_LONG)
        content: dict[str, Any]
        if field == "photo":
            content = {"photo": self._input_photo(p)}
        else:
            content = {"document": self._input_document(p)}
        reply_to = self._reply_target(p, chat)
        self._check_can_write(chat)
        self._flood(chat)
        message = self._send(
            chat,
            caption=caption or None,
            caption_entities=caption_entities,
            reply_markup=markup,
            reply_to=reply_to,
            **content,
        )
        return message.to_api()

    async def send_chat_action(self, p: Params) -> bool:
        chat = self._chat(p)
        action = (p.text("action") or "").lower()
        if action not in CHAT_ACTIONS:
            raise bad_request(errors.WRONG_CHAT_ACTION)
        self._check_can_write(chat)
        chat.action = action
        self.emu.changed(chat)
        return True

    # ----------------------------------------------------------------------------- editing --

    async def edit_message_text(self, p: Params) -> JsonDict:
        if p.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # inline mode is not emulated
        markup = parse_reply_markup(p.raw("reply_markup"), inline_only=True)
        text, entities = self._format(p.text("text"), p.text("parse_mode"), p.raw("entities"))
        message = self._message_to_edit(p)
        if message.text is None:
            raise bad_request(errors.NO_TEXT_TO_EDIT)
        _check_text(text)
        if (text, entities, markup) == (message.text, message.entities, message.inline_markup):
            raise bad_request(errors.MESSAGE_NOT_MODIFIED)
        self._apply_edit(message, text=text, entities=entities, markup=markup)
        return message.to_api()

    async def edit_message_reply_markup(self, p: Params) -> JsonDict:
        if p.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        markup = parse_reply_markup(p.raw("reply_markup"), inline_only=True)
        message = self._message_to_edit(p)
        if markup == message.inline_markup:
            raise bad_request(errors.MESSAGE_NOT_MODIFIED)
        self._apply_edit(message, text=message.text, entities=message.entities, markup=markup)
        return message.to_api()

    def _message_to_edit(self, p: Params) -> Message:
        chat = self._chat(p)
        message_id = p.integer("message_id")
        if message_id is None:
            raise bad_request(errors.MESSAGE_ID_NOT_SPECIFIED)
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request(errors.MESSAGE_TO_EDIT_NOT_FOUND)
        self._check_can_write(chat)
        if not message.from_bot:
            raise bad_request(errors.MESSAGE_CANT_BE_EDITED)
        return message

    def _apply_edit(
        self,
        message: Message,
        *,
        text: str | None,
        entities: list[Entity],
        markup: JsonDict | None,
    ) -> None:
        emu = self.emu
        emu.edits.append(
            EditRecord(
                chat_id=message.chat.id,
                message_id=message.message_id,
                at=emu.clock(),
                text_before=message.text,
                text_after=text,
                markup_before=message.inline_markup,
                markup_after=markup,
            )
        )
        message.text, message.entities, message.reply_markup = text, entities, markup
        message.edit_date = emu.now_date()
        message.edit_count += 1
        emu.stats.edits += 1
        emu.changed(message.chat, message)

    async def delete_message(self, p: Params) -> bool:
        chat = self._chat(p)
        message_id = p.integer("message_id")
        if message_id is None:
            raise bad_request(errors.MESSAGE_ID_NOT_SPECIFIED)
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request(errors.MESSAGE_TO_DELETE_NOT_FOUND)
        if chat.type != "private" and not message.from_bot and not chat.bot_admin:
            raise bad_request(errors.MESSAGE_CANT_BE_DELETED)
        message.deleted = True
        self.emu.stats.deletions += 1
        self.emu.changed(chat, message)
        return True

    # ------------------------------------------------------------------------------ buttons --

    async def answer_callback_query(self, p: Params) -> bool:
        emu = self.emu
        query = emu.callback_queries.get(p.text("callback_query_id") or "")
        ttl = emu.callback_query_ttl_s
        too_old = query is not None and ttl is not None and emu.clock() - query.created_at > ttl
        if query is None or query.answer is not None or too_old:
            raise bad_request(errors.QUERY_ID_INVALID)
        text = p.text("text")
        if text is not None and len(text) > MAX_ANSWER_TEXT_LENGTH:
            raise bad_request(errors.ANSWER_TOO_LONG)
        chat = query.message.chat
        revision = emu.changed(chat)
        query.answer = CallbackAnswer(
            callback_query_id=query.id,
            text=text or None,
            show_alert=p.flag("show_alert"),
            url=p.text("url"),
            cache_time=p.integer("cache_time", 0) or 0,
            at=emu.clock(),
            revision=revision,
        )
        chat.callback_answers.append(query.answer)
        emu.stats.callback_answers += 1
        return True

    # ----------------------------------------------------------------------------- commands --

    async def set_my_commands(self, p: Params) -> bool:
        key = self._commands_key(p)
        commands = parse_commands(p.raw("commands"))
        if commands:
            self.emu.commands[key] = commands
        else:
            self.emu.commands.pop(key, None)  # an empty list deletes, as in Telegram
        return True

    async def get_my_commands(self, p: Params) -> list[JsonDict]:
        # Exactly the list for this scope and language: no fallback (that is the client's job).
        return list(self.emu.commands.get(self._commands_key(p), []))

    async def delete_my_commands(self, p: Params) -> bool:
        self.emu.commands.pop(self._commands_key(p), None)
        return True

    def _commands_key(self, p: Params) -> tuple[str, str]:
        scope = parse_scope(p.raw("scope"))
        language = check_language_code(p.text("language_code") or "")
        key = scope["type"]
        if "chat_id" in scope:
            chat = self.emu.resolve_chat(scope["chat_id"])
            if chat is None:
                raise bad_request(errors.CHAT_NOT_FOUND)
            if chat.type == "private" and scope["type"] != "chat":
                raise bad_request("can't use specified scope in private chats")
            key = f"{key}:{chat.id}"
        if "user_id" in scope:
            key = f"{key}:{scope['user_id']}"
        return key, language

    # -------------------------------------------------------------------------------- files --

    async def get_file(self, p: Params) -> JsonDict:
        stored = self.emu.files.get(p.text("file_id") or "")
        if stored is None:
            raise bad_request(errors.INVALID_FILE_ID)
        if stored.size > MAX_DOWNLOAD_BYTES:
            raise bad_request(errors.FILE_TOO_BIG)
        return stored.file_api()

    def _input_document(self, p: Params) -> StoredFile:
        upload = self._upload(p, "document")
        files = self.emu.files
        if upload is not None:
            mime = guess_mime_type(upload.filename) or upload.content_type
            return files.add("document", upload.data, file_name=upload.filename, mime_type=mime)
        reference = self._file_reference(p, "document")
        existing = files.get(reference)
        if existing is not None:
            return existing
        if reference.startswith(("http://", "https://")):
            name = urlsplit(reference).path.rsplit("/", 1)[-1] or "file"
            return files.add(
                "document", b"", file_name=name, mime_type=guess_mime_type(name), url=reference
            )
        raise bad_request(errors.WRONG_FILE_ID)

    def _input_photo(self, p: Params) -> list[StoredFile]:
        upload = self._upload(p, "photo")
        files = self.emu.files
        if upload is not None:
            size = image_size(upload.data)
            if size is None:
                raise bad_request(errors.IMAGE_PROCESS_FAILED)
            return files.add_photo(upload.data, *size)
        reference = self._file_reference(p, "photo")
        existing = files.get(reference)
        if existing is not None and existing.kind == "photo":
            return files.add_photo(existing.data, existing.width, existing.height)
        if reference.startswith(("http://", "https://")):
            # Telegram would download and measure it; the emulator records the URL only.
            ladder = files.add_photo(b"", 800, 600)
            for photo_size in ladder:
                photo_size.url = reference
            return ladder
        raise bad_request(errors.WRONG_FILE_ID)

    def _upload(self, p: Params, field: str) -> Upload | None:
        upload = p.upload(field)
        reference = p.text(field) or ""
        if upload is None and reference.startswith("attach://"):
            upload = p.upload(reference.removeprefix("attach://"))
        if upload is not None and not upload.data:
            raise bad_request(errors.FILE_EMPTY)
        return upload

    def _file_reference(self, p: Params, field: str) -> str:
        reference = p.text(field)
        if not reference:
            raise bad_request(f"there is no {field} in the request")
        return reference

    # ------------------------------------------------------------------------------ helpers --

    def _chat(self, p: Params) -> Chat:
        raw = p.text("chat_id")
        if not raw:
            raise bad_request(errors.CHAT_ID_EMPTY)
        chat = self.emu.resolve_chat(raw)
        if chat is None:
            raise bad_request(errors.CHAT_NOT_FOUND)
        return chat

    def _check_can_write(self, chat: Chat) -> None:
        """The 403s: blocked, never started, deactivated, kicked, not a member."""
        if chat.type == "private":
            if chat.user is not None and chat.user.deactivated:
                raise forbidden(errors.USER_DEACTIVATED)
            if chat.blocked:
                raise forbidden(errors.BLOCKED_BY_USER)
            if not chat.started:
                raise forbidden(errors.CANT_INITIATE)
        elif chat.bot_kicked:
            raise forbidden(errors.KICKED_FROM_GROUP if chat.is_group else errors.NOT_IN_CHANNEL)
        elif not chat.bot_member:
            raise forbidden(errors.NOT_A_MEMBER if chat.is_group else errors.NOT_IN_CHANNEL)
        elif chat.type == "channel" and not chat.bot_admin:
            raise bad_request("need administrator rights in the channel chat")

    def _flood(self, chat: Chat) -> None:
        wait = self.emu.limiter.acquire(chat.id, is_group=chat.type != "private")
        if wait > 0:
            self.emu.stats.too_many_requests += 1
            whole = self.emu.limits.whole_second_retry_after
            raise too_many_requests(wait, whole_seconds=whole)

    def _format(
        self, text: str | None, parse_mode: str | None, raw_entities: object
    ) -> tuple[str, list[Entity]]:
        """Text after parse_mode (or explicit entities), trimmed as Telegram stores it."""
        text = text or ""
        try:
            if parse_mode and parse_mode.lower() != "none":
                plain, entities = parse(text, parse_mode)
            else:
                plain, entities = text, _explicit_entities(raw_entities)
        except KeyError:
            raise bad_request(errors.UNSUPPORTED_PARSE_MODE) from None
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
        return finalize(plain, entities)

    def _reply_target(self, p: Params, chat: Chat) -> Message | None:
        if p.has("reply_parameters"):
            raw = decode_json(p.raw("reply_parameters"), "can't parse reply parameters JSON object")
            if not isinstance(raw, dict):
                raise bad_request("can't parse reply parameters JSON object")
            message_id = raw.get("message_id")
            allow_missing = bool(raw.get("allow_sending_without_reply"))
        else:
            message_id = p.integer("reply_to_message_id")
            allow_missing = p.flag("allow_sending_without_reply")
        if not message_id:
            return None
        target = chat.messages.get(int(message_id))
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise bad_request(errors.REPLIED_MESSAGE_NOT_FOUND)
        return target

    def _send(self, chat: Chat, **content: Any) -> Message:
        emu = self.emu
        # In a channel the bot posts as the channel itself: sender_chat, and no "from".
        sender = {"sender_chat": chat} if chat.type == "channel" else {"sender": emu.bot}
        message = emu.add_message(chat, by_bot=True, **sender, **content)
        markup = content.get("reply_markup")
        if markup is not None and ("keyboard" in markup or "remove_keyboard" in markup):
            chat.keyboard = markup if "keyboard" in markup else None
        emu.sent.append(message)
        emu.stats.messages_sent += 1
        return message


def _check_text(text: str) -> None:
    if not text:
        raise bad_request(errors.MESSAGE_TEXT_EMPTY)
    if utf16_len(text) > MAX_TEXT_LENGTH:
        raise bad_request(errors.MESSAGE_TOO_LONG)


def _explicit_entities(raw: object) -> list[Entity]:
    if raw is None or raw == "":
        return []
    items = decode_json(raw, "can't parse entities JSON object")
    if not isinstance(items, list):
        raise bad_request("can't parse entities JSON object")
    result: list[Entity] = []
    for item in items:
        if not isinstance(item, dict) or item.get("type") not in KNOWN_TYPES:
            raise bad_request("can't parse MessageEntity: unsupported entity type")
        offset, length = item.get("offset"), item.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0:
            raise bad_request("can't parse MessageEntity: wrong offset or length")
        result.append(
            Entity(
                item["type"],
                offset,
                length,
                url=item.get("url"),
                language=item.get("language"),
                custom_emoji_id=item.get("custom_emoji_id"),
                user=item.get("user"),
            )
        )
    return result


def _allowed_updates(p: Params) -> list[str] | None:
    raw = p.raw("allowed_updates")
    if raw is None or raw == "":
        return None
    value = decode_json(raw, "can't parse allowed_updates JSON object")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request("can't parse allowed_updates JSON object")
    return value


__all__ = ["ApiError", "BotMethods", "Described"]
