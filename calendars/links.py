"""Where a start link leads: the one place that knows whether the service talks to Telegram.

With a real bot, ``https://t.me/<bot>?start=<payload>``: Telegram opens the bot, which receives
"/start <payload>" (``e_<code>`` opens an event, ``o_<secret>`` accepts an organiser invitation).
The sandbox has no bot on Telegram (its made-up username could be registered there by anyone),
so there the same payload opens the sandbox page, ``<public_url>/sandbox?start=<payload>``,
which sends "/start <payload>" as the chosen demo volunteer.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode


def start_link(payload: str, *, bot_username: str | None, sandbox_url: str | None) -> str | None:
    """The link for ``payload``; None with a real bot whose name is not known yet (getMe).
    ``sandbox_url``: the service's public URL when it runs as the sandbox, otherwise None."""
    if sandbox_url is not None:
        return f"{sandbox_url.rstrip('/')}/sandbox?{urlencode({'start': payload})}"
    if not bot_username:
        return None
    return f"https://t.me/{bot_username}?start={payload}"


__all__ = ["start_link"]


# --- feed URLs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedLinks:
    """The ways to subscribe to one feed, for buttons in the bot and on the page."""

    https: str
    webcal: str
    google: str


def feed_links(url: str) -> FeedLinks:
    """``https://…/agenda.ics`` as a webcal link (Apple, Outlook) and Google's "via URL" link."""
    webcal = "webcal://" + url.split("://", 1)[1]
    google = "https://calendar.google.com/calendar/render?cid=" + quote(url, safe="")
    return FeedLinks(https=url, webcal=webcal, google=google)


def personal_feed_url(public_url: str, plain_token: str) -> str:
    return f"{public_url.rstrip('/')}/feed/{plain_token}.ics"


def personal_feed_links(public_url: str, plain_token: str) -> FeedLinks:
    """For the bot's "Zet in je agenda": the member's feed as https, webcal and Google links."""
    return feed_links(personal_feed_url(public_url, plain_token))


def network_feed_url(public_url: str, slug: str) -> str:
    return f"{public_url.rstrip('/')}/netwerk/{slug}.ics"


def agenda_feed_url(public_url: str) -> str:
    return f"{public_url.rstrip('/')}/agenda.ics"


def event_document_url(public_url: str, event_id: int) -> str:
    return f"{public_url.rstrip('/')}/event/{event_id}.ics"
