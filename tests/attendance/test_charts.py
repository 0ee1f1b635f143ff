"""The pictures: valid PNGs, readable on a phone, the same bytes for the same data."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.charts import WIDTH, bar_chart_png, code_card_png
from bot.handlers.attendance import participation_chart, participation_table
from i18n.translate import Translator
from models.attendance.queries import Figures, ParticipationReport, ParticipationRow
from models.events.entities import EventKind
from models.members.entities import Affiliation
from models.networks.entities import NetworkKind

PNG = b"\x89PNG\r\n\x1a\n"
ROWS = [("Wyck", [4, 3]), ("Jekerdal/Sint Pieter/Villapark", [12, 10]), ("Céramique", [1, 0])]


def opened(data: bytes) -> Image.Image:
    assert data.startswith(PNG)
    image = Image.open(io.BytesIO(data))
    image.verify()  # a complete, uncorrupted PNG
    return Image.open(io.BytesIO(data))


def chart(**changes: object) -> bytes:
    arguments: dict[str, object] = {
        "title": "Deelname per buurtnetwerk",
        "subtitle": "1 jan 2027 – 31 dec 2027 · in personen",
        "series": ["aangemeld", "aanwezig"],
        "rows": ROWS,
        "footer": "Nog niet meegedaan: Amby, Belfort-Daalhof, Binnenstad",
    }
    arguments.update(changes)
    return bar_chart_png(**arguments)  # type: ignore[arg-type]


def test_bar_chart_is_a_phone_sized_png():
    image = opened(chart())
    assert image.format == "PNG" and image.mode == "RGB"
    assert image.width == WIDTH <= 1000
    assert 400 < image.height < 2000


def test_same_data_same_bytes_other_data_other_bytes():
    assert chart() == chart()
    assert chart() != chart(rows=[("Wyck", [4, 2]), *ROWS[1:]])
    assert chart() != chart(series=["registered", "attended"])


def test_more_rows_make_a_taller_chart_and_an_empty_one_says_so():
    many = [(f"Netwerk {i}", [i, i // 2]) for i in range(28)]
    tall, short = opened(chart(rows=many)), opened(chart())
    assert tall.width == short.width == WIDTH and tall.height > short.height
    empty = opened(chart(rows=[], empty="In deze periode heeft niemand zich aangemeld."))
    assert empty.width == WIDTH


def test_a_long_label_or_footer_stays_inside_the_picture():
    image = opened(chart(rows=[("x" * 300, [1, 1])], footer="naam, " * 200))
    assert image.width == WIDTH


def test_rows_need_a_value_per_series():
    with pytest.raises(ValueError):
        chart(rows=[("Wyck", [1])])


def test_code_card():
    data = code_card_png("K7P2", "Stuur /ikbenerbij aan de bot en typ deze code.")
    image = opened(data)
    assert image.width == WIDTH and image.height < image.width
    assert data == code_card_png("K7P2", "Stuur /ikbenerbij aan de bot en typ deze code.")


def report() -> ParticipationReport:
    amsterdam = ZoneInfo("Europe/Amsterdam")
    mc, dia = EventKind.MASTERCLASS, EventKind.DIALOOG
    return ParticipationReport(
        since=datetime(2027, 1, 1, tzinfo=amsterdam),
        until=datetime(2028, 1, 1, tzinfo=amsterdam),
        events={mc: 2, dia: 1},
        networks=[
            ParticipationRow(1, "Amby", NetworkKind.NETWORK, None, {mc: Figures(1, 1)}),
            ParticipationRow(2, "Mariaberg", NetworkKind.INITIATIVE, None, {}),
            ParticipationRow(
                3, "Wyck", NetworkKind.NETWORK, None, {mc: Figures(3, 2), dia: Figures(1, 1)}
            ),
        ],
        others=[ParticipationRow(None, None, None, Affiliation.RAADSLID, {dia: Figures(2, 2)})],
        networks_without_participation=["Mariaberg"],
    )


def test_participation_table_fits_a_phone():
    table = participation_table(Translator("nl"), report())
    lines = table.split("\n")
    assert max(len(line) for line in lines) <= 34
    assert [line.split() for line in lines if line[:1].isalpha()] == [
        ["Wyck", "4", "3"],
        ["Raadslid", "2", "2"],
        ["Amby", "1", "1"],
        ["Totaal", "7", "6"],
    ]
    assert "· Masterclass" in table and "· Dialoog" in table
    assert "Mariaberg" not in table


def test_participation_chart_in_english():
    data = participation_chart(Translator("en"), report())
    assert opened(data).width == WIDTH
    assert data == participation_chart(Translator("en"), report())
    assert data != participation_chart(Translator("nl"), report())  # "Jan" / "jan", at least
