"""Who comes, who came: attendee lists, check-in at the venue, and participation per network.

- ``queries.py``: the attendee list of one event (and its CSV), the participation report per
  buurtnetwerk over a period (and its CSV); organisers only.
- ``operations.py``: the check-in code shown at the venue, checking in (by the organiser or by the
  attendee with that code), and closing the attendance after the event (no-shows).
"""
