"""``/favicon.ico``: a small calendar page in the agenda page's blue, drawn once with Pillow.

Browsers ask for ``/favicon.ico`` whether a page links it or not; without one every visit logs a
404. Drawn in code (no binary in the repository); the same Pillow gives the same bytes, so the
ETag stays put between starts."""

from __future__ import annotations

import functools
import io

from PIL import Image, ImageDraw

from web.feeds.cache import EPOCH, Rendered

ICON = "image/vnd.microsoft.icon"
ACCENT = (11, 79, 138, 255)  # --accent of the agenda page, #0b4f8a
WHITE = (255, 255, 255, 255)
SIZES = (16, 32, 48)
SCALE = 4  # drawn large, then scaled down: smooth edges at 16 px too


def _draw(size: int) -> Image.Image:
    big = size * SCALE
    unit = big / 16
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=round(3 * unit), fill=ACCENT)
    # A white page with a grid of days, hanging from two rings.
    draw.rectangle((round(3 * unit), round(5 * unit), round(13 * unit), round(13 * unit)), WHITE)
    for row in range(2):
        for column in range(3):
            left = round((4.5 + 2.5 * column) * unit)
            top = round((7.5 + 2.5 * row) * unit)
            draw.rectangle((left, top, left + round(1.5 * unit), top + round(1.5 * unit)), ACCENT)
    for x in (5, 10):  # the rings
        draw.rectangle(
            (round(x * unit), round(2 * unit), round((x + 1) * unit), round(6 * unit)), WHITE
        )
    return image.resize((size, size), Image.Resampling.LANCZOS)


@functools.cache
def favicon() -> Rendered:
    buffer = io.BytesIO()
    largest = _draw(max(SIZES))
    largest.save(
        buffer, format="ICO", sizes=[(s, s) for s in SIZES], append_images=[_draw(s) for s in SIZES]
    )
    return Rendered.of(buffer.getvalue(), ICON, EPOCH)
