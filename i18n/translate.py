"""Translations (gettext catalogs managed with Babel) and dates as people write them.

Message ids are Dutch, the language almost everyone here speaks; ``locale/en`` translates them to
English and ``locale/nl`` may polish the Dutch. Catalogs are read from the ``.po`` files once per
process (no compiled ``.mo`` files to forget to rebuild). ``make catalogs`` extracts new strings.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
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
# A date further ahead than this shows its year: "do 11 november" read in December could be
# either year. (About six months; nearer dates, also in the next year, go without.)
YEAR_SHOWN_BEYOND = timedelta(days=183)


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
    """Everything user-facing for one language: texts, dates and numbers.

    Dates come in two forms, both in local time, with the year only where it is needed
    (``shows_year``, relative to ``now``):

    - in running text the weekday in full, so that "zo 6 december" cannot be read as "tot zo"
      ("see you soon"): ``moment_in_text``, ``span_in_text``: 'zondag 6 december, 16:08';
    - in lists and cards, where space is short and the layout makes it a date: ``moment``,
      ``span``: 'do 12 maart, 19:30', 'do 11 november 2027, 19:30'.

    ``now`` is the service's clock (``at(now)``); a translator that does not know it always shows
    the year, which is never wrong.
    """

    def __init__(
        self, language: str, tz: ZoneInfo = AMSTERDAM, now: datetime | None = None
    ) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self.tz = tz
        self.now = now
        self._translations = _catalog(self.language)

    def at(self, now: datetime) -> Translator:
        """This translator, for dates read at ``now``."""
        return Translator(self.language, self.tz, now)

    def __call__(self, message: str, /, **params: Any) -> str:
        text = self._translations.gettext(message)
        return text.format(**params) if params else text

    def plural(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        text = self._translations.ngettext(singular, plural, n)
        return text.format(n=self.number(n), **params)

    def moment(self, when: datetime) -> str:
        """For lists and cards: 'do 12 maart, 19:30' / 'Thu 12 March, 19:30'."""
        return self._moment(when, "EEE")

    def moment_in_text(self, when: datetime) -> str:
        """For running text: 'zondag 6 december, 16:08' / 'Sunday 6 December, 16:08'."""
        return self._moment(when, "EEEE")

    def moment_with_year(self, when: datetime) -> str:
        """Always with the year: for documents that are read later, elsewhere."""
        return _formatted(when, "EEE d MMMM y, HH:mm", self.tz, self.language)

    def time(self, when: datetime) -> str:
        return _formatted(when, "HH:mm", self.tz, self.language)

    def span(self, start: datetime, end: datetime) -> str:
        """For lists and cards: 'do 12 maart, 19:30–21:30'; the end date only when it differs."""
        return self._span(start, end, self.moment)

    def span_in_text(self, start: datetime, end: datetime) -> str:
        """For running text: 'donderdag 12 maart, 19:30–21:30'."""
        return self._span(start, end, self.moment_in_text)

    def shows_year(self, when: datetime) -> bool:
        return shows_year(when, self.now, self.tz)

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.language)

    def decimal(self, value: float) -> str:
        """One decimal, as the language writes it: '4,5' / '4.5'."""
        return format_decimal(value, format="0.0", locale=self.language)

    def _moment(self, when: datetime, weekday: str) -> str:
        year = " y" if self.shows_year(when) else ""
        return _formatted(when, f"{weekday} d MMMM{year}, HH:mm", self.tz, self.language)

    def _span(self, start: datetime, end: datetime, moment: Callable[[datetime], str]) -> str:
        same_day = start.astimezone(self.tz).date() == end.astimezone(self.tz).date()
        return f"{moment(start)}–{self.time(end) if same_day else moment(end)}"


def shows_year(when: datetime, now: datetime | None, tz: ZoneInfo = AMSTERDAM) -> bool:
    """Whether a date needs its year to be read right, as of ``now`` (the one rule for it).

    Not for a date in this year or within about six months ahead ("do 14 januari" in
    December is next month); yes for one further ahead, for one in an earlier year, and when
    ``now`` is not known.
    """
    if now is None:
        return True
    if when - now > YEAR_SHOWN_BEYOND:
        return True
    return when < now and when.astimezone(tz).year != now.astimezone(tz).year


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
