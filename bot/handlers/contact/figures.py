"""The response-time section of the organisers' participation report (/deelname): time to a
first answer per theme, median and 90th percentile (``models/questions/figures.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.context import Turn, escape
from bot.handlers.contact.common import theme_name
from i18n.translate import Translator
from models.questions.figures import ThemeTimes, response_times


def duration(t: Translator, value: timedelta) -> str:
    """Short and rounded: "25 min", "4 u", "2 d 3 u"."""
    minutes = round(value.total_seconds() / 60)
    if minutes < 60:
        return t("{n} min", n=minutes)
    hours = round(minutes / 60)
    if hours < 48:
        return t("{n} u", n=hours)
    return t("{days} d {hours} u", days=hours // 24, hours=hours % 24)


def _line(t: Translator, name: str, times: ThemeTimes) -> str:
    text = t.plural("{name}: {n} vraag", "{name}: {n} vragen", times.asked, name=name)
    if times.median is not None and times.p90 is not None:
        text += ", " + t(
            "mediaan {median}, p90 {p90}",
            median=duration(t, times.median),
            p90=duration(t, times.p90),
        )
    if times.waiting:
        text += ", " + t.plural("{n} nog zonder antwoord", "{n} nog zonder antwoord", times.waiting)
    return text


async def response_time_lines(turn: Turn, since: datetime, until: datetime) -> list[str]:
    """The section's lines, for the questions asked in the report's period."""
    t = turn.t
    async with turn.deps.database.read() as session:
        figures = await response_times(session, actor_id=turn.member.id, since=since, until=until)
    lines = ["", t("⏱ <b>Tijd tot een eerste antwoord</b> (vragen aan de contactpersonen)")]
    if not figures.total.asked:
        lines.append(t("In deze periode zijn er geen vragen gesteld."))
        return lines
    for times in figures.themes:
        lines.append("• " + escape(_line(t, theme_name(t, times.theme), times)))
    lines.append(escape(_line(t, t("Totaal"), figures.total)))
    return lines
