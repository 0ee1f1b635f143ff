"""The tunable parts of the registration rules, and the offer deadline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from models.reminders.policy import ReminderPolicy


@dataclass(frozen=True)
class RegistrationPolicy:
    # The member counts as one: 2 means "me and one fellow board member".
    max_party_size: int = 2
    # How long a freed seat is held for the first on the waitlist...
    offer_window: timedelta = timedelta(hours=24)
    # ...unless the event is this close: then the seat goes to whoever claims it first.
    last_call: timedelta = timedelta(hours=3)
    # When reminders go out; kept here so every operation that changes a registration can keep
    # its reminders in step within the same transaction.
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)

    def offer_deadline(self, now: datetime, starts_at: datetime) -> datetime:
        """The offer window, but never more than half the time left before the event."""
        return now + min(self.offer_window, (starts_at - now) / 2)

    def is_last_call(self, now: datetime, starts_at: datetime) -> bool:
        return starts_at - now <= self.last_call
