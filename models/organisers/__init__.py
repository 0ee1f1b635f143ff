"""Organisers: who may run the programme, and the record of what they did.

- ``authorisation.py``: ``require_organiser``, the check every organiser operation in ``models/``
  starts with (the role as stored, never the menu someone happens to have).
- ``operations.py``: admins invite organisers (a one-time link) and revoke them.
- ``audit.py``: the audit log (who, what, when, before → after), written in the same transaction
  as the change it records.
"""
