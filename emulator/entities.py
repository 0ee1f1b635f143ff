"""Telegram's text formatting: HTML, MarkdownV2 and legacy Markdown into ``MessageEntity`` lists.

The parsers follow the official implementation (TDLib's ``MessageEntity.cpp``) closely enough that
the same input gives the same text, the same entities and the same error message: offsets and
lengths are counted in UTF-16 code units, error positions in UTF-8 bytes, and malformed markup is
rejected with TDLib's wording (the Bot API prefixes it with "can't parse entities: ").

Deliberately left out: user mentions by id (``tg://user?id=``) become plain text links, custom
emoji need no ownership, MarkdownV2 expandable block quotes (``**>``) are not recognised, and
Telegram's automatic detection of URLs, mentions and hashtags in *bot* messages is not done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Entity",
    "EntityParseError",
    "check_url",
    "entity_text",
    "finalize",
    "find_bot_commands",
    "parse",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "utf16_len",
]

# TDLib's is_space(): the characters that end tag names and separate attributes.
_SPACE = frozenset(" \t\r\n\v")

# Sort order for entities that start at the same place with the same length (TDLib's priorities).
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 10,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}

KNOWN_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
    }
)


class EntityParseError(ValueError):
    """Markup Telegram refuses; ``str(error)`` is TDLib's message, e.g. "Unclosed start tag..."."""


@dataclass(frozen=True, order=False)
class Entity:
    """One Bot API ``MessageEntity``; offsets and lengths in UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None
    user: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"offset": self.offset, "length": self.length, "type": self.type}
        if self.url is not None:
            data["url"] = self.url
        if self.language is not None:
            data["language"] = self.language
        if self.custom_emoji_id is not None:
            data["custom_emoji_id"] = self.custom_emoji_id
        if self.user is not None:
            data["user"] = self.user
        return data

    def sort_key(self) -> tuple[int, int, int]:
        return (self.offset, -self.length, _PRIORITY.get(self.type, 50))


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of every Telegram offset."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def entity_text(text: str, entity: Entity) -> str:
    """The part of ``text`` an entity covers (helper for tests and the sandbox)."""
    units = text.encode("utf-16-le", "surrogatepass")
    start, end = entity.offset * 2, (entity.offset + entity.length) * 2
    return units[start:end].decode("utf-16-le", "surrogatepass")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _is_space(ch: str) -> bool:
    return ch != "" and ch in _SPACE


class _Output:
    """The parsed text as it grows, with its length in UTF-16 units kept alongside."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.utf16 = 0

    def add(self, ch: str) -> None:
        self.chars.append(ch)
        self.utf16 += 2 if ord(ch) > 0xFFFF else 1

    def text(self) -> str:
        return "".join(self.chars)


# --------------------------------------------------------------------------------------- URLs --

_HOST_RE = re.compile(
    r"^(?:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]"
    r"|\d{1,3}(?:\.\d{1,3}){3})$"
)
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(//)?")


def check_url(url: str) -> str | None:
    """Normalise a link target like Telegram does, or ``None`` if Telegram would drop the link.

    "telegram.org" becomes "http://telegram.org/"; "tg:" and "ton:" links are kept; strings
    without a plausible host (e.g. "asdasd") are not links at all.
    """
    if not url or any(ch.isspace() for ch in url):
        return None
    match = _SCHEME_RE.match(url)
    scheme = "http"
    rest = url
    if match and (match.group(2) or match.group(1).lower() in ("tg", "ton", "tonsite")):
        scheme = match.group(1).lower()
        if scheme in ("tg", "ton", "tonsite"):
            body = url[match.end(1) + 1 :].lstrip("/")
            return f"{scheme}://{body}" if body else None
        if scheme not in ("http", "https", "ftp"):
            return None
        rest = url[match.end() :]
    split = min((rest.find(ch) for ch in "/?#" if ch in rest), default=len(rest))
    authority, path = rest[:split], rest[split:]
    host = authority.rsplit("@", 1)[-1]
    host_only = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if not _HOST_RE.match(host_only.lower()):
        return None
    if not path.startswith("/"):
        path = "/" + path
    return f"{scheme}://{authority}{path}"


# --------------------------------------------------------------------------------------- HTML --

_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HEX = "0123456789abcdefABCDEF"


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode ``&lt;``/``&#60;``/``&#x3c;`` at ``pos``; the ';' is optional, as in Telegram."""
    n = len(text)
    end = pos + 1
    code = 0
    if end < n and text[end] == "#":
        end += 1
        base, digits = 10, "0123456789"
        if end < n and text[end] == "x":
            end += 1
            base, digits = 16, _HEX
        while end < n and text[end] in digits:
            code = code * base + int(text[end], base)
            end += 1
            if code >= 0x10FFFF:
                return None
        if code == 0 or end - pos >= 10:
            return None
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _NAMED_ENTITIES.get(text[pos + 1 : end])
        if named is None:
            return None
        code = ord(named)
    if end < n and text[end] == ";":
        end += 1
    return chr(code), end


@dataclass
class _OpenTag:
    tag: str
    argument: str
    offset: int
    begin_pos: int
    expandable: bool = False


def _join_surrogates(text: str) -> str:
    """Numeric references may spell a surrogate pair; anything unpaired is an error."""
    if not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        return text
    try:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError:
        raise EntityParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, check for "
            "unmatched surrogate code units"
        ) from None


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Parse Telegram-flavoured HTML; returns the plain text and its entities."""
    out = _Output()
    stack: list[_OpenTag] = []
    entities: list[Entity] = []
    n = len(text)
    i = 0

    def at(k: int) -> str:
        return text[k] if k < n else ""

    def fail(message: str) -> EntityParseError:
        return EntityParseError(message)

    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                out.add(decoded[0])
                i = decoded[1]
                continue
        if ch != "<":
            out.add(ch)
            i += 1
            continue

        begin = i
        byte_begin = _byte_offset(text, begin)
        i += 1
        if at(i) != "/":
            tag_end = i
            while tag_end < n and not _is_space(text[tag_end]) and text[tag_end] != ">":
                tag_end += 1
            if tag_end >= n:
                raise fail(f"Unclosed start tag at byte offset {byte_begin}")
            tag = text[i:tag_end].lower()
            if tag not in _HTML_TAGS:
                raise fail(f'Unsupported start tag "{tag}" at byte offset {byte_begin}')
            argument, expandable, i = _parse_attributes(text, tag, tag_end, byte_begin)
            i += 1  # past '>'
            if tag == "span" and argument != "spoiler":
                raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_begin}')
            stack.append(_OpenTag(tag, argument, out.utf16, len(out.chars), expandable))
            continue

        # An end tag; "</>" closes whatever is open.
        if not stack:
            raise fail(f"Unexpected end tag at byte offset {byte_begin}")
        while i < n and not _is_space(text[i]) and text[i] != ">":
            i += 1
        end_name = text[begin + 2 : i]
        while _is_space(at(i)):
            i += 1
        if at(i) != ">":
            raise fail(f"Unclosed end tag at byte offset {byte_begin}")
        i += 1
        opened = stack.pop()
        if end_name and end_name.lower() != opened.tag:
            raise fail(
                f"Unmatched end tag at byte offset {byte_begin}, expected "
                f'"</{opened.tag}>", found "</{end_name}>"'
            )
        if out.utf16 > opened.offset:
            _close_html_entity(opened, out, entities)

    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    text = _join_surrogates(out.text())
    return text, sorted(_drop_code_languages(entities), key=Entity.sort_key)


def _parse_attributes(text: str, tag: str, i: int, byte_begin: int) -> tuple[str, bool, int]:
    """Read the attributes of a start tag; returns (argument, expandable, index of '>')."""
    n = len(text)
    argument = ""
    expandable = False

    def at(k: int) -> str:
        return text[k] if k < n else ""

    while at(i) != ">":
        while _is_space(at(i)):
            i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_begin}")
        if text[i] == ">":
            break
        name_begin = i
        while i < n and not _is_space(text[i]) and text[i] not in "=>":
            i += 1
        name = text[name_begin:i].lower()
        if not name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {byte_begin}'
            )
        while _is_space(at(i)):
            i += 1
        if at(i) != "=":
            if tag == "blockquote" and name == "expandable":
                expandable = True
            continue
        i += 1
        while _is_space(at(i)):
            i += 1
        if i >= n:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {byte_begin}')
        value, i = _attribute_value(text, i)
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_begin}")
        if tag == "a" and name == "href":
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value[len("language-") :]
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value[len("tg-") :]
        elif tag == "tg-emoji" and name == "emoji-id":
            argument = value
        elif tag == "blockquote" and name == "expandable":
            expandable = True
    return argument, expandable, i


def _attribute_value(text: str, i: int) -> tuple[str, int]:
    n = len(text)
    if text[i] not in "'\"":
        # An unquoted name token: letters, digits, periods and hyphens, case-insensitive.
        begin = i
        while i < n and ((text[i].isascii() and text[i].isalnum()) or text[i] in ".-"):
            i += 1
        if i < n and not _is_space(text[i]) and text[i] != ">":
            raise EntityParseError(
                f"Unexpected end of name token at byte offset {_byte_offset(text, begin)}"
            )
        return text[begin:i].lower(), i
    quote = text[i]
    i += 1
    value: list[str] = []
    while i < n and text[i] != quote:
        if text[i] == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                value.append(decoded[0])
                i = decoded[1]
                continue
        value.append(text[i])
        i += 1
    if i < n:
        i += 1  # past the closing quote
    return "".join(value), i


def _close_html_entity(opened: _OpenTag, out: _Output, entities: list[Entity]) -> None:
    offset = opened.offset
    length = out.utf16 - offset
    tag = opened.tag
    if tag in _HTML_SIMPLE:
        entities.append(Entity(_HTML_SIMPLE[tag], offset, length))
    elif tag == "a":
        url = check_url(opened.argument or "".join(out.chars[opened.begin_pos :]))
        if url is not None:
            entities.append(Entity("text_link", offset, length, url=url))
    elif tag == "blockquote":
        kind = "expandable_blockquote" if opened.expandable else "blockquote"
        entities.append(Entity(kind, offset, length))
    elif tag == "tg-emoji":
        if opened.argument.isdigit():
            entities.append(Entity("custom_emoji", offset, length, custom_emoji_id=opened.argument))
    elif tag == "code":
        last = entities[-1] if entities else None
        if last and last.type == "pre" and (last.offset, last.length) == (offset, length):
            # <code class="language-x"> around <pre>: the language belongs to the pre.
            entities[-1] = Entity("pre", offset, length, language=opened.argument or None)
        else:
            # The language is kept until an enclosing <pre> closes, then dropped from code.
            entities.append(Entity("code", offset, length, language=opened.argument or None))
    elif tag == "pre":
        last = entities[-1] if entities else None
        if last and last.type == "code" and (last.offset, last.length) == (offset, length):
            # <pre><code class="language-x">: one pre entity; pre cannot contain other entities.
            entities[-1] = Entity("pre", offset, length, language=last.language)
        else:
            entities.append(Entity("pre", offset, length))


def _drop_code_languages(entities: list[Entity]) -> list[Entity]:
    """Only pre has a language; a code language not claimed by a pre is forgotten."""
    return [
        Entity("code", e.offset, e.length) if e.type == "code" and e.language else e
        for e in entities
    ]


# --------------------------------------------------------------------------------- MarkdownV2 --

_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_API_TYPE = {
    "Bold": "bold",
    "Italic": "italic",
    "Underline": "underline",
    "Strikethrough": "strikethrough",
    "Spoiler": "spoiler",
    "Code": "code",
    "Pre": "pre",
    "PreCode": "pre",
    "TextUrl": "text_link",
    "CustomEmoji": "custom_emoji",
}
_CUSTOM_EMOJI_RE = re.compile(r"^tg://emoji/?\?(?:[^#]*&)?id=(\d+)", re.IGNORECASE)


@dataclass
class _MdOpen:
    kind: str  # TDLib's type name, used verbatim in error messages
    argument: str
    offset: int
    byte_offset: int
    begin_pos: int


def _is_escape(text: str, i: int) -> bool:
    """A backslash escapes any ASCII character (1..126) that follows it."""
    return text[i] == "\\" and i + 1 < len(text) and 0 < ord(text[i + 1]) <= 126


class _MarkdownV2:
    """One MarkdownV2 parse; state lives on the instance to keep each step small."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.i = 0
        self.out = _Output()
        self.stack: list[_MdOpen] = []
        self.entities: list[Entity] = []
        self.quote_start: int | None = None
        self.quote_depth = 0

    def at(self, k: int) -> str:
        return self.text[k] if k < self.n else ""

    def in_code(self) -> bool:
        return bool(self.stack) and self.stack[-1].kind in ("Code", "Pre", "PreCode")

    def reserved_error(self) -> EntityParseError:
        return EntityParseError(
            f"Character '{self.text[self.i]}' is reserved and must be escaped with the "
            "preceding '\\'"
        )

    def unclosed_error(self, opened: _MdOpen) -> EntityParseError:
        return EntityParseError(
            f"Can't find end of {opened.kind} entity at byte offset {opened.byte_offset}"
        )

    def run(self) -> tuple[str, list[Entity]]:
        while self.i < self.n:
            if self.at_line_start() and not self.in_code() and self.handle_quote_marker():
                continue
            if _is_escape(self.text, self.i):
                self.out.add(self.text[self.i + 1])
                self.i += 2
                continue
            ch = self.text[self.i]
            reserved = "`" if self.in_code() else _MD2_RESERVED
            if ch not in reserved:
                self.out.add(ch)
                self.i += 1
            elif self.is_end_of_entity(ch):
                self.close_entity()
            else:
                self.open_entity(ch)
        self.close_quote()
        if self.stack:
            raise self.unclosed_error(self.stack[-1])
        return self.out.text(), sorted(self.entities, key=Entity.sort_key)

    def at_line_start(self) -> bool:
        return self.i == 0 or self.text[self.i - 1] in "\r\n"

    def handle_quote_marker(self) -> bool:
        """'>' at the start of a line quotes it; a line without one ends the block quote."""
        if self.text[self.i] == ">":
            if self.quote_start is None:
                self.quote_start = self.out.utf16
                self.quote_depth = len(self.stack)
            self.i += 1
            return True
        self.close_quote()
        return False

    def close_quote(self) -> None:
        if self.quote_start is None:
            return
        if len(self.stack) > self.quote_depth:
            raise self.unclosed_error(self.stack[-1])
        if self.out.utf16 > self.quote_start:
            length = self.out.utf16 - self.quote_start
            self.entities.append(Entity("blockquote", self.quote_start, length))
        self.quote_start = None

    def is_end_of_entity(self, ch: str) -> bool:
        if not self.stack:
            return False
        kind = self.stack[-1].kind
        nxt = self.at(self.i + 1)
        if kind == "Bold":
            return ch == "*"
        if kind == "Italic":
            return ch == "_" and nxt != "_"
        if kind == "Underline":
            return ch == "_" and nxt == "_"
        if kind == "Strikethrough":
            return ch == "~"
        if kind == "Spoiler":
            return ch == "|" and nxt == "|"
        if kind == "Code":
            return ch == "`"
        if kind in ("Pre", "PreCode"):
            return self.text.startswith("```", self.i)
        return ch == "]"  # TextUrl and CustomEmoji

    def open_entity(self, ch: str) -> None:
        begin = self.i
        nxt = self.at(self.i + 1)
        argument = ""
        if ch == "_" and nxt == "_":
            kind, self.i = "Underline", self.i + 2
        elif ch == "_":
            kind, self.i = "Italic", self.i + 1
        elif ch == "*":
            kind, self.i = "Bold", self.i + 1
        elif ch == "~":
            kind, self.i = "Strikethrough", self.i + 1
        elif ch == "|" and nxt == "|":
            kind, self.i = "Spoiler", self.i + 2
        elif ch == "[":
            kind, self.i = "TextUrl", self.i + 1
        elif ch == "!" and nxt == "[":
            kind, self.i = "CustomEmoji", self.i + 2
        elif ch == "`" and self.text.startswith("```", self.i):
            kind, argument = self.open_pre()
        elif ch == "`":
            kind, self.i = "Code", self.i + 1
        else:
            raise self.reserved_error()
        self.stack.append(
            _MdOpen(
                kind, argument, self.out.utf16, _byte_offset(self.text, begin), len(self.out.chars)
            )
        )

    def open_pre(self) -> tuple[str, str]:
        """```lang\\n...```: a language needs whitespace after it; one leading newline is eaten."""
        self.i += 3
        end = self.i
        while end < self.n and not _is_space(self.text[end]) and self.text[end] != "`":
            end += 1
        kind, language = "Pre", ""
        if end != self.i and end < self.n and self.text[end] != "`":
            kind, language = "PreCode", self.text[self.i : end]
            self.i = end
        first, second = self.at(self.i), self.at(self.i + 1)
        if first in ("\n", "\r") and first:
            both = second in ("\n", "\r") and second != "" and second != first
            self.i += 2 if both else 1
        return kind, language

    def close_entity(self) -> None:
        opened = self.stack[-1]
        skip = self.out.utf16 == opened.offset
        url: str | None = None
        emoji_id: str | None = None
        if opened.kind in ("Underline", "Spoiler"):
            self.i += 2
        elif opened.kind in ("Pre", "PreCode"):
            self.i += 3
        elif opened.kind == "TextUrl":
            url = check_url(self.read_link_target(opened))
            skip = skip or url is None
        elif opened.kind == "CustomEmoji":
            emoji_id = self.read_custom_emoji(opened)
        else:
            self.i += 1
        if not skip:
            self.entities.append(
                Entity(
                    _MD2_API_TYPE[opened.kind],
                    opened.offset,
                    self.out.utf16 - opened.offset,
                    url=url,
                    language=(opened.argument or None) if opened.kind == "PreCode" else None,
                    custom_emoji_id=emoji_id,
                )
            )
        self.stack.pop()

    def read_parenthesised(self, error: str) -> str:
        """Read "(...)" after ']' where only ')' and '\\' need escaping."""
        self.i += 2
        begin = self.i
        chars: list[str] = []
        while self.i < self.n and self.text[self.i] != ")":
            if _is_escape(self.text, self.i):
                chars.append(self.text[self.i + 1])
                self.i += 2
                continue
            chars.append(self.text[self.i])
            self.i += 1
        if self.i >= self.n:
            raise EntityParseError(f"{error} at byte offset {_byte_offset(self.text, begin)}")
        self.i += 1
        return "".join(chars)

    def read_link_target(self, opened: _MdOpen) -> str:
        if self.at(self.i + 1) != "(":
            self.i += 1
            return "".join(self.out.chars[opened.begin_pos :])  # [url] links to itself
        return self.read_parenthesised("Can't find end of a URL")

    def read_custom_emoji(self, opened: _MdOpen) -> str:
        if self.at(self.i + 1) != "(":
            raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
        target = self.read_parenthesised("Can't find end of a custom emoji URL")
        match = _CUSTOM_EMOJI_RE.match(target)
        if match is None:
            raise EntityParseError("Custom emoji URL must have an emoji identifier")
        return match.group(1)


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    """Parse MarkdownV2; every character in ``_*[]()~`>#+-=|{}.!`` must be escaped outside
    entities, exactly as Telegram demands."""
    return _MarkdownV2(text).run()


# ---------------------------------------------------------------------------- legacy Markdown --


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out = _Output()
    entities: list[Entity] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if ch not in "_*`[":
            out.add(ch)
            i += 1
            continue
        begin = i
        end_char = "]" if ch == "[" else ch
        i += 1
        is_pre = False
        language = ""
        if ch == "`" and text.startswith("``", i):
            is_pre = True
            i += 2
            end = i
            while end < n and not _is_space(text[end]) and text[end] != "`":
                end += 1
            if end != i and end < n and text[end] != "`":
                language, i = text[i:end], end
            if i < n and text[i] in "\r\n":
                both = i + 1 < n and text[i + 1] in "\r\n" and text[i + 1] != text[i]
                i += 2 if both else 1
        offset = out.utf16
        while i < n and (text[i] != end_char or (is_pre and not text.startswith("``", i + 1))):
            out.add(text[i])
            i += 1
        if i >= n:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
            )
        length = out.utf16 - offset
        if ch == "[":
            target = text[begin + 1 : i]
            if i + 1 < n and text[i + 1] == "(":
                close = text.find(")", i + 2)
                close = n if close < 0 else close
                target, i = text[i + 2 : close], close
            url = check_url(target)
            if length and url is not None:
                entities.append(Entity("text_link", offset, length, url=url))
        elif length:
            kind = {"_": "italic", "*": "bold"}.get(ch, "pre" if is_pre else "code")
            entities.append(Entity(kind, offset, length, language=language or None))
        i += 3 if is_pre else 1
    return out.text(), sorted(entities, key=Entity.sort_key)


# ------------------------------------------------------------------------------------- common --


def parse(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    """Dispatch on ``parse_mode`` (case-insensitive; None/"" = plain text).

    Raises ``KeyError`` for an unknown mode and ``EntityParseError`` for malformed markup.
    """
    mode = (parse_mode or "").lower()
    if mode in ("", "none") or not text:
        return text, []
    parsers = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}
    return parsers[mode](text)


def finalize(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Trim surrounding whitespace and clip/sort entities, as Telegram does before storing."""
    stripped_left = text.lstrip()
    cut = utf16_len(text[: len(text) - len(stripped_left)])
    result = stripped_left.rstrip()
    limit = utf16_len(result)
    fixed: list[Entity] = []
    for entity in entities:
        start = max(entity.offset - cut, 0)
        end = min(entity.offset + entity.length - cut, limit)
        if end > start:
            fixed.append(
                Entity(
                    entity.type,
                    start,
                    end - start,
                    entity.url,
                    entity.language,
                    entity.custom_emoji_id,
                    entity.user,
                )
            )
    return result, sorted(fixed, key=Entity.sort_key)


_COMMAND_RE = re.compile(
    r"(?<![A-Za-z0-9_/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_/<>@])"
)


def find_bot_commands(text: str) -> list[Entity]:
    """The ``bot_command`` entities Telegram attaches to a user's message."""
    return [
        Entity("bot_command", utf16_len(text[: m.start()]), utf16_len(m.group()))
        for m in _COMMAND_RE.finditer(text)
    ]
