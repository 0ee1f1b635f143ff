"""Translations (gettext catalogs managed with Babel) and dates as people write them.

Message ids are Dutch, the language almost everyone here speaks; ``locale/en`` translates them to
English and ``locale/nl`` may polish the Dutch. Catalogs are read from the ``.po`` files once per
process (no compiled ``.mo`` files to forget to rebuild). ``make catalogs`` extracts new strings.
"""

from __future__ import annotations

import functools
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def language_from_telegram(language_code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Telegram's ``language_code`` ('en-GB', 'nl') to one of ours; Dutch when unknown."""
    code = (language_code or "").split("-")[0].lower()
    return code if code in LANGUAGES else default


@functools.cache
def _catalog(language: str) -> Translations:
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


class Translator:
    """Everything user-facing for one language: texts, dates and numbers."""

    def __init__(self, language: str, tz: ZoneInfo = AMSTERDAM) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self.tz = tz
        self._translations = _catalog(self.language)

    def __call__(self, message: str, /, **params: Any) -> str:
        text = self._translations.gettext(message)
        return text.format(**params) if params else text

    def plural(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        text = self._translations.ngettext(singular, plural, n)
        return text.format(n=self.number(n), **params)

    def moment(self, when: datetime) -> str:
        """'do 12 maart, 19:30' / 'Thu 12 March, 19:30' in local time."""
        return _formatted(when, "EEE d MMMM, HH:mm", self.tz, self.language)

    def moment_with_year(self, when: datetime) -> str:
        return _formatted(when, "EEE d MMMM y, HH:mm", self.tz, self.language)

    def time(self, when: datetime) -> str:
        return _formatted(when, "HH:mm", self.tz, self.language)

    def span(self, start: datetime, end: datetime) -> str:
        """'do 12 maart, 19:30–21:30'; the end date is shown only when it differs."""
        same_day = start.astimezone(self.tz).date() == end.astimezone(self.tz).date()
        return f"{self.moment(start)}–{self.time(end) if same_day else self.moment(end)}"

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.language)

    def decimal(self, value: float) -> str:
        """One decimal, as the language writes it: '4,5' / '4.5'."""
        return format_decimal(value, format="0.0", locale=self.language)


@functools.lru_cache(maxsize=4096)
def _formatted(when: datetime, pattern: str, tz: ZoneInfo, language: str) -> str:
    """The same few moments (a programme's starts and ends) are on every card and agenda page;
    Babel's formatting is the larger part of drawing one."""
    return format_datetime(when, pattern, tzinfo=tz, locale=language)


@functools.cache
def translator(language: str, tz_name: str = "Europe/Amsterdam") -> Translator:
    return Translator(language, ZoneInfo(tz_name))


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where the language is known."""
    return message
