"""How a member wants to hear of new plans, and how close together things count as one."""

from __future__ import annotations

import enum
from datetime import timedelta


class AlertPreference(enum.StrEnum):
    NOW = "now"  # a message as soon as a fitting event is published ("meteen")
    DIGEST = "digest"  # in the weekly digest instead ("in het weekoverzicht")
    OFF = "off"  # not at all ("niet")


# Events published within this long of the first one come as one message (the message is
# edited to list them all once it went out).
ALERT_WINDOW = timedelta(minutes=10)
# A change of moment or place waits this long for further changes, so registrants get one notice
# with the first "before" and the last "after"; closer to the start than
# ``CHANGE_AT_ONCE_BEFORE`` it goes at once.
CHANGE_WINDOW = timedelta(minutes=10)
CHANGE_AT_ONCE_BEFORE = timedelta(hours=24)
# The digest lists the fitting events published in the week before it.
DIGEST_NEW_SINCE = timedelta(days=7)
