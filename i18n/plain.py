"""Texts of the agenda page and the calendar feeds: gettext, through the shared catalogs.

``_(lang, msgid)`` and ``_n(lang, singular, plural, n)`` take the language first (a page is
rendered per request language); ``make catalogs`` extracts their message ids like the bot's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from i18n.labels import KIND_LABELS
from i18n.translate import translator
from models.events.entities import EventKind

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"


def language(code: str | None) -> str:
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def _(lang: str, text: str, /, **params: Any) -> str:
    """``text`` (a Dutch msgid) in ``lang``, with ``{name}`` placeholders filled in."""
    return translator(lang)(text, **params)


def _n(lang: str, singular: str, plural: str, n: int, /, **params: Any) -> str:
    """Singular or plural as the language has it, with ``{n}`` filled in."""
    return translator(lang).plural(singular, plural, n, **params)


def kind_label(lang: str, kind: EventKind) -> str:
    return translator(lang)(KIND_LABELS[kind])


def moment_in_text(lang: str, when: datetime, tz: ZoneInfo) -> str:
    """For a sentence in a calendar entry: 'vrijdag 12 maart 2027, 19:30'. Always with the
    year: an entry is read at any time, and its bytes must not depend on when it was made."""
    return translator(lang, tz.key).moment_in_text(when)


def span(
    lang: str, start: datetime, end: datetime, tz: ZoneInfo, *, now: datetime | None
) -> str:
    """For the page's list: 'vr 12 maart, 19:30–21:30'; the end date only when it is another
    day, the year only when it is needed as of ``now`` (None: always)."""
    dates = translator(lang, tz.key)
    return (dates if now is None else dates.at(now)).span(start, end)


# Each language's name in that language (the switch shows the other one): not translated.
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}
