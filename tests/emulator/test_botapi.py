"""Bot API methods through python-telegram-bot's Bot and through raw HTTP."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    MessageEntity,
    ReplyKeyboardMarkup,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter

from emulator import ApiError, TelegramEmulator, serve
from emulator.params import Params
from emulator.testing import FakeClock, tiny_png

# ------------------------------------------------------------------------------ protocol --


async def test_get_me(bot: Bot, emu: TelegramEmulator) -> None:
    me = await bot.get_me()
    assert me.id == 123456789 and me.is_bot
    assert me.username == "buurtagenda_test_bot"
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False
    assert me.supports_inline_queries is False
    assert emu.stats.requests["getMe"] >= 1


async def test_answers_have_telegrams_shape(http: httpx.AsyncClient, emu: TelegramEmulator) -> None:
    ok = await http.get(f"/bot{emu.token}/getMe")
    assert ok.status_code == 200 and ok.json()["ok"] is True

    wrong_token = await http.post("/bot123:wrong/getMe")
    assert wrong_token.status_code == 401
    assert wrong_token.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}

    malformed_token = await http.post("/botnotatoken/getMe")
    assert malformed_token.status_code == 404

    unknown = await http.post(f"/bot{emu.token}/sendTelepathy")
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}

    case_insensitive = await http.get(f"/bot{emu.token}/GETME")
    assert case_insensitive.json()["result"]["username"] == "buurtagenda_test_bot"


async def test_wrong_token_raises_invalid_token(emu: TelegramEmulator, server: str) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("1:wrong", base_url=f"{server}/bot"):
            pass


async def test_json_form_and_query_bodies(http: httpx.AsyncClient, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")
    url = f"/bot{emu.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "Ja", "callback_data": "y"}]]}

    as_json = await http.post(url, json={"chat_id": alice.id, "text": "a", "reply_markup": markup})
    as_form = await http.post(
        url, data={"chat_id": str(alice.id), "text": "b", "reply_markup": json.dumps(markup)}
    )
    as_query = await http.get(url, params={"chat_id": alice.id, "text": "c"})

    assert [r.status_code for r in (as_json, as_form, as_query)] == [200, 200, 200]
    assert as_json.json()["result"]["reply_markup"] == markup
    assert as_form.json()["result"]["reply_markup"] == markup
    assert [m.text for m in alice.messages] == ["a", "b", "c"]
    assert [m.message_id for m in alice.messages] == [1, 2, 3]


# ------------------------------------------------------------------------------ sending --


async def test_send_message_validation(bot: Bot, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice.id, "x" * 4097)
    await bot.send_message(alice.id, "x" * 4096)  # exactly the limit is fine
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(alice.id, "   ")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(alice.id, "<b></b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "hallo")
    with pytest.raises(BadRequest, match="Unsupported parse_mode"):
        await bot.send_message(alice.id, "hallo", parse_mode="bbcode")
    # 4096 is counted after parsing: markup does not count.
    await bot.send_message(alice.id, "<b>" + "y" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert len(alice.messages) == 2


async def test_callback_data_longer_than_64_bytes_is_rejected(
    bot: Bot, emu: TelegramEmulator
) -> None:
    alice = emu.user("Alice")
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(alice.id, "kies", reply_markup=too_long)
    just_fits = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 32)]])
    await bot.send_message(alice.id, "kies", reply_markup=just_fits)
    assert alice.messages[0].reply_markup == just_fits.to_dict()


async def test_html_entities_use_utf16_offsets(bot: Bot, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")
    html = (
        "🎉 <b>Borrel</b> &amp; <i>hapjes</i> 👍🏽 <u>onder</u> <s>door</s> "
        '<a href="https://buurtagenda.nl/e/1">info</a> <tg-spoiler>geheim</tg-spoiler> '
        '<code>/aanmelden</code> <pre><code class="language-python">x = 1</code></pre>'
    )
    message = await bot.send_message(alice.id, html, parse_mode=ParseMode.HTML)

    assert message.text is not None
    assert message.text.startswith("🎉 Borrel & hapjes 👍🏽 onder door info geheim /aanmelden")
    by_type = {e.type: text for e, text in message.parse_entities().items()}
    assert by_type == {
        MessageEntity.BOLD: "Borrel",
        MessageEntity.ITALIC: "hapjes",
        MessageEntity.UNDERLINE: "onder",
        MessageEntity.STRIKETHROUGH: "door",
        MessageEntity.TEXT_LINK: "info",
        MessageEntity.SPOILER: "geheim",
        MessageEntity.CODE: "/aanmelden",
        MessageEntity.PRE: "x = 1",
    }
    bold = message.entities[0]
    assert (bold.offset, bold.length) == (3, 6)  # 🎉 is two UTF-16 code units
    italic = message.entities[1]
    assert (italic.offset, italic.length) == (12, 6)
    underline = message.entities[2]
    assert underline.offset == 12 + 6 + 1 + 4 + 1  # 👍🏽 is four code units
    link = next(e for e in message.entities if e.type == MessageEntity.TEXT_LINK)
    assert link.url == "https://buurtagenda.nl/e/1"
    pre = next(e for e in message.entities if e.type == MessageEntity.PRE)
    assert pre.language == "python"
    # What the bot gets back equals what the emulator stores and shows.
    assert alice.last is not None and alice.last.text == message.text


async def test_markdown_v2_entities_and_errors(bot: Bot, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")
    text = "*vet* 😀 _schuin_ __onder__ ~door~ ||verborgen|| `code` [link](https://example\\.org)"
    message = await bot.send_message(alice.id, text, parse_mode=ParseMode.MARKDOWN_V2)
    assert message.text == "vet 😀 schuin onder door verborgen code link"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 0, 3),
        ("italic", 7, 6),
        ("underline", 14, 5),
        ("strikethrough", 20, 4),
        ("spoiler", 25, 9),
        ("code", 35, 4),
        ("text_link", 40, 4),
    ]
    with pytest.raises(BadRequest) as error:
        await bot.send_message(alice.id, "Versie 1.0", parse_mode=ParseMode.MARKDOWN_V2)
    assert error.value.message == (
        "Can't parse entities: character '.' is reserved and must be escaped with the "
        "preceding '\\'"
    )
    with pytest.raises(BadRequest, match="can't find end of bold entity at byte offset 5"):
        await bot.send_message(alice.id, "open *vet", parse_mode=ParseMode.MARKDOWN_V2)
    with pytest.raises(BadRequest, match='unsupported start tag "marquee"'):
        await bot.send_message(alice.id, "<marquee>hoi</marquee>", parse_mode=ParseMode.HTML)


async def test_legacy_markdown_and_explicit_entities(bot: Bot, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")
    legacy = await bot.send_message(alice.id, "*vet* en _schuin_", parse_mode=ParseMode.MARKDOWN)
    assert [(e.type, e.offset, e.length) for e in legacy.entities] == [
        ("bold", 0, 3),
        ("italic", 7, 6),
    ]
    explicit = await bot.send_message(
        alice.id, "hallo wereld", entities=[MessageEntity(MessageEntity.BOLD, 6, 6)]
    )
    assert explicit.entities == (MessageEntity(MessageEntity.BOLD, 6, 6),)


async def test_reply_keyboard_and_reply_to(bot: Bot, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")
    question = alice.send("wanneer?").message
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("Vandaag"), "Morgen"]], resize_keyboard=True)
    message = await bot.send_message(
        alice.id, "Kies", reply_markup=keyboard, reply_to_message_id=question.message_id
    )
    assert message.reply_to_message is not None
    assert message.reply_to_message.text == "wanneer?"
    assert alice.chat.keyboard == {
        "keyboard": [[{"text": "Vandaag"}, {"text": "Morgen"}]],
        "resize_keyboard": True,
    }
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(alice.id, "x", reply_to_message_id=999)


async def test_send_document_keeps_bytes_and_is_downloadable(
    bot: Bot, emu: TelegramEmulator
) -> None:
    alice = emu.user("Alice")
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    message = await bot.send_document(
        alice.id,
        InputFile(ics, filename="borrel.ics"),
        caption="<b>Zet</b> 'm in je agenda",
        parse_mode=ParseMode.HTML,
    )

    document = message.document
    assert document is not None
    assert document.file_name == "borrel.ics" and document.mime_type == "text/calendar"
    assert document.file_size == len(ics)
    assert message.caption == "Zet 'm in je agenda"
    assert message.caption_entities[0].type == MessageEntity.BOLD
    stored = emu.sent[-1].document
    assert stored is not None and stored.data == ics and stored.file_id == document.file_id

    file = await bot.get_file(document.file_id)
    assert bytes(await file.download_as_bytearray()) == ics

    # Sending again by file_id reuses the stored file.
    again = await bot.send_document(alice.id, document.file_id)
    assert again.document is not None and again.document.file_unique_id == document.file_unique_id
    with pytest.raises(BadRequest, match="Wrong file identifier/http url specified"):
        await bot.send_document(alice.id, "not-a-file-id")
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_document(alice.id, document.file_id, caption="c" * 1025)


async def test_send_photo_returns_telegrams_sizes(bot: Bot, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")
    message = await bot.send_photo(alice.id, tiny_png(400, 200), caption="Poster")
    assert [(p.width, p.height) for p in message.photo] == [(90, 45), (320, 160), (400, 200)]
    assert len({p.file_id for p in message.photo}) == 3
    stored = emu.sent[-1].photo
    assert stored[-1].data == tiny_png(400, 200)
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(alice.id, InputFile(b"geen plaatje", filename="x.jpg"))


async def test_edit_message_text_semantics(bot: Bot, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="y")]])
    sent = await bot.send_message(alice.id, "Vraag", reply_markup=keyboard)

    with pytest.raises(BadRequest) as not_modified:
        await bot.edit_message_text("Vraag", alice.id, sent.message_id, reply_markup=keyboard)
    assert not_modified.value.message.startswith("Message is not modified: specified new")

    edited = await bot.edit_message_text(
        "<i>Vraag</i>", alice.id, sent.message_id, parse_mode=ParseMode.HTML
    )
    assert not isinstance(edited, bool)
    assert edited.text == "Vraag" and edited.reply_markup is None and edited.edit_date
    assert alice.messages[0].entities[0].type == "italic"

    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", alice.id, 999)
    user_message = alice.send("hoi").message
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", alice.id, user_message.message_id)

    with_markup = await bot.edit_message_reply_markup(
        alice.id, sent.message_id, reply_markup=keyboard
    )
    assert not isinstance(with_markup, bool) and with_markup.reply_markup == keyboard
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=keyboard)
    assert [(e.text_before, e.text_after) for e in emu.edits] == [
        ("Vraag", "Vraag"),
        ("Vraag", "Vraag"),
    ]
    assert emu.stats.edits == 2


async def test_delete_message_and_chat_action(bot: Bot, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")
    sent = await bot.send_message(alice.id, "weg ermee")
    assert await bot.send_chat_action(alice.id, "typing")
    assert alice.chat.action == "typing"
    with pytest.raises(BadRequest, match="Wrong parameter action in request"):
        await bot.send_chat_action(alice.id, "dancing")
    assert await bot.delete_message(alice.id, sent.message_id)
    assert alice.messages == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(alice.id, sent.message_id)


async def test_answer_callback_query_rules(bot: Bot, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="y")]])
    question = await bot.send_message(alice.id, "Vraag", reply_markup=keyboard)
    press = alice.press(alice.messages[0], "Ja")
    assert question.message_id == press.query.message.message_id

    with pytest.raises(BadRequest, match="Message_too_long"):
        await bot.answer_callback_query(press.query.id, text="x" * 201)
    assert await bot.answer_callback_query(press.query.id, text="Genoteerd", show_alert=True)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(press.query.id)
    answer = await press.answer()
    assert (answer.text, answer.show_alert) == ("Genoteerd", True)


async def test_callback_queries_expire(clock: FakeClock) -> None:
    emu = TelegramEmulator(clock=clock)
    alice = emu.user("Alice")
    keyboard = {"inline_keyboard": [[{"text": "Ja", "callback_data": "y"}]]}
    await emu.api.call("sendMessage", chat_id=alice.id, text="Vraag", reply_markup=keyboard)
    assert alice.last is not None
    press = alice.press(alice.last, "Ja")
    clock.advance(16)  # Telegram gives the bot about 15 seconds to answer
    with pytest.raises(ApiError, match="query is too old"):
        await emu.api.call("answerCallbackQuery", callback_query_id=press.query.id)


# ----------------------------------------------------------------------------- commands --


async def test_commands_per_scope_and_language(bot: Bot, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice", language_code="nl")
    english = [BotCommand("start", "Start the bot"), BotCommand("events", "Upcoming events")]
    dutch = [BotCommand("start", "Start de bot"), BotCommand("agenda", "Komende activiteiten")]
    private = [BotCommand("mijn", "Mijn aanmeldingen")]
    assert await bot.set_my_commands(english)
    assert await bot.set_my_commands(dutch, language_code="nl")
    assert await bot.set_my_commands(private, scope=BotCommandScopeAllPrivateChats())

    assert await bot.get_my_commands() == tuple(english)
    assert await bot.get_my_commands(language_code="nl") == tuple(dutch)
    assert await bot.get_my_commands(language_code="de") == ()  # no fallback in getMyCommands
    # What a client shows resolves scopes and languages: the private-chat scope wins.
    assert [c["command"] for c in emu.commands_for(alice, "nl")] == ["mijn"]
    assert await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert [c["command"] for c in emu.commands_for(alice, "nl")] == ["start", "agenda"]
    assert [c["command"] for c in emu.commands_for(alice, "fr")] == ["start", "events"]

    chat_scope = BotCommandScopeChat(alice.id)
    assert await bot.set_my_commands([BotCommand("geheim", "Alleen Alice")], scope=chat_scope)
    assert [c["command"] for c in emu.commands_for(alice, "nl")] == ["geheim"]


@pytest.mark.parametrize(
    ("commands", "message"),
    [
        ([BotCommand("Start", "hoofdletter")], "Bot_command_invalid"),
        ([BotCommand("met-streep", "x")], "Bot_command_invalid"),
        ([BotCommand("a" * 33, "x")], "Command length must not exceed 32"),
        ([BotCommand("ok", "x" * 257)], "Command description length must not exceed 256"),
        ([BotCommand("ok", "  ")], "Command description must be non-empty"),
        ([BotCommand(f"c{i}", "x") for i in range(101)], "Bot_commands_too_much"),
    ],
)
async def test_set_my_commands_validation(
    bot: Bot, commands: list[BotCommand], message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        await bot.set_my_commands(commands)


async def test_invalid_language_code(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Invalid language code specified"):
        await bot.set_my_commands([BotCommand("a", "b")], language_code="nederlands")


# ---------------------------------------------------------------------- refusals & faults --


async def test_blocked_user_gives_forbidden(bot: Bot, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")
    alice.block()
    with pytest.raises(Forbidden, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(alice.id, "herinnering")
    alice.send("sorry, per ongeluk")  # writing to the bot again undoes the block
    await bot.send_message(alice.id, "herinnering")

    stranger = emu.user("Stranger", started=False)
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(stranger.id, "hallo")
    gone = emu.user("Gone")
    gone.deactivate()
    with pytest.raises(Forbidden, match="user is deactivated"):
        await bot.send_message(gone.id, "hallo")
    group = emu.group("Oud", [alice])
    group.remove_bot()
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(group.id, "hallo")
    assert emu.stats.responses[403] == 4


async def test_injected_server_errors(bot: Bot, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")
    emu.faults.fail_next(1, method="sendMessage", status=502)
    emu.faults.fail_next(1, method="sendmessage", status=500)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(alice.id, "1")
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(alice.id, "2")
    await bot.send_message(alice.id, "3")
    await bot.get_me()  # other methods were never affected
    assert [m.text for m in alice.messages] == ["3"]
    assert emu.stats.injected_faults == 2
    assert emu.stats.responses[502] == 1 and emu.stats.responses[500] == 1


async def test_random_faults_are_reproducible() -> None:
    outcomes = []
    for _ in range(2):
        emu = TelegramEmulator(seed=7)
        emu.faults.fail_randomly(0.5)
        outcomes.append([(await emu.api.invoke("getMe", Params({})))[0] for _ in range(20)])
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 502}


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_flood_and_latency(bot: Bot, emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")
    emu.faults.flood(retry_after=7, method="sendMessage")
    with pytest.raises(RetryAfter, match="Retry in 7 seconds"):
        await bot.send_message(alice.id, "x")

    emu.faults.set_latency(0.2, method="getMe")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await bot.get_me()
    assert loop.time() - started >= 0.2


async def test_log_out_and_close(clock: FakeClock) -> None:
    emu = TelegramEmulator(clock=clock)
    with pytest.raises(ApiError, match="Too Many Requests: retry after 600"):
        await emu.api.call("close")  # refused during the first 10 minutes
    clock.advance(600)
    assert await emu.api.call("close") is True
    async with serve(emu) as url, Bot(emu.token, base_url=f"{url}/bot") as bot:
        assert await bot.log_out()
        with pytest.raises(InvalidToken):
            await bot.get_me()


async def test_bot_posts_in_a_channel_as_the_channel(bot: Bot, emu: TelegramEmulator) -> None:
    channel = emu.channel("Buurtnieuws", username="buurtnieuws")
    message = await bot.send_message("@buurtnieuws", "Nieuwe activiteit")
    assert message.from_user is None
    assert message.sender_chat is not None and message.sender_chat.id == channel.id
    assert [m.text for m in channel.messages] == ["Nieuwe activiteit"]


async def test_an_emulator_can_be_served_again(emu: TelegramEmulator) -> None:
    alice = emu.user("Alice")
    for _ in range(2):
        async with serve(emu) as url, Bot(emu.token, base_url=f"{url}/bot") as bot:
            await bot.send_message(alice.id, "hallo")
            assert await bot.get_updates(timeout=0) == ()
    assert len(alice.messages) == 2


async def test_an_idle_connection_outlives_the_clients_keep_alive(emu: TelegramEmulator) -> None:
    """httpx lets an idle connection go after 5 s; the emulator keeps it longer (as Telegram
    does), so a bot never sends on a connection that the server is closing at that moment."""
    async with serve(emu) as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        request = f"GET /bot{emu.token}/getMe HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        idle = (httpx.Limits().keepalive_expiry or 5.0) + 0.5
        try:
            for pause in (idle, 0):
                writer.write(request)
                status = await asyncio.wait_for(reader.readline(), 5)
                assert status.startswith(b"HTTP/1.1 200"), status
                length = 0
                while (line := await reader.readline()) != b"\r\n":
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                assert b'"is_bot":true' in await reader.readexactly(length)
                await asyncio.sleep(pause)
        finally:
            writer.close()


async def test_the_server_does_not_announce_itself(http: httpx.AsyncClient, emu) -> None:
    """No "Server: uvicorn" banner (emulator/server.py), as in the service."""
    for path in (f"/bot{emu.token}/getMe", "/nope"):
        response = await http.get(path)
        assert "server" not in response.headers, path
