"""Working days on the service's clock: Monday to Friday in the service's time zone.

A question is "open for N working days" when N × 24 hours of Monday–Friday time have passed
since it began to wait: asked on Friday at 15:00, two working days are over on Tuesday at 15:00;
asked on Saturday, the count starts on Monday at 00:00 and ends on Wednesday at 00:00. Public
holidays are not known here (they count as working days).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SATURDAY = 5


def _is_working_day(local: datetime) -> bool:
    return local.weekday() < SATURDAY


def after_working_days(start: datetime, days: int, tz: ZoneInfo) -> datetime:
    """The moment ``days`` working days after ``start`` (aware; the result is UTC)."""
    local = start.astimezone(tz).replace(tzinfo=None)  # the wall clock: days are local days
    left = timedelta(days=days)
    while True:
        next_midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time())
        if _is_working_day(local):
            piece = next_midnight - local
            if piece >= left:
                local += left
                break
            left -= piece
        local = next_midnight
    return local.replace(tzinfo=tz).astimezone(UTC)
