"""When attendance can be taken: from ``CHECK_IN_OPENS`` before the start until the end.

A module of its own (no imports from the rest of the domain) because both the registrations
(``record_attendance``, ``check_in_self``) and the check-in code here decide on it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from models.events.entities import Event

# Attendance can be taken from a little before the start.
CHECK_IN_OPENS = timedelta(hours=1)


def check_in_opens_at(event: Event) -> datetime:
    return event.starts_at - CHECK_IN_OPENS


def check_in_open(event: Event, now: datetime) -> bool:
    """Members can check themselves in (and the code for the venue is shown)."""
    return check_in_opens_at(event) <= now < event.ends_at
