"""Where a start link leads: the one place that knows whether the service talks to Telegram.

With a real bot, ``https://t.me/<bot>?start=<payload>``: Telegram opens the bot, which receives
"/start <payload>" (``e_<code>`` opens an event, ``o_<secret>`` accepts an organiser invitation).
The sandbox has no bot on Telegram (its made-up username could be registered there by anyone),
so there the same payload opens the sandbox page, ``<public_url>/sandbox?start=<payload>``,
which sends "/start <payload>" as the chosen demo volunteer.
"""

from __future__ import annotations

from urllib.parse import urlencode


def start_link(payload: str, *, bot_username: str | None, sandbox_url: str | None) -> str | None:
    """The link for ``payload``; None with a real bot whose name is not known yet (getMe).
    ``sandbox_url``: the service's public URL when it runs as the sandbox, otherwise None."""
    if sandbox_url is not None:
        return f"{sandbox_url.rstrip('/')}/sandbox?{urlencode({'start': payload})}"
    if not bot_username:
        return None
    return f"https://t.me/{bot_username}?start={payload}"


__all__ = ["start_link"]
