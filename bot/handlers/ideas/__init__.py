"""Ideas and dialogue questions.

- ``propose.py``: /idee, propose a masterclass topic or an exchange session (the ``IDEA``
  dialog), vote, see the ranking; organisers plan an idea into an event.
- ``questions.py``: /vraag, send in a question before a dialogue with raads- en burgerleden (the
  ``QUESTION`` dialog); organisers see them grouped and export them (``/vragen``:
  ``bot/handlers/organiser.py``).
- ``export.py``: the export for the council members (a Markdown document).
- ``common.py``: what both share ("✖ Stop" on a screen that is not a dialog step).

The typed steps are dialogs (``bot/dialogs.py``): where a member is in them is stored in the
database, so a restart or another instance continues where they were; another command or a
button of another feature ends them (with a word), and after 30 minutes of silence they lapse.
Buttons have the prefix I.
"""

from bot.handlers.ideas.propose import idee
from bot.handlers.ideas.questions import vraag

__all__ = ["idee", "vraag"]
