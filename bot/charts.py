"""Pictures the bot sends: a bar chart that reads well on a phone, and the check-in code in large
letters for the venue. Pure functions of their input (no database, no Telegram): the same data
always gives the same PNG bytes. Texts arrive translated; this module only draws.

Fonts: DejaVu Sans (Debian's fonts-dejavu-core) or Liberation Sans, found wherever the system
keeps its fonts; without either, Pillow's built-in font, which lacks accents: texts are then drawn
without them ("Ceramique") rather than with empty boxes.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from functools import cache

from PIL import Image, ImageDraw, ImageFont

WIDTH = 900  # pixels: sharp on a phone, under Telegram's and our 1,000 limit
MARGIN = 36
BACKGROUND = "#ffffff"
INK = "#1d1d1f"
MUTED = "#5f6368"
GRID = "#e6e6e6"
# Okabe–Ito blue and orange: distinguishable with every common kind of colour blindness.
SERIES_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7")
TITLE_SIZE = 40
TEXT_SIZE = 30
SMALL_SIZE = 26
BAR_HEIGHT = 30
BAR_GAP = 6
ROW_GAP = 22

REGULAR_FONTS = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf")
BOLD_FONTS = ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf")

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def _font(size: int, *, bold: bool = False) -> Font:
    for name in BOLD_FONTS if bold else REGULAR_FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _has_accents(font: Font) -> bool:
    return isinstance(font, ImageFont.FreeTypeFont) and font.getname()[0] != "Aileron"


def _drawable(text: str, font: Font) -> str:
    """Text the font can draw: without accents for the built-in font."""
    if _has_accents(font):
        return text
    text = text.replace("–", "-").replace("—", "-").replace("…", "...").replace("·", "-")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def bar_chart_png(
    *,
    title: str,
    subtitle: str,
    series: Sequence[str],
    rows: Sequence[tuple[str, Sequence[int]]],
    footer: str = "",
    empty: str = "",
) -> bytes:
    """A horizontal bar chart: per row its label on a line of its own, then one bar per series
    (the value at its end); a legend under the title, an optional footer (wrapped)."""
    if any(len(values) != len(series) for _, values in rows):
        raise ValueError("every row needs one value per series")
    title_font, text_font = _font(TITLE_SIZE, bold=True), _font(TEXT_SIZE)
    small_font = _font(SMALL_SIZE)
    title, subtitle, footer, empty = (
        _drawable(text, text_font) for text in (title, subtitle, footer, empty)
    )
    series = [_drawable(name, text_font) for name in series]
    rows = [(_drawable(label, text_font), values) for label, values in rows]
    inner = WIDTH - 2 * MARGIN
    title_lines = _wrap(title, title_font, inner)
    subtitle_lines = _wrap(subtitle, small_font, inner) if subtitle else []
    footer_lines = _wrap(footer, small_font, inner) if footer else []
    row_height = _line(text_font) + len(series) * (BAR_HEIGHT + BAR_GAP) + ROW_GAP
    body_height = len(rows) * row_height if rows else 2 * _line(text_font)
    height = (
        MARGIN
        + len(title_lines) * _line(title_font)
        + len(subtitle_lines) * _line(small_font)
        + 16
        + _line(small_font)  # the legend
        + 24
        + body_height
        + (16 + len(footer_lines) * _line(small_font) if footer_lines else 0)
        + MARGIN
    )
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    y = MARGIN
    for line in title_lines:
        draw.text((MARGIN, y), line, font=title_font, fill=INK)
        y += _line(title_font)
    for line in subtitle_lines:
        draw.text((MARGIN, y), line, font=small_font, fill=MUTED)
        y += _line(small_font)
    y += 16
    x = MARGIN
    for index, name in enumerate(series):
        swatch = SMALL_SIZE - 4
        draw.rectangle((x, y + 4, x + swatch, y + 4 + swatch), fill=_colour(index))
        x += swatch + 10
        draw.text((x, y), name, font=small_font, fill=INK)
        x += int(small_font.getlength(name)) + 32
    y += _line(small_font) + 24
    if not rows:
        draw.text((MARGIN, y), empty, font=text_font, fill=MUTED)
        y += body_height
    largest = max((max(values, default=0) for _, values in rows), default=0)
    number_room = int(text_font.getlength(f" {largest:,}")) + 8
    scale = (inner - number_room) / largest if largest else 0.0
    for label, values in rows:
        draw.text((MARGIN, y), _fit(label, text_font, inner), font=text_font, fill=INK)
        y += _line(text_font)
        for index, value in enumerate(values):
            length = round(value * scale)
            draw.line((MARGIN, y, MARGIN, y + BAR_HEIGHT), fill=GRID, width=2)
            if length > 0:
                draw.rectangle((MARGIN, y, MARGIN + length, y + BAR_HEIGHT), fill=_colour(index))
            draw.text(
                (MARGIN + length + 8, y + (BAR_HEIGHT - TEXT_SIZE) // 2 - 2),
                str(value),
                font=text_font,
                fill=INK,
            )
            y += BAR_HEIGHT + BAR_GAP
        y += ROW_GAP
    if footer_lines:
        y += 16
        for line in footer_lines:
            draw.text((MARGIN, y), line, font=small_font, fill=MUTED)
            y += _line(small_font)
    return _png(image)


def code_card_png(code: str, caption: str) -> bytes:
    """The check-in code in letters you can read across a room, for a phone held up or a beamer."""
    code_font, caption_font = _font(220, bold=True), _font(TEXT_SIZE)
    code, caption = _drawable(code, code_font), _drawable(caption, caption_font)
    inner = WIDTH - 2 * MARGIN
    spaced = " ".join(code)
    size = 220
    while code_font.getlength(spaced) > inner and size > 60:
        size -= 20
        code_font = _font(size, bold=True)
    caption_lines = _wrap(caption, caption_font, inner)
    code_height = int(size * 1.3)
    height = MARGIN + code_height + 24 + len(caption_lines) * _line(caption_font)
    image = Image.new("RGB", (WIDTH, height + MARGIN), BACKGROUND)
    draw = ImageDraw.Draw(image)
    x = (WIDTH - code_font.getlength(spaced)) / 2
    draw.text((x, MARGIN), spaced, font=code_font, fill=INK)
    y = MARGIN + code_height + 24
    for line in caption_lines:
        draw.text(
            ((WIDTH - caption_font.getlength(line)) / 2, y), line, font=caption_font, fill=MUTED
        )
        y += _line(caption_font)
    return _png(image)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # No metadata, fixed compression: the same picture is always the same bytes.
    image.save(buffer, format="PNG", optimize=False, compress_level=9)
    return buffer.getvalue()


def _colour(index: int) -> str:
    return SERIES_COLOURS[index % len(SERIES_COLOURS)]


def _line(font: Font) -> int:
    size = font.size if isinstance(font, ImageFont.FreeTypeFont) else 11
    return int(size * 1.3)


def _wrap(text: str, font: Font, width: int) -> list[str]:
    """Lines of whole words no wider than ``width`` (a word wider than that gets cut)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if font.getlength(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = _fit(word, font, width)
        lines.append(line)
    return lines


def _fit(text: str, font: Font, width: int) -> str:
    """``text``, shortened with an ellipsis when it is wider than ``width``."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(f"{text}…") > width:
        text = text[:-1]
    return f"{text}…"
