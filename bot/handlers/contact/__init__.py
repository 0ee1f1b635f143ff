"""The contact point in the chat (issue #15): ask the fixed contact persons a question, follow
its thread, and, for organisers, take themes and networks and answer.

- ``ask.py``: /contact (who the contact persons are) and "❓ Vraag stellen" (the
  ``CONTACT_QUESTION`` dialog);
- ``thread.py``: my questions (also in /mijn), a question's thread, the member's reply and
  "✅ Opgelost", the contact person's answer (dialogs ``CONTACT_REPLY``, ``CONTACT_ANSWER``);
- ``organisers.py``: /contactpersonen and /vragenlijst;
- ``notices.py``: the notices the outbox sends (new question, answer, reply, reminder,
  escalation);
- ``common.py``: how a question and its thread look.

The rules (who a question goes to, who may read or answer it) are in ``models/questions``.
Buttons have the prefix Q.
"""

from bot.handlers.contact import notices  # noqa: F401  (registers the notices' renderers)
from bot.handlers.contact.ask import contact
from bot.handlers.contact.organisers import contact_persons_command, open_questions_command
from bot.handlers.contact.thread import my_questions_lines

__all__ = ["contact", "contact_persons_command", "my_questions_lines", "open_questions_command"]
