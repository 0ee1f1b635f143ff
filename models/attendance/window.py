"""When attendance can be taken: from ``CHECK_IN_OPENS`` before the start until the end.

A module of its own (no imports from the rest of the domain) because both the registrations
(``record_attendance``, ``check_in_self``) and the check-in code here decide on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models.errors import N_, DomainError
from models.events.entities import Event, EventStatus


class NotYetOver(DomainError):
    message = N_("Afronden kan pas na afloop van de bijeenkomst.")


# Attendance can be taken from a little before the start.
CHECK_IN_OPENS = timedelta(hours=1)


def check_in_opens_at(event: Event) -> datetime:
    return event.starts_at - CHECK_IN_OPENS


def check_in_open(event: Event, now: datetime) -> bool:
    """Members can check themselves in (and the code for the venue is shown)."""
    return check_in_opens_at(event) <= now < event.ends_at


@dataclass(frozen=True)
class AttendanceWindow:
    """What can be done about attendance at ``now``: the one place the bot asks."""

    names: bool  # organisers check people in by name (from CHECK_IN_OPENS before; afterwards too)
    code: bool  # the venue code works (``check_in_open``)
    close: bool  # the event is over: "Afronden" records the no-shows


def attendance_window(event: Event, now: datetime) -> AttendanceWindow:
    published = event.status is EventStatus.PUBLISHED
    return AttendanceWindow(
        names=published and now >= check_in_opens_at(event),
        code=published and check_in_open(event, now),
        close=published and now >= event.ends_at,
    )


def require_over(event: Event, now: datetime) -> None:
    """Closing the attendance (and asking to) only after the event."""
    if now < event.ends_at:
        raise NotYetOver()
