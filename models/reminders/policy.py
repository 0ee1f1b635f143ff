"""When reminders go out: the offsets, each member's choice, and quiet hours.

Day offsets ("7d", "1d") keep the local clock time (an event at 19:30 is reminded at 19:30 a week
before, also across a daylight-saving change); hour offsets ("2h") are exact durations. A
reminder that falls in the quiet hours (default 21:30–08:00 Europe/Amsterdam) moves to their end,
unless that is after the event starts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Attendees are asked how it was this long after the end.
FEEDBACK_DELAY = timedelta(hours=1)


class ReminderPreference(enum.StrEnum):
    DEFAULT = "default"  # the configured offsets (7 days and 1 day before)
    DAY_BEFORE = "day_before"  # only the day before
    ALSO_2H = "also_2h"  # the configured offsets, and 2 hours before
    NONE = "none"


@dataclass(frozen=True)
class Offset:
    amount: int
    unit: str  # "d" (calendar days, local clock time kept) or "h"/"m" (exact)

    @property
    def label(self) -> str:
        return f"{self.amount}{self.unit}"

    def before(self, start: datetime, tz: ZoneInfo) -> datetime:
        if self.unit == "d":
            local = start.astimezone(tz)
            wall = local.replace(tzinfo=None) - timedelta(days=self.amount)
            return wall.replace(tzinfo=tz).astimezone(UTC)
        delta = timedelta(hours=self.amount) if self.unit == "h" else timedelta(minutes=self.amount)
        # In UTC: Python subtracts from an aware local time on the wall clock, which is off by
        # an hour across a daylight-saving change.
        return start.astimezone(UTC) - delta

    @classmethod
    def parse(cls, text: str) -> Offset:
        text = text.strip()
        if len(text) < 2 or text[-1] not in "dhm" or not text[:-1].isdigit():
            raise ValueError(f"{text!r} is not an offset like '7d', '2h' or '30m'")
        return cls(int(text[:-1]), text[-1])


@dataclass(frozen=True)
class ReminderPolicy:
    offsets: tuple[Offset, ...] = (Offset(7, "d"), Offset(1, "d"))
    quiet_start: time = time(21, 30)
    quiet_end: time = time(8, 0)
    tz: ZoneInfo = field(default=AMSTERDAM)

    def offsets_for(self, preference: ReminderPreference) -> tuple[Offset, ...]:
        if preference is ReminderPreference.NONE:
            return ()
        if preference is ReminderPreference.DAY_BEFORE:
            return (Offset(1, "d"),)
        if preference is ReminderPreference.ALSO_2H:
            return tuple(dict.fromkeys((*self.offsets, Offset(2, "h"))))
        return self.offsets

    def in_quiet_hours(self, moment: datetime) -> bool:
        clock = moment.astimezone(self.tz).time()
        if self.quiet_start > self.quiet_end:  # spans midnight, the usual case
            return clock >= self.quiet_start or clock < self.quiet_end
        return self.quiet_start <= clock < self.quiet_end

    def end_of_quiet_hours(self, moment: datetime) -> datetime:
        local = moment.astimezone(self.tz)
        day = local.date()
        if self.quiet_start > self.quiet_end and local.time() >= self.quiet_start:
            day += timedelta(days=1)
        end = datetime.combine(day, self.quiet_end).replace(tzinfo=self.tz)
        return end.astimezone(UTC)

    def due_times(
        self, start: datetime, preference: ReminderPreference, now: datetime
    ) -> dict[str, datetime]:
        """Offset label -> when that reminder goes out; reminders already past are left out."""
        due: dict[str, datetime] = {}
        for offset in self.offsets_for(preference):
            moment = offset.before(start, self.tz)
            if self.in_quiet_hours(moment):
                moved = self.end_of_quiet_hours(moment)
                if moved < start:
                    moment = moved
            if now < moment < start:
                due[offset.label] = moment
        return due
