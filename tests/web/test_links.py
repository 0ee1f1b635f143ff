"""Start links: t.me with a real bot; the sandbox page in the sandbox, whatever the bot's name."""

from __future__ import annotations

from calendars.links import start_link


def test_a_real_bot_gets_telegram_links() -> None:
    assert start_link("e_abc", bot_username="BuurtagendaBot", sandbox_url=None) == (
        "https://t.me/BuurtagendaBot?start=e_abc"
    )
    assert start_link("e_abc", bot_username=None, sandbox_url=None) is None  # before getMe


def test_the_sandbox_never_links_to_telegram() -> None:
    link = start_link(
        "o_secret-1", bot_username="buurtagenda_sandbox_bot", sandbox_url="http://127.0.0.1:8080/"
    )
    assert link == "http://127.0.0.1:8080/sandbox?start=o_secret-1"
