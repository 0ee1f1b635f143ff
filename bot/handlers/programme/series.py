"""``/reeks``: a year of quarterly masterclasses or half-yearly dialogues in one go, as drafts
with the topic still "nog te bepalen" (``models.events.series``). Changing one of them later
asks "alleen deze" or "alle komende" (``edit``)."""

from __future__ import annotations

from datetime import datetime

import when.parsing as when
from bot import dialogs
from bot.actions import code_of
from bot.context import Turn, escape
from bot.handlers.programme import admin_card
from bot.handlers.programme.fields import place_text
from bot.handlers.programme.steps import (
    SERIES,
    Answer,
    Next,
    Question,
    Rules,
    Screen,
    choice,
    command,
    heading,
    in_order,
    programme_flow,
    screen,
    summary,
)
from bot.render import KIND_ICONS, KIND_LABELS, short
from i18n.translate import N_
from models.dialogs.entities import DialogState
from models.errors import DomainError
from models.events.entities import Cadence, EventKind
from models.events.series import SeriesInvalid, create_series, series_dates, series_events

ORDER = ["series_kind", "series_year", "series_time", "series_place", "series_confirm"]
SERIES_KINDS = {
    "masterclass": (EventKind.MASTERCLASS, Cadence.QUARTERLY),
    "dialoog": (EventKind.DIALOOG, Cadence.HALF_YEARLY),
}
SERIES_DURATION_MINUTES = 120


def _ask_kind(turn: Turn, dialog: DialogState) -> Screen:
    t = turn.t
    rows = [
        [choice(turn, dialog, t("🎓 Masterclass per kwartaal"), "masterclass")],
        [choice(turn, dialog, t("🗣 Dialoog per halfjaar"), "dialoog")],
    ]
    return screen(turn, dialog, t("Welke reeks wil je plannen?"), rows)


async def _take_kind(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    if answer.choice not in SERIES_KINDS:
        raise DomainError(N_("Kies een van de knoppen."))
    return Next({"series_kind": answer.choice})


def _ask_year(turn: Turn, dialog: DialogState) -> Screen:
    year = turn.deps.clock().astimezone(turn.t.tz).year
    rows = [[choice(turn, dialog, str(year), year), choice(turn, dialog, str(year + 1), year + 1)]]
    return screen(turn, dialog, turn.t("Voor welk jaar?"), rows)


async def _take_year(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    this_year = turn.deps.clock().astimezone(turn.t.tz).year
    try:
        year = int(answer.choice if answer.choice is not None else answer.text)
    except ValueError:
        raise DomainError(N_("Kies een van de knoppen.")) from None
    if not this_year <= year <= this_year + 1:
        raise DomainError(N_("Kies een van de knoppen."))
    if not _coming_dates(turn, dialog.answer("series_kind"), year, "19:30"):
        raise SeriesInvalid(N_("Alle data van deze reeks in {year} zijn al voorbij."), year=year)
    return Next({"year": year})


def _ask_time(turn: Turn, dialog: DialogState) -> Screen:
    rows = [[choice(turn, dialog, "19:30", "19:30"), choice(turn, dialog, "20:00", "20:00")]]
    question = turn.t("Hoe laat beginnen ze? Kies hieronder of typ een tijd, bijvoorbeeld 19:00.")
    return screen(turn, dialog, question, rows)


async def _take_time(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    clock = when.parse_clock_time(answer.choice if answer.choice is not None else answer.text)
    return Next({"local_time": f"{clock.hour:02d}:{clock.minute:02d}"})


def _ask_place(turn: Turn, dialog: DialogState) -> Screen:
    rows = [[choice(turn, dialog, turn.t("Nog niet bekend"), "none")]]
    question = turn.t(
        "Waar zijn ze meestal? Typ de plek met adres; per bijeenkomst kun je het later nog "
        "wijzigen."
    )
    return screen(turn, dialog, question, rows)


async def _take_place(turn: Turn, dialog: DialogState, answer: Answer) -> Next:
    return Next({"location": None if answer.choice == "none" else place_text(answer.text)})


def _ask_confirm(turn: Turn, dialog: DialogState) -> Screen:
    t = turn.t
    kind, _cadence = SERIES_KINDS[dialog.answer("series_kind")]
    moments = _coming_dates(
        turn, dialog.answer("series_kind"), dialog.answer("year"), dialog.answer("local_time")
    )
    lines = [f"• {t.moment(moment)}" for moment in moments]
    lines += ["", f"{KIND_ICONS[kind]} {t(KIND_LABELS[kind])}"]
    if dialog.answer("location"):
        lines.append(f"📍 {escape(dialog.answer('location'))}")
    intro = t("Deze data maak ik aan, als concept (onderwerp nog te bepalen):")
    rows = [[choice(turn, dialog, t("✅ Aanmaken"), "create")]]
    return summary(turn, dialog, intro, "\n".join(lines), rows)


async def _take_confirm(turn: Turn, dialog: DialogState, answer: Answer) -> None:
    if answer.choice != "create":
        raise DomainError(N_("Kies een van de knoppen."))
    kind, cadence = SERIES_KINDS[dialog.answer("series_kind")]
    async with dialogs.finishing(turn, dialog) as session:
        series = await create_series(
            session,
            actor_id=turn.member.id,
            kind=kind,
            cadence=cadence,
            year=dialog.answer("year"),
            local_time=dialog.answer("local_time"),
            duration_minutes=SERIES_DURATION_MINUTES,
            location=dialog.answer("location"),
            capacity=None,
            title=None,
            now=turn.deps.clock(),
            tz=turn.t.tz,
        )
        events = await series_events(session, series.id)
        rows = [[turn.button(short(e.title), admin_card.on_open, e.public_code)] for e in events]
        lines = [
            turn.t(
                "✅ De reeks <b>{title}</b> staat klaar, als concept:", title=escape(series.title)
            ),
            "",
            *(f"• {turn.t.moment(e.starts_at)} · {escape(e.title)}" for e in events),
            "",
            turn.t("Kies een bijeenkomst om het onderwerp in te vullen en te publiceren."),
        ]
    programme = turn.button(turn.t("◀ Programma"), admin_card.show_programme, 0)
    await turn.show("\n".join(lines), [*rows, [programme]])


def _coming_dates(turn: Turn, series_kind: str, year: int, local_time: str) -> list[datetime]:
    _kind, cadence = SERIES_KINDS[series_kind]
    clock = when.parse_clock_time(local_time)
    now = turn.deps.clock()
    moments = []
    for day in series_dates(cadence, year):
        moment = datetime.combine(day, clock, tzinfo=turn.t.tz)
        if moment > now:
            moments.append(moment)
    return moments


SERIES_FLOW = programme_flow(
    SERIES,
    Rules(heading(N_("<b>Reeks plannen</b>")), in_order(ORDER)),
    {
        "series_kind": Question(_ask_kind, _take_kind),
        "series_year": Question(_ask_year, _take_year),
        "series_time": Question(_ask_time, _take_time),
        "series_place": Question(_ask_place, _take_place),
        "series_confirm": Question(_ask_confirm, _take_confirm),
    },
    ended=N_("Het plannen van de reeks is gestopt; er is niets opgeslagen."),
    actions=[code_of(admin_card.on_new_series)],
    commands=["reeks", "series"],
)
series_command = command(admin_card.on_new_series)
