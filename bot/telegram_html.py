"""Telegram's HTML: the tags a message may carry and how they nest (``check_html``), and the
HTML python-telegram-bot gives for a member's formatted message rewritten into those tags
(``clean_html``). The bot's business, not the domain's: the domain stores the text as given and
only limits its length (``models.broadcasts.operations``).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from models.broadcasts.operations import text_length
from models.errors import N_, DomainError


class UnsupportedMarkup(DomainError):
    message = N_("Deze opmaak kan Telegram niet tonen: {tag}.")


class BrokenMarkup(DomainError):
    message = N_("De opmaak van het bericht klopt niet: een code is niet goed geopend of gesloten.")


ALLOWED_TAGS = frozenset({"b", "i", "u", "s", "a", "code", "pre", "tg-spoiler", "blockquote"})
# What Telegram (and python-telegram-bot's ``text_html``) also write for the same formatting.
_SYNONYMS = {
    "strong": "b",
    "em": "i",
    "ins": "u",
    "strike": "s",
    "del": "s",
}
_LINK_SCHEMES = ("http://", "https://", "tg://", "mailto:")
_LANGUAGE = re.compile(r"^(?:language-)?([\w+#.-]{1,32})$")


class _Checker(HTMLParser):
    """Walks Telegram HTML: refuses what Telegram refuses, and measures the text."""

    def __init__(self) -> None:
        # Character references arrive on their own, so a "<" in the data was typed as such.
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise UnsupportedMarkup(tag=_tag_name(tag))
        names = {name for name, _ in attrs}
        values = dict(attrs)
        if any(t in ("code", "pre") for t in self.stack) and not (
            tag == "code" and self.stack[-1:] == ["pre"]
        ):
            raise BrokenMarkup()  # nothing is formatted inside code
        if tag == "a":
            href = (values.get("href") or "").strip()
            if names != {"href"} or not href.lower().startswith(_LINK_SCHEMES):
                raise UnsupportedMarkup(tag="a")
            if "a" in self.stack:
                raise BrokenMarkup()
        elif tag == "code":
            language = values.get("class")
            if names - {"class"} or (language is not None and not _LANGUAGE.match(language)):
                raise UnsupportedMarkup(tag="code")
        elif tag == "blockquote":
            if names - {"expandable"} or "blockquote" in self.stack:
                raise UnsupportedMarkup(tag="blockquote")
        elif names:
            raise UnsupportedMarkup(tag=tag)
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise UnsupportedMarkup(tag=_tag_name(tag))  # <br/>, <img/>: Telegram has none

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise BrokenMarkup()
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data:
            raise BrokenMarkup()  # a bare "<" (it must be written &lt;), or a tag left open
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        raise BrokenMarkup()

    def handle_decl(self, decl: str) -> None:
        raise BrokenMarkup()

    def handle_pi(self, data: str) -> None:
        raise BrokenMarkup()

    def unknown_decl(self, data: str) -> None:
        raise BrokenMarkup()


def _tag_name(tag: str) -> str:
    return re.sub(r"[^a-z0-9-]", "", tag.lower())[:20] or "?"


def check_html(text: str) -> int:
    """Check Telegram HTML; return the length of its text as Telegram counts it. Raises what
    Telegram would refuse of its markup (how long a text may be is the domain's rule)."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.stack:
        raise BrokenMarkup()
    return text_length("".join(checker.text).strip())


class _Cleaner(HTMLParser):
    """Rewrites the HTML of a Telegram message (python-telegram-bot's ``text_html``) into the
    tags we send: synonyms unified, spoilers as ``<tg-spoiler>``, custom emoji as their plain
    emoji, attributes only where Telegram uses them, and nothing formatted inside code."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[str | None] = []  # what each open source tag became (None: dropped)

    def _verbatim(self) -> bool:
        return any(tag in ("code", "pre") for tag in self.stack if tag)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        tag = _SYNONYMS.get(tag, tag)
        if tag == "span" and (values.get("class") or "") == "tg-spoiler":
            tag = "tg-spoiler"
        opened: str | None = tag if tag in ALLOWED_TAGS else None
        if opened is not None and self._verbatim():
            opened = "code" if tag == "code" and self.stack[-1:] == ["pre"] else None
        if opened == "a" and ("a" in self.stack or not _safe_link(values.get("href"))):
            opened = None
        if opened == "blockquote" and "blockquote" in self.stack:
            opened = None
        self.stack.append(opened)
        if opened is None:
            return
        if opened == "a":
            self.out.append(f'<a href="{html.escape(str(values["href"]).strip())}">')
        elif opened == "code" and self.stack[-2:-1] == ["pre"] and values.get("class"):
            match = _LANGUAGE.match(str(values["class"]))
            language = f' class="language-{match.group(1)}"' if match else ""
            self.out.append(f"<code{language}>")
        elif opened == "blockquote" and "expandable" in values:
            self.out.append("<blockquote expandable>")
        else:
            self.out.append(f"<{opened}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        return  # <br/> and the like: Telegram has none

    def handle_endtag(self, tag: str) -> None:
        # Close up to the matching open tag; a stray end tag is dropped.
        tag = _SYNONYMS.get(tag, tag)
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index] == tag or (tag == "span" and self.stack[index] == "tg-spoiler"):
                break
        else:
            if tag in ("span", "tg-emoji") and self.stack:
                index = len(self.stack) - 1
            else:
                return
        while len(self.stack) > index:
            opened = self.stack.pop()
            if opened is not None:
                self.out.append(f"</{opened}>")

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data, quote=False))

    def result(self) -> str:
        self.close()
        while self.stack:
            opened = self.stack.pop()
            if opened is not None:
                self.out.append(f"</{opened}>")
        return "".join(self.out).strip()


def _safe_link(href: str | None) -> bool:
    return bool(href) and str(href).strip().lower().startswith(_LINK_SCHEMES)


def clean_html(telegram_html: str) -> str:
    """The HTML of a message as Telegram formatted it (bold, italic, links, ...) in our tags."""
    cleaner = _Cleaner()
    cleaner.feed(telegram_html)
    return cleaner.result()
