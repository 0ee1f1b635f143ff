"""The programme: events, the series they belong to, and proposals for exchange sessions.

Decides what an event may be (a title, an end after the start, a start still to come, at least
one seat, a deadline before the start, fair share within the capacity, an online link that is
one, texts no longer than ``limits.py`` allows), who hears of a change, and that a cancelled
event stays as it was cancelled.

- ``operations.py``: create, publish, change, cancel (the checks: ``_validate``,
  ``check_changeable``, ``check_reason``); registrants and the waitlist hear of a new moment or
  place and of a cancellation.
- ``limits.py``: how long each text may be (the columns, the checks and the bot's questions).
- ``series.py``: a year of quarterly masterclasses or half-yearly dialogues; "this one or all".
- ``proposals.py``: a board member proposes an exchange session; an organiser approves or
  rejects it, once (``check_undecided``).
- ``queries.py``: the agenda, a card's overview, the organisers' programme list.
"""
