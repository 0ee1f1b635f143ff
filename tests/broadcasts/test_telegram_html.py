"""Telegram's HTML rules, in the bot (``bot/telegram_html.py``): what Telegram would refuse is
refused, what it accepts is accepted with its length, and the HTML python-telegram-bot gives for a
formatted message becomes the tags we send."""

from __future__ import annotations

import pytest

from bot.telegram_html import BrokenMarkup, UnsupportedMarkup, check_html, clean_html


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>vet", BrokenMarkup),
        ("<b>vet</i>", BrokenMarkup),
        ("1 < 2", BrokenMarkup),
        ("<script>x</script>", UnsupportedMarkup),
        ('<a href="javascript:alert(1)">x</a>', UnsupportedMarkup),
        ('<b class="x">x</b>', UnsupportedMarkup),
        ("regel<br/>regel", UnsupportedMarkup),
        ("<code><b>x</b></code>", BrokenMarkup),
    ],
)
def test_what_telegram_would_refuse_is_refused(html: str, error: type[Exception]):
    with pytest.raises(error):
        check_html(html)


def test_what_telegram_accepts_is_accepted():
    text = (
        '<b>Vet</b> <i>schuin</i> <u>onder</u> <s>door</s> <a href="https://x.nl/?a=1&amp;b=2">'
        'link</a> <code>code</code> <pre><code class="language-python">x = 1</code></pre> '
        "<tg-spoiler>geheim</tg-spoiler> <blockquote>citaat</blockquote> "
        "<blockquote expandable>lang</blockquote> 1 &lt; 2 &amp; 3 > 2"
    )
    assert check_html(text) > 0
    assert check_html("x" * 4096) == 4096
    assert check_html("&lt;" * 4096) == 4096  # entities count as one character
    assert check_html("🌳") == 2  # as Telegram counts: UTF-16 code units


def test_telegram_formatting_becomes_our_html():
    ptb = (
        "Hallo <b>vet</b> <strong>sterk</strong> <em>schuin</em> <ins>o</ins> <del>d</del> "
        '<span class="tg-spoiler">geheim</span> <a href="https://x.nl/?a=1&b=2">link</a> '
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> '
        '<pre><code class="python">x</code></pre> <blockquote expandable>q</blockquote> '
        '<a href="javascript:alert(1)">niet</a> &amp; &lt;b&gt; <b>open'
    )
    assert clean_html(ptb) == (
        "Hallo <b>vet</b> <b>sterk</b> <i>schuin</i> <u>o</u> <s>d</s> "
        '<tg-spoiler>geheim</tg-spoiler> <a href="https://x.nl/?a=1&amp;b=2">link</a> '
        '👍 <pre><code class="language-python">x</code></pre> <blockquote expandable>q'
        "</blockquote> niet &amp; &lt;b&gt; <b>open</b>"
    )
    assert check_html(clean_html(ptb)) > 0
