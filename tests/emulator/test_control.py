"""The /_emulator control API, used the way a browser chat page would use it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import Forbidden, NetworkError
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from emulator import TelegramEmulator
from emulator.control import content_disposition
from emulator.testing import AnyApplication, polling

Context = ContextTypes.DEFAULT_TYPE
Feed = dict[str, Any]


async def agenda(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Aanmelden", callback_data="join:1")]])
    await update.effective_message.reply_text("Buurtborrel, vrijdag 17:00", reply_markup=keyboard)


async def join(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer("Je bent aangemeld")
    await query.edit_message_text("Buurtborrel, vrijdag 17:00 ✅")
    await context.bot.send_document(
        query.message.chat.id, InputFile(b"BEGIN:VCALENDAR", filename="borrel.ics")
    )


async def echo(update: Update, context: Context) -> None:
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_message.reply_text(update.effective_message.text.upper())


async def follow(http: httpx.AsyncClient, chat_id: int, done: Callable[[Feed], bool]) -> Feed:
    """Follow a chat's feed with long polls, as the browser does, until ``done(state)``.

    The state is the chat as the browser would render it: every message by id (latest
    version), the callback answers, and the revision to continue from.
    """
    state: Feed = {"messages": {}, "callback_answers": [], "revision": 0}
    async with asyncio.timeout(5):
        while not done(state):
            response = await http.get(
                f"/_emulator/chats/{chat_id}/messages",
                params={"since": state["revision"], "timeout": 5},
            )
            feed = response.json()
            for entry in feed["messages"]:
                state["messages"][entry["message"]["message_id"]] = entry
            state["callback_answers"] += feed["callback_answers"]
            state["revision"] = feed["revision"]
    return state


def texts(state: Feed) -> list[str]:
    messages = [e["message"] for e in state["messages"].values() if not e["deleted"]]
    return [m.get("text") or m.get("document", {}).get("file_name", "?") for m in messages]


async def test_a_browser_conversation(
    emu: TelegramEmulator, app: AnyApplication, http: httpx.AsyncClient
) -> None:
    app.add_handler(CommandHandler("agenda", agenda))
    app.add_handler(CallbackQueryHandler(join, pattern="^join:"))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))

    created = await http.post("/_emulator/users", json={"first_name": "Mia", "username": "mia"})
    assert created.status_code == 201
    mia = created.json()
    users = (await http.get("/_emulator/users")).json()["users"]
    assert [(u["first_name"], u["chat_id"]) for u in users] == [("Mia", mia["id"])]

    async with polling(app):
        posted = await http.post(
            f"/_emulator/chats/{mia['chat_id']}/messages", json={"text": "hoi"}
        )
        assert posted.json()["update_id"] is not None
        state = await follow(http, mia["chat_id"], lambda s: len(s["messages"]) == 2)
        assert texts(state) == ["hoi", "HOI"]

        await http.post(f"/_emulator/chats/{mia['chat_id']}/messages", json={"text": "/agenda"})
        state = await follow(http, mia["chat_id"], lambda s: len(s["messages"]) == 4)
        question = state["messages"][4]["message"]
        assert question["reply_markup"]["inline_keyboard"][0][0]["text"] == "Aanmelden"

        pressed = await http.post(
            f"/_emulator/chats/{mia['chat_id']}/press",
            json={"message_id": question["message_id"], "text": "Aanmelden"},
        )
        assert pressed.json()["callback_query_id"]
        state = await follow(
            http, mia["chat_id"], lambda s: len(s["messages"]) == 5 and s["callback_answers"]
        )

    assert state["callback_answers"][0]["text"] == "Je bent aangemeld"
    assert texts(state) == ["hoi", "HOI", "/agenda", "Buurtborrel, vrijdag 17:00 ✅", "borrel.ics"]
    document = state["messages"][5]["message"]["document"]
    download = await http.get(f"/_emulator/files/{document['file_id']}")
    assert download.content == b"BEGIN:VCALENDAR"
    assert 'filename="borrel.ics"' in download.headers["content-disposition"]


async def test_feed_long_poll_returns_on_change(
    emu: TelegramEmulator, http: httpx.AsyncClient, bot: Bot
) -> None:
    alice = emu.user("Alice")
    start = (await http.get(f"/_emulator/chats/{alice.id}/messages")).json()
    assert start["messages"] == []
    waiting = asyncio.create_task(
        http.get(
            f"/_emulator/chats/{alice.id}/messages",
            params={"since": start["revision"], "timeout": 30},
        )
    )
    await bot.send_message(alice.id, "nieuw")
    feed = (await waiting).json()
    assert [m["message"]["text"] for m in feed["messages"]] == ["nieuw"]
    await bot.send_chat_action(alice.id, "typing")
    later = (
        await http.get(f"/_emulator/chats/{alice.id}/messages", params={"since": feed["revision"]})
    ).json()
    assert later["messages"] == [] and later["chat_action"] == "typing"


async def test_faults_limits_and_blocking_over_http(
    emu: TelegramEmulator, http: httpx.AsyncClient, bot: Bot
) -> None:
    alice = emu.user("Alice")
    response = await http.post(
        "/_emulator/faults", json={"kind": "error", "status": 502, "count": 1}
    )
    assert response.json() == {"ok": True}
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(alice.id, "x")
    await bot.send_message(alice.id, "y")

    await http.post(f"/_emulator/users/{alice.id}/block", json={"blocked": True})
    with pytest.raises(Forbidden):
        await bot.send_message(alice.id, "z")

    limits = (await http.put("/_emulator/limits", json={"per_chat_burst": 5, "scale": 2})).json()
    assert (limits["per_chat_burst"], limits["per_chat_per_s"]) == (5, 2.0)
    assert emu.limits.enabled and emu.limits.per_chat_burst == 5
    assert (await http.delete("/_emulator/faults")).json() == {"ok": True}

    stats = (await http.get("/_emulator/stats")).json()
    assert stats["responses"] == {"200": 2, "502": 1, "403": 1}
    assert stats["messages_sent"] == 1 and stats["injected_faults"] == 1


async def test_group_messages_and_errors(emu: TelegramEmulator, http: httpx.AsyncClient) -> None:
    alice = emu.user("Alice")
    group = emu.group("Buurt", [alice])
    posted = await http.post(
        f"/_emulator/chats/{group.id}/messages", json={"from": alice.id, "text": "/agenda"}
    )
    assert posted.json()["message"]["chat"]["type"] == "group"
    assert posted.json()["update_id"] is not None

    missing_sender = await http.post(f"/_emulator/chats/{group.id}/messages", json={"text": "x"})
    assert missing_sender.status_code == 400
    unknown_chat = await http.get("/_emulator/chats/42/messages")
    assert unknown_chat.status_code == 404 and unknown_chat.json() == {"error": "no such chat"}
    no_button = await http.post(
        f"/_emulator/chats/{group.id}/press", json={"message_id": 1, "from": alice.id, "text": "?"}
    )
    assert no_button.status_code == 400
    overview = (await http.get("/_emulator/")).json()
    assert overview["bot"]["username"] == "buurtagenda_test_bot"
    assert {c["type"] for c in overview["chats"]} == {"private", "group"}


async def test_demo_users_for_the_sandbox(emu: TelegramEmulator, http: httpx.AsyncClient) -> None:
    emu.add_demo_users()
    emu.add_demo_users()  # idempotent
    users = (await http.get("/_emulator/users")).json()["users"]
    assert [(u["first_name"], u["language_code"]) for u in users] == [
        ("Anouk", "nl"),
        ("Bram", "nl"),
        ("Fatima", "en"),
    ]


async def test_one_long_poll_follows_several_chats(
    emu: TelegramEmulator, http: httpx.AsyncClient, bot: Bot
) -> None:
    alice, bob, carol = emu.user("Alice"), emu.user("Bob"), emu.user("Carol")
    watched = f"{alice.id},{bob.id}"
    start = (await http.get("/_emulator/feed", params={"chats": watched})).json()
    assert start == {"revision": 0, "reset": False, "chats": []}

    waiting = asyncio.create_task(
        http.get("/_emulator/feed", params={"chats": watched, "since": 0, "timeout": 30})
    )
    await bot.send_message(carol.id, "not watched")  # wakes nobody who follows Alice and Bob
    await http.get("/_emulator/stats")  # a full round trip: time enough to answer, were it woken
    assert not waiting.done()
    await bot.send_message(bob.id, "voor Bob")
    feed = (await waiting).json()
    assert [c["chat_id"] for c in feed["chats"]] == [bob.id]
    assert [m["message"]["text"] for m in feed["chats"][0]["messages"]] == ["voor Bob"]

    # One cursor for all chats: the next call returns only what changed after it.
    alice.send("hoi")
    later = (
        await http.get("/_emulator/feed", params={"chats": watched, "since": feed["revision"]})
    ).json()
    assert [(c["chat_id"], len(c["messages"])) for c in later["chats"]] == [(alice.id, 1)]
    assert later["revision"] > feed["revision"]

    everything = (await http.get("/_emulator/feed")).json()
    assert {c["chat_id"] for c in everything["chats"]} == {alice.id, bob.id, carol.id}
    unknown = await http.get("/_emulator/feed", params={"chats": f"{alice.id},42"})
    assert unknown.status_code == 404 and unknown.json() == {"error": "no such chat: 42"}
    garbage = await http.get("/_emulator/feed", params={"chats": "alice"})
    assert garbage.status_code == 400


async def test_a_cursor_from_before_a_restart_starts_over(
    emu: TelegramEmulator, http: httpx.AsyncClient, bot: Bot
) -> None:
    """A page left open while the service restarted holds a cursor the new emulator has not
    reached; waiting for it would hide the new chat, so the feed answers with everything."""
    alice = emu.user("Alice")
    alice.send("hoi")
    await bot.send_message(alice.id, "dag Alice")
    feed = (await http.get("/_emulator/feed", params={"since": 57, "timeout": 30})).json()
    assert feed["reset"] is True and feed["revision"] == 2
    assert [m["message"]["text"] for m in feed["chats"][0]["messages"]] == ["hoi", "dag Alice"]


async def test_long_polls_end_when_the_emulator_closes(
    emu: TelegramEmulator, http: httpx.AsyncClient
) -> None:
    """A browser tab left open must not hold up the server's shutdown for a whole poll."""
    alice = emu.user("Alice")
    polls = [
        asyncio.create_task(http.get("/_emulator/feed", params={"timeout": 50})),
        asyncio.create_task(
            http.get(f"/_emulator/chats/{alice.id}/messages", params={"timeout": 50})
        ),
    ]
    await asyncio.sleep(0.05)
    assert not any(poll.done() for poll in polls)
    emu.queue.close()  # what aclose() does first when a server stops
    async with asyncio.timeout(2):
        answers = [(await poll).json() for poll in polls]
    assert answers[0]["chats"] == [] and answers[1]["messages"] == []
    emu.open()


async def test_downloads_keep_any_file_name(
    emu: TelegramEmulator, http: httpx.AsyncClient, bot: Bot
) -> None:
    alice = emu.user("Alice")
    name = "Omgevingswet – jouw buurt 🏘.ics"  # not Latin-1: a plain filename="" cannot say it
    sent = await bot.send_document(alice.id, InputFile(b"BEGIN:VCALENDAR", filename=name))
    assert sent.document is not None
    download = await http.get(f"/_emulator/files/{sent.document.file_id}")
    assert download.status_code == 200 and download.content == b"BEGIN:VCALENDAR"
    assert download.headers["content-disposition"] == (
        'attachment; filename="Omgevingswet _ jouw buurt _.ics"; '
        "filename*=UTF-8''Omgevingswet%20%E2%80%93%20jouw%20buurt%20%F0%9F%8F%98.ics"
    )
    assert download.headers["x-content-type-options"] == "nosniff"
    assert content_disposition('a "b" \\ c.json') == (
        "attachment; filename=\"a _b_ _ c.json\"; filename*=UTF-8''a%20%22b%22%20%5C%20c.json"
    )
