"""Organisers make and keep the programme in the chat; board members propose exchange sessions.

- ``/nieuw`` (``new_event``): a new event, step by step, a preview, then publish or keep as a
  draft.
- ``/programma`` (``admin_card``): the coming events, drafts and proposals, each with an admin
  card: change any field, move, cancel with a reason (``edit``), publish, approve or reject a
  proposal (``proposals``), the attendees.
- ``/reeks`` (``series``): a year of quarterly masterclasses or half-yearly dialogues in one go.
- ``/voorstel`` (``proposals``): a board member proposes an exchange session for their network.

Every decision is the domain's: ``models.events.operations`` (create, publish, update, cancel;
they authorise the organiser, write the audit log and the notices), ``models.events.proposals``
and ``models.events.series``. These modules parse what people type (``when.parsing``), ask
the next question, and show what was committed. Every flow that waits for typed answers is a
dialog of the engine (``bot/dialogs.py``, by way of ``steps``): kept in the database, ended by
any command or another feature's button, lapsed after 30 minutes of silence. The questions that
several flows ask are in ``fields``.
"""

from __future__ import annotations

# The flows register themselves with the dialog engine here; the admin card's buttons start
# them by name (the flows import the card they end on, the card does not import them).
from bot.handlers.programme import admin_card, edit
from bot.handlers.programme.admin_card import programme, show_admin_card, show_programme
from bot.handlers.programme.new_event import new_event_command
from bot.handlers.programme.proposals import propose_command
from bot.handlers.programme.series import series_command

__all__ = [
    "admin_card",
    "edit",
    "new_event_command",
    "programme",
    "propose_command",
    "series_command",
    "show_admin_card",
    "show_programme",
]
