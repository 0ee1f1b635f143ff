"""Themes: what a meeting is about and what a member wants to hear about.

- ``entities.py``: ``Theme`` (a slug that never changes, a Dutch name, an English one, a place in
  the list, retired or not) and the member↔theme and event↔theme associations;
- ``operations.py``: the list (organisers add, rename and retire, audited), a member's and an
  event's themes;
- ``seed.py``: the start list, loaded with the reference data.
"""
