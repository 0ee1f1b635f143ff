"""The HTML/MarkdownV2/Markdown parsers against cases from TDLib's own test suite."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.entities import (
    Entity,
    EntityParseError,
    entity_text,
    finalize,
    find_bot_commands,
    parse_html,
    parse_markdown,
    parse_markdown_v2,
    utf16_len,
)


def spans(entities: list[Entity]) -> list[tuple[str, int, int]]:
    return [(e.type, e.offset, e.length) for e in entities]


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
        ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba>", 'Can\'t find end tag corresponding to start tag "i"'),
        ("🏟 🏟&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
        ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
        ("🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
        (
            "🏟 🏟&lt;<i>a</em   >",
            'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"',
        ),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        (
            "&#57311;",
            "Text contains invalid Unicode characters after decoding HTML entities, check for "
            "unmatched surrogate code units",
        ),
    ],
)
def test_html_errors(markup: str, error: str) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse_html(markup)
    assert str(raised.value) == error


@pytest.mark.parametrize(
    ("markup", "text", "expected"),
    [
        ("&ge;&lt;&gt;&amp;&quot;&#12345678;", '&ge;<>&"&#12345678;', []),
        ("🏟 🏟<i>🏟 &lt🏟</i>", "🏟 🏟🏟 <🏟", [("italic", 5, 6)]),
        (
            "🏟 🏟<i>🏟 &gt;<b aba   =   caba>&lt🏟</b></i>",
            "🏟 🏟🏟 ><🏟",
            [("italic", 5, 7), ("bold", 9, 3)],
        ),
        (
            "<strong>a</strong><em>b</em><ins>c</ins><del>d</del>",
            "abcd",
            [("bold", 0, 1), ("italic", 1, 1), ("underline", 2, 1), ("strikethrough", 3, 1)],
        ),
        ("🏟 🏟&lt;<i>🏟 🏟&lt;</>", "🏟 🏟<🏟 🏟<", [("italic", 6, 6)]),
        ("<a href=telegram.org> </a>", " ", [("text_link", 0, 1)]),
        ("<a>telegram.org </a>", "telegram.org ", []),
        ("<blockquote expandable>a</blockquote>", "a", [("expandable_blockquote", 0, 1)]),
        ("<b></b>x", "x", []),
    ],
)
def test_html_parses_like_telegram(
    markup: str, text: str, expected: list[tuple[str, int, int]]
) -> None:
    parsed_text, entities = parse_html(markup)
    assert parsed_text == text
    assert spans(entities) == expected


def test_html_link_and_pre_arguments() -> None:
    _, link = parse_html("<a href='https://telegram.dog?&lt;'>x</a>")
    assert link[0].url == "https://telegram.dog/?<"
    _, pre = parse_html('<pre><code class="language-python">x</code></pre>')
    assert [(e.type, e.language) for e in pre] == [("pre", "python")]
    _, code = parse_html('<code class="language-python">x</code>')
    assert [(e.type, e.language) for e in code] == [("code", None)]


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("🏟 🏟_abacaba", "Can't find end of Italic entity at byte offset 9"),
        ("🏟 🏟_abac * asd ", "Can't find end of Bold entity at byte offset 15"),
        ("🏟 🏟`", "Can't find end of Code entity at byte offset 9"),
        ("🏟 🏟```a", "Can't find end of Pre entity at byte offset 9"),
        ("🏟 🏟```a ", "Can't find end of PreCode entity at byte offset 9"),
        ("🏟 🏟__🏟 _🏟___", "Can't find end of Italic entity at byte offset 23"),
        ("🏟 🏟||test\\|", "Can't find end of Spoiler entity at byte offset 9"),
        ("[telegram\\.org](asd\\)", "Can't find end of a URL at byte offset 16"),
        ("🏟 🏟!", "Character '!' is reserved and must be escaped with the preceding '\\'"),
        (">*b\n>ld \n>bo\nld*\nasd", "Can't find end of Bold entity at byte offset 1"),
        ("1.5", "Character '.' is reserved and must be escaped with the preceding '\\'"),
    ],
)
def test_markdown_v2_errors(markup: str, error: str) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse_markdown_v2(markup)
    assert str(raised.value) == error


@pytest.mark.parametrize(
    ("markup", "text", "expected"),
    [
        ("🏟 🏟_abac \\* asd _", "🏟 🏟abac * asd ", [("italic", 5, 11)]),
        ("🏟 🏟_🏟 __🏟___", "🏟 🏟🏟 🏟", [("italic", 5, 5), ("underline", 8, 2)]),
        ("🏟 🏟__🏟 _🏟_ __", "🏟 🏟🏟 🏟 ", [("underline", 5, 6), ("italic", 8, 2)]),
        ("🏟 🏟```🏟 🏟```", "🏟 🏟 🏟", [("pre", 5, 3)]),
        ("🏟 🏟```\n🏟 🏟```", "🏟 🏟🏟 🏟", [("pre", 5, 5)]),
        ("||test||", "test", [("spoiler", 0, 4)]),
        ("[ ](as)", " ", []),
        ("[telegram\\.org]a", "telegram.orga", [("text_link", 0, 12)]),
        ("abc\n> \n> \n>\ndef", "abc\n \n \n\ndef", [("blockquote", 4, 5)]),
        ("\\\\\\a\\➡️\\", "\\a\\➡️\\", []),
        ("🏟 🏟**", "🏟 🏟", []),
    ],
)
def test_markdown_v2_parses_like_telegram(
    markup: str, text: str, expected: list[tuple[str, int, int]]
) -> None:
    parsed_text, entities = parse_markdown_v2(markup)
    assert parsed_text == text
    assert spans(entities) == expected


def test_markdown_v2_link_targets() -> None:
    _, entities = parse_markdown_v2("[a](https://telegram.dog?\\\\\\()")
    assert entities[0].url == "https://telegram.dog/?\\("
    _, pre = parse_markdown_v2("```python\nprint(1)\n```")
    assert (pre[0].type, pre[0].language) == ("pre", "python")


def test_legacy_markdown() -> None:
    assert spans(parse_markdown("*a* _b_ `c` [d](telegram.org)")[1]) == [
        ("bold", 0, 1),
        ("italic", 2, 1),
        ("code", 4, 1),
        ("text_link", 6, 1),
    ]
    with pytest.raises(EntityParseError, match="starting at byte offset 2"):
        parse_markdown("a *b")


def test_finalize_trims_like_telegram() -> None:
    text, entities = finalize("\n  😀 hoi \n", [Entity("bold", 3, 6), Entity("italic", 9, 1)])
    assert text == "😀 hoi"
    assert spans(entities) == [("bold", 0, 6)]


def test_bot_commands_are_detected() -> None:
    text = "/start abc /help@buurt_bot en a/b of /X_1"
    found = [entity_text(text, e) for e in find_bot_commands(text)]
    assert found == ["/start", "/help@buurt_bot", "/X_1"]


_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=20
)


@given(before=_text, inside=_text.filter(bool))
def test_html_offsets_are_utf16_for_any_text(before: str, inside: str) -> None:
    text, entities = parse_html(f"{html.escape(before)}<b>{html.escape(inside)}</b>")
    assert text == before + inside
    assert spans(entities) == [("bold", utf16_len(before), utf16_len(inside))]
    assert entity_text(text, entities[0]) == inside
