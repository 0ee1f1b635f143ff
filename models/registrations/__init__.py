"""Registrations: who has a seat, who waits, and everything that changes either.

Decides capacity (never exceeded, party sizes counted), the waitlist's order, offers of freed
seats and their deadlines, the last call, fair share per network, organisers' overrides and
attendance. Every change of a registration is kept in its history.

- ``operations.py``: what a member does (register, cancel, claim or decline a seat, bring
  someone, check in) and what the service does on its own (offers lapsing, fair share released);
  the place to read the rules. Its names are the package's public API.
- ``organiser.py``: organisers' overrides (a seat out of turn, a removal) and attendance.
- ``changes.py``: how a decided change is carried out, the same for every operation: status and
  history row, reminders, the member's notice, freed seats offered on (``fill_free_seats``).
- ``seats.py``: what is taken, who waits in which order, what fair share allows (reading only).
- ``locks.py``: reading under the event's lock, where every decision starts.
- ``policy.py``: the knobs (offer time, last call, party size, reminders).
"""
