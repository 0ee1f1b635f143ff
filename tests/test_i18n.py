"""The catalogs are complete in nl and en, and translations keep their placeholders."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from buurtagenda.i18n import LANGUAGES, LOCALE_DIR, Translator, language_from_telegram

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
    moment = datetime(2027, 3, 11, 18, 30, tzinfo=UTC)
    assert Translator("nl").moment(moment) == "do 11 maart, 19:30"
    assert Translator("en").moment(moment) == "Thu 11 March, 19:30"
    end = datetime(2027, 3, 11, 20, 30, tzinfo=UTC)
    assert Translator("nl").span(moment, end) == "do 11 maart, 19:30–21:30"
    assert Translator("nl").number(2340) == "2.340"


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
