"""A real python-telegram-bot Application, long-polling the emulator over HTTP."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from emulator import TelegramEmulator
from emulator.testing import AnyApplication, polling, tiny_png

Context = ContextTypes.DEFAULT_TYPE


async def start(update: Update, context: Context) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    payload = f" ({context.args[0]})" if context.args else ""
    await update.effective_message.reply_text(
        f"Welkom, <b>{update.effective_user.first_name}</b>!{payload}", parse_mode=ParseMode.HTML
    )


async def menu(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Ja", callback_data="rsvp:yes")],
            [InlineKeyboardButton("Nee", callback_data="rsvp:no")],
        ]
    )
    await update.effective_message.reply_text("Kom je naar de buurtborrel?", reply_markup=keyboard)


async def rsvp(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    answer = "Tot dan!" if query.data == "rsvp:yes" else "Jammer."
    await query.answer(answer)
    await query.edit_message_text(f"Je antwoord: {answer}")


async def test_command_round_trip(emu: TelegramEmulator, app: AnyApplication) -> None:
    app.add_handler(CommandHandler("start", start))
    async with polling(app):
        alice = emu.user("Alice", username="alice")
        reply = await alice.ask("/start")

    assert reply.text == "Welkom, Alice!"
    assert [e.to_api() for e in reply.entities] == [{"offset": 8, "length": 5, "type": "bold"}]
    assert reply.chat is alice.chat and reply.from_bot
    assert emu.sent == [reply]


async def test_deep_link_payload_reaches_context_args(
    emu: TelegramEmulator, app: AnyApplication
) -> None:
    app.add_handler(CommandHandler("start", start))
    async with polling(app):
        bob = emu.user("Bob")
        reply = await bob.start("event_42").reply()
    assert reply.text == "Welkom, Bob! (event_42)"


async def test_button_press_edits_message_in_place(
    emu: TelegramEmulator, app: AnyApplication
) -> None:
    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(CallbackQueryHandler(rsvp, pattern=r"^rsvp:"))
    async with polling(app):
        alice = emu.user("Alice")
        question = await alice.command("menu").reply()
        assert [b["text"] for b in question.inline_buttons()] == ["Ja", "Nee"]

        press = alice.press(question, "Ja")
        answer = await press.answer()
        edited = await press.edit()

    assert answer.text == "Tot dan!" and not answer.show_alert
    assert edited is question  # same message, changed in place
    assert edited.text == "Je antwoord: Tot dan!"
    assert edited.reply_markup is None  # editMessageText without markup drops the keyboard
    assert edited.edit_date is not None
    assert len(alice.messages) == 1
    assert emu.edits[-1].text_before == "Kom je naar de buurtborrel?"
    assert alice.callback_answers == [answer]


async def test_people_actions_arrive_as_ptb_objects(
    emu: TelegramEmulator, app: AnyApplication
) -> None:
    seen: list[Update] = []

    async def record(update: Update, context: Context) -> None:
        seen.append(update)
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, f"ok {len(seen)}")

    app.add_handler(MessageHandler(filters.ALL, record))
    async with polling(app):
        alice = emu.user("Alice", username="alice", language_code="nl")
        first = alice.send("hallo")
        await first.reply()
        await alice.send_sticker("🎉").reply()
        await alice.send_photo(tiny_png(1600, 1200), caption="De poster").reply()
        await alice.send_document(b"BEGIN:VCALENDAR", "borrel.ics").reply()
        await alice.edit(first.message, "hallo allemaal").reply()

    text, sticker, photo, document, edited = seen
    assert text.message is not None and text.message.text == "hallo"
    assert text.message.from_user is not None and text.message.from_user.language_code == "nl"
    assert text.message.chat.type == "private" and text.update_id + 1 == sticker.update_id
    assert sticker.message is not None and sticker.message.sticker is not None
    assert sticker.message.sticker.emoji == "🎉"
    assert photo.message is not None and photo.message.caption == "De poster"
    assert [(p.width, p.height) for p in photo.message.photo] == [
        (90, 68),
        (320, 240),
        (800, 600),
        (1280, 960),
    ]
    assert document.message is not None and document.message.document is not None
    assert document.message.document.file_name == "borrel.ics"
    assert document.message.document.mime_type == "text/calendar"
    assert edited.edited_message is not None
    assert edited.edited_message.text == "hallo allemaal"
    assert edited.edited_message.message_id == text.message.message_id


async def test_callback_query_has_telegram_fields(
    emu: TelegramEmulator, app: AnyApplication
) -> None:
    queries: list[Any] = []

    async def record(update: Update, context: Context) -> None:
        queries.append(update.callback_query)
        assert update.callback_query is not None
        await update.callback_query.answer()

    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(CallbackQueryHandler(record))
    async with polling(app):
        alice = emu.user("Alice")
        question = await alice.command("menu").reply()
        press = alice.press(question, data="rsvp:no")
        answer = await press.answer()

    (query,) = queries
    assert query.data == "rsvp:no"
    assert query.chat_instance == alice.chat.chat_instance
    assert query.message.message_id == question.message_id
    assert query.from_user.id == alice.user.id
    assert answer.text is None


async def test_bot_ignores_group_and_channel_posts(
    emu: TelegramEmulator, app: AnyApplication
) -> None:
    async def private_only(update: Update, context: Context) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("privé antwoord")

    app.add_handler(MessageHandler(filters.ChatType.PRIVATE, private_only))
    async with polling(app):
        alice = emu.user("Alice")
        group = emu.group("Buurtgroep Wyck", [alice])
        channel = emu.channel("Buurtnieuws", username="buurtnieuws")
        in_group = group.send(alice, "/start@buurtagenda_test_bot")
        post = channel.post("Nieuwe activiteit!")
        chatter = group.send(alice, "gewoon gepraat")  # privacy mode: the bot never sees it
        # PTB handles updates in order, so once the later private message is answered, the
        # group command and the channel post have been handled (and ignored).
        await alice.send("hoi").reply()

    assert in_group.update_id is not None and post.update_id is not None
    assert chatter.update_id is None
    assert group.messages == [] and channel.messages == []
