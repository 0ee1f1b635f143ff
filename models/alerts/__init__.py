"""New plans reaching people at once: who an event fits, and the alert in the outbox.

- ``policy.py``: a member's choice (at once, in the weekly digest, not at all) and the windows;
- ``entities.py``: the kinds of meeting a member follows;
- ``operations.py``: the fit rule, the alert rows (several publications within ten minutes are
  one message) and the member's preferences.
"""
