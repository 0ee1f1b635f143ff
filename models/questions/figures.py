"""How quickly questions get a first answer, per theme: for the organisers' report.

For the questions asked in a period: per theme (and for those without one) how many were
answered and how many still wait for a first answer, and of the answered ones the time from
asking to the first answer: the median (the middle one; of an even number the mean of the two
middle ones) and the 90th percentile (nearest rank: the smallest time that at least 90 % of the
answered questions did not exceed). Wall-clock time, weekends included: what the member waited.
Questions of members who were forgotten count too, anonymously (only their moments are kept).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.organisers.authorisation import require_organiser
from models.questions.entities import Question
from models.themes.entities import Theme


def median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[timedelta], share: float) -> timedelta | None:
    """Nearest rank: the ⌈share × n⌉-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class ThemeTimes:
    theme: Theme | None  # None: questions without a theme (or the total)
    answered: int
    waiting: int  # asked in the period, no answer yet
    median: timedelta | None
    p90: timedelta | None

    @property
    def asked(self) -> int:
        return self.answered + self.waiting


@dataclass(frozen=True)
class ResponseTimes:
    since: datetime
    until: datetime  # exclusive
    themes: list[ThemeTimes]  # themes with questions, in the list's order; then without theme
    total: ThemeTimes


def _times(theme: Theme | None, rows: Sequence[tuple[datetime, datetime | None]]) -> ThemeTimes:
    waits = [answered - asked for asked, answered in rows if answered is not None]
    return ThemeTimes(
        theme, len(waits), len(rows) - len(waits), median(waits), percentile(waits, 0.9)
    )


async def response_times(
    session: AsyncSession, *, actor_id: int, since: datetime, until: datetime
) -> ResponseTimes:
    """Time to a first answer per theme for the questions asked in [since, until); organisers
    only."""
    await require_organiser(session, actor_id)
    rows = (
        await session.execute(
            select(Question.theme_id, Question.asked_at, Question.first_answered_at).where(
                Question.asked_at >= since, Question.asked_at < until
            )
        )
    ).all()
    by_theme: dict[int | None, list[tuple[datetime, datetime | None]]] = {}
    for theme_id, asked_at, first_answered_at in rows:
        by_theme.setdefault(theme_id, []).append((asked_at, first_answered_at))
    themes = (
        await session.scalars(
            select(Theme)
            .where(Theme.id.in_([t for t in by_theme if t is not None]))
            .order_by(Theme.position, Theme.id)
        )
    ).all()
    result = [_times(theme, by_theme[theme.id]) for theme in themes]
    if None in by_theme:
        result.append(_times(None, by_theme[None]))
    everything = [(asked, answered) for _, asked, answered in rows]
    return ResponseTimes(since, until, result, _times(None, everything))
