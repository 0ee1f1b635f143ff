"""/deelname: registrations and attendance per network and kind of event over a period, as a
table, a CSV and a bar chart (organisers)."""

from __future__ import annotations

from datetime import timedelta

from babel.dates import format_date
from telegram import Update
from telegram.ext import ContextTypes

from bot.actions import action
from bot.callbacks import InvalidCallback
from bot.charts import bar_chart_png
from bot.context import Turn, begin_turn, escape
from bot.handlers.contact.figures import response_time_lines
from bot.handlers.for_organisers import organisers_only
from bot.render import KIND_ICONS
from i18n.translate import N_, Translator
from models.attendance.queries import (
    ParticipationReport,
    ParticipationRow,
    participation,
    participation_csv,
    period_bounds,
)
from models.events.entities import EventKind
from models.organisers.authorisation import require_organiser

PERIODS = {
    "year": N_("Dit jaar"),
    "last_year": N_("Vorig jaar"),
    "12m": N_("Laatste 12 maanden"),
}
TABLE_NAME_WIDTH = 18
TABLE_NUMBER_WIDTH = 8


@organisers_only("deelname")
async def participation_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await ask_period(await begin_turn(update, context))


@action("CQ")
async def ask_period(turn: Turn) -> None:
    t = turn.t
    async with turn.deps.database.read() as session:
        await require_organiser(session, turn.member.id)
    await turn.toast()
    await turn.show(
        t("📊 <b>Deelname per buurtnetwerk</b>\nOver welke periode?"),
        [[turn.button(t(label), show_participation, key)] for key, label in PERIODS.items()],
    )


async def _report(turn: Turn, period: str) -> ParticipationReport:
    if period not in PERIODS:
        raise InvalidCallback(f"unknown period {period!r}")
    since, until = period_bounds(period, turn.deps.clock(), turn.t.tz)
    async with turn.deps.database.read() as session:
        return await participation(session, actor_id=turn.member.id, since=since, until=until)


def _period_label(t: Translator, report: ParticipationReport) -> str:
    first = report.since.astimezone(t.tz).date()
    last = (report.until - timedelta(microseconds=1)).astimezone(t.tz).date()
    return "{} – {}".format(
        format_date(first, "d MMM y", locale=t.language),
        format_date(last, "d MMM y", locale=t.language),
    )


@action("CP")
async def show_participation(turn: Turn, period: str) -> None:
    t = turn.t
    report = await _report(turn, period)
    lines = [
        t("📊 <b>Deelname per buurtnetwerk</b>"),
        f"{t(PERIODS[period])}: {_period_label(t, report)}",
        "",
    ]
    if report.kinds:
        lines.append(
            t.plural(
                "{n} bijeenkomst: {kinds}",
                "{n} bijeenkomsten: {kinds}",
                sum(report.events.values()),
                kinds=" · ".join(
                    f"{KIND_ICONS[kind]} {t.number(report.events[kind])}" for kind in report.kinds
                ),
            )
        )
    if report.total.registrations:
        lines += [
            f"<pre>{escape(participation_table(t, report))}</pre>",
            t("In personen. Aangemeld: met een plek (niet afgemeld, niet op de wachtlijst)."),
        ]
    else:
        lines.append(t("In deze periode heeft niemand zich aangemeld."))
    if report.networks_without_participation:
        lines += [
            "",
            t(
                "<b>Nog niet meegedaan:</b> {names}",
                names=escape(", ".join(report.networks_without_participation)),
            ),
        ]
    # Next to participation: how quickly questions to the contact persons got an answer.
    lines += await response_time_lines(turn, report.since, report.until)
    await turn.toast()
    await turn.show(
        "\n".join(lines),
        [
            [
                turn.button(t("📄 CSV"), send_participation_csv, period),
                turn.button(t("📊 Grafiek"), send_participation_chart, period),
            ],
            [turn.button(t("◀ Andere periode"), ask_period)],
        ],
    )


def participation_table(t: Translator, report: ParticipationReport) -> str:
    """Narrow enough for a phone: per network a line with its totals, then a line per kind."""
    kinds = report.kinds
    header = _table_line("", t("aangem."), t("aanw."))
    lines = [header, "-" * len(header)]

    def block(name: str, row: ParticipationRow | None) -> None:
        total = row.total if row else report.total
        lines.append(_table_line(name, total.registrations, total.attended))
        if len(kinds) < 2:
            return
        for kind in kinds:
            figures = row.figures(kind) if row else report.total_for(kind)
            if figures.registrations:
                lines.append(
                    _table_line(
                        " · " + t(KIND_SHORT[kind]), figures.registrations, figures.attended
                    )
                )

    taking_part = [row for row in report.rows if row.total.registrations]
    taking_part.sort(key=lambda row: -row.total.registrations)  # stable: by name within
    for row in taking_part:
        block(row.label(t), row)
    lines.append("-" * len(header))
    block(t("Totaal"), None)
    return "\n".join(lines)


KIND_SHORT = {
    EventKind.MASTERCLASS: N_("Masterclass"),
    EventKind.DIALOOG: N_("Dialoog"),
    EventKind.UITWISSELING: N_("Uitwisseling"),
    EventKind.WORKSHOP: N_("Workshop"),
}


def _table_line(name: str, registrations: int | str, attended: int | str) -> str:
    if len(name) > TABLE_NAME_WIDTH:
        name = name[: TABLE_NAME_WIDTH - 1] + "…"
    return (
        f"{name:<{TABLE_NAME_WIDTH}}"
        f"{registrations!s:>{TABLE_NUMBER_WIDTH}}{attended!s:>{TABLE_NUMBER_WIDTH}}"
    )


@action("CR")
async def send_participation_csv(turn: Turn, period: str) -> None:
    report = await _report(turn, period)
    await turn.toast()
    first = report.since.astimezone(turn.t.tz).date().isoformat()
    last = (report.until - timedelta(microseconds=1)).astimezone(turn.t.tz).date().isoformat()
    await turn.context.bot.send_document(
        turn.chat_id,
        document=participation_csv(report, translate=turn.t),
        filename=f"deelname-{first}-{last}.csv",
        caption=turn.t("Deelname per buurtnetwerk") + ", " + _period_label(turn.t, report),
    )


def participation_chart(t: Translator, report: ParticipationReport) -> bytes:
    rows = sorted(
        (row for row in report.networks if row.total.registrations),
        key=lambda row: -row.total.registrations,
    )
    footer = ""
    if report.networks_without_participation:
        footer = t(
            "Nog niet meegedaan: {names}", names=", ".join(report.networks_without_participation)
        )
    return bar_chart_png(
        title=t("Deelname per buurtnetwerk"),
        subtitle=_period_label(t, report) + " · " + t("in personen"),
        series=[t("aangemeld"), t("aanwezig")],
        rows=[(row.label(t), [row.total.registrations, row.total.attended]) for row in rows],
        footer=footer,
        empty=t("In deze periode heeft niemand zich aangemeld."),
    )


@action("CG")
async def send_participation_chart(turn: Turn, period: str) -> None:
    report = await _report(turn, period)
    await turn.toast()
    await turn.context.bot.send_photo(
        turn.chat_id,
        photo=participation_chart(turn.t, report),
        caption=turn.t("Deelname per buurtnetwerk") + ", " + _period_label(turn.t, report),
    )
