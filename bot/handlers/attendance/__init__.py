"""Who comes and who came: attendee lists, check-in at the venue, participation per network.

- ``attendees.py``: organisers, ``/deelnemers`` (or "👥 Deelnemers" on an event card): the list
  of an event grouped by network, a CSV, a check-in page (tap names), the code to show at the
  venue, and "Afronden" after the event (no-shows).
- ``checkin.py``: attendees, ``/ikbenerbij`` and then the code shown at the venue (the
  ``CHECK_IN`` dialog).
- ``participation.py``: organisers, ``/deelname``: registrations and attendance per network and
  kind of event over a period, as a table, a CSV and a bar chart.

Every organiser function is authorised in ``models/`` (a member who forges a button gets the
domain's refusal), and when check-in is open is decided there too
(``models.attendance.window.attendance_window``); these modules parse, call the domain and
render. Buttons have the prefix C.
"""

from bot.handlers.attendance.attendees import attendees_command
from bot.handlers.attendance.checkin import check_in_command
from bot.handlers.attendance.participation import (
    participation_chart,
    participation_command,
    participation_table,
)

__all__ = [
    "attendees_command",
    "check_in_command",
    "participation_chart",
    "participation_command",
    "participation_table",
]
