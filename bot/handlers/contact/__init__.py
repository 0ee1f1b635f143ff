"""The contact point in the chat (issue #15): ask the fixed contact persons a question, follow
its thread, and, for organisers, take themes and networks and answer.

- ``ask.py``: /contact (who the contact persons are), "❓ Vraag stellen" (the
  ``CONTACT_QUESTION`` dialog) and my questions (also in /mijn);
- ``thread.py``: a question's thread, the member's reply and
  "✅ Opgelost", the contact person's answer (dialogs ``CONTACT_REPLY``, ``CONTACT_ANSWER``);
- ``notices.py``: the notices the outbox sends (new question, answer, reply, reminder,
  escalation), rendered by ``bot/notifications.py``;
- ``common.py``: how a question and its thread look.

The rules (who a question goes to, who may read or answer it) are in ``models/questions``.
Buttons have the prefix Q. /contactpersonen and /vragenlijst, for organisers, are in
``bot/handlers/contact_persons.py`` (beside ``for_organisers.py``, whose explanation of them
shows /contact: so this package needs nothing of it).
"""

from bot.handlers.contact.ask import contact, my_questions_lines

__all__ = ["contact", "my_questions_lines"]
