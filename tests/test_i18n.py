"""The catalogs are complete in nl and en, and translations keep their placeholders."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from i18n.translate import (
    LANGUAGES,
    LOCALE_DIR,
    Translator,
    language_from_telegram,
    shows_year,
)

ROOT = Path(__file__).resolve().parents[1]
# As `make catalogs`: t(msg), N_(msg), plural(s, p, n); in web/: _(lang, msg), _n(lang, s, p, n)
KEYWORDS = {"t": None, "N_": None, "plural": (1, 2), "_": (2,), "_n": (2, 3)}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def source_messages() -> set[str]:
    found: set[str] = set()
    for package in ("bot", "buurtagenda", "models", "scheduler", "web"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def catalog(language: str):  # type: ignore[no-untyped-def]
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return read_po(po_file, locale=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language):
    entries = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog(language) if m.id}
    missing = sorted(source_messages() - set(entries))
    assert missing == [], f"run `make catalogs` and translate: {missing[:5]}"
    untranslated = [
        key
        for key, m in entries.items()
        if "fuzzy" in m.flags or not (m.string if isinstance(m.string, str) else all(m.string))
    ]
    assert untranslated == [], untranslated[:5]


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language):
    for message in catalog(language):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        expected = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) <= expected, (message.id, string)


def test_dates_as_people_write_them():
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    moment = datetime(2027, 3, 11, 18, 30, tzinfo=UTC)
    assert Translator("nl").at(now).moment(moment) == "do 11 maart, 19:30"
    assert Translator("en").at(now).moment(moment) == "Thu 11 March, 19:30"
    end = datetime(2027, 3, 11, 20, 30, tzinfo=UTC)
    assert Translator("nl").at(now).span(moment, end) == "do 11 maart, 19:30–21:30"
    assert Translator("nl").number(2340) == "2.340"


# The "Hij is voor jou tot zo 6 december" was read as "tot zo" (see you soon).
NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)  # Saturday 5 December 2026, 16:00 in Amsterdam


def in_text(language: str, when: datetime, now: datetime | None = NOW) -> str:
    t = Translator(language)
    return (t.at(now) if now else t).moment_in_text(when)


def in_list(language: str, when: datetime, now: datetime | None = NOW) -> str:
    t = Translator(language)
    return (t.at(now) if now else t).moment(when)


def test_running_text_names_the_weekday_in_full_lists_abbreviate_it():
    tomorrow = datetime(2026, 12, 6, 15, 8, tzinfo=UTC)
    assert in_text("nl", tomorrow) == "zondag 6 december, 16:08"
    assert in_text("en", tomorrow) == "Sunday 6 December, 16:08"
    assert in_list("nl", tomorrow) == "zo 6 december, 16:08"
    assert in_list("en", tomorrow) == "Sun 6 December, 16:08"
    end = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    t = Translator("nl").at(NOW)
    assert t.span_in_text(tomorrow, end) == "zondag 6 december, 16:08–18:00"
    assert t.span(tomorrow, end) == "zo 6 december, 16:08–18:00"


def test_the_year_is_shown_only_where_a_date_could_be_misread():
    # This year, coming or past: no year.
    assert (
        in_text("nl", datetime(2026, 12, 24, 18, 0, tzinfo=UTC)) == "donderdag 24 december, 19:00"
    )
    assert in_list("nl", datetime(2026, 3, 12, 18, 0, tzinfo=UTC)) == "do 12 maart, 19:00"
    # Next year, within about six months: no year either ("do 11 maart" in December is March).
    assert in_list("nl", datetime(2027, 3, 11, 18, 30, tzinfo=UTC)) == "do 11 maart, 19:30"
    assert in_list("en", datetime(2027, 5, 27, 17, 30, tzinfo=UTC)) == "Thu 27 May, 19:30"
    # More than about six months ahead: with the year.
    far = datetime(2027, 11, 11, 18, 30, tzinfo=UTC)
    assert in_list("nl", far) == "do 11 november 2027, 19:30"
    assert in_list("en", far) == "Thu 11 November 2027, 19:30"
    assert in_text("nl", far) == "donderdag 11 november 2027, 19:30"
    assert in_text("en", far) == "Thursday 11 November 2027, 19:30"
    # Also later in this same year, when that is more than six months away.
    january = datetime(2027, 1, 2, 9, 0, tzinfo=UTC)
    assert in_list("nl", datetime(2027, 12, 16, 18, 0, tzinfo=UTC), january) == (
        "do 16 december 2027, 19:00"
    )
    # An earlier year: with the year.
    assert in_list("nl", datetime(2025, 11, 20, 18, 0, tzinfo=UTC)) == "do 20 november 2025, 19:00"
    assert in_text("en", datetime(2025, 11, 20, 18, 0, tzinfo=UTC)) == (
        "Thursday 20 November 2025, 19:00"
    )
    # Years are local: at 00:30 on New Year's Day in Amsterdam (23:30 UTC), yesterday evening
    # was last year.
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert in_list("nl", datetime(2026, 12, 31, 19, 0, tzinfo=UTC), new_year) == (
        "do 31 december 2026, 20:00"
    )
    # Without a "now" a date cannot know what is near: it shows its year, which is never wrong.
    assert in_list("nl", datetime(2026, 12, 6, 15, 8, tzinfo=UTC), None) == (
        "zo 6 december 2026, 16:08"
    )


def test_the_year_rule_is_one_function():
    assert not shows_year(datetime(2027, 6, 3, 12, 0, tzinfo=UTC), NOW)  # 180 days ahead
    assert shows_year(datetime(2027, 6, 7, 12, 0, tzinfo=UTC), NOW)  # 184 days ahead
    assert not shows_year(datetime(2026, 1, 1, 12, 0, tzinfo=UTC), NOW)
    assert shows_year(datetime(2025, 12, 31, 12, 0, tzinfo=UTC), NOW)
    assert shows_year(NOW, None)


def test_language_from_telegram():
    assert language_from_telegram("en-GB") == "en"
    assert language_from_telegram("nl") == "nl"
    assert language_from_telegram("de") == "nl"
    assert language_from_telegram(None) == "nl"


def test_no_translated_literal_hides_inside_an_f_string():
    """Babel cannot see ``t("...")`` inside an f-string (Python 3.11 tokenizes the whole f-string
    as one string), so such a text would silently stay untranslated."""
    import tokenize

    call_with_literal = re.compile(r"\{[^{}]*\b(?:t|N_|plural|_|_n)\((?:\s*\w+,)?\s*[\"']")
    hidden = []
    for package in ("bot", "buurtagenda", "models", "scheduler", "web"):
        for path in (ROOT / package).rglob("*.py"):
            with path.open("rb") as source:
                for token in tokenize.tokenize(source.readline):
                    if token.type != tokenize.STRING:
                        continue
                    prefix = token.string[: token.string.find(token.string[-1])].lower()
                    if "f" in prefix and call_with_literal.search(token.string):
                        hidden.append(f"{path.relative_to(ROOT)}:{token.start[0]}")
    assert hidden == []
