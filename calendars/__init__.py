"""Calendar rendering, shared by the bot and the web: where a feed is rendered.

- ``ical``: an iCalendar document from events (the public feeds, a network's feed, a member's own
  feed, one event's file): stable UIDs, SEQUENCE, VTIMEZONE, the same bytes for the same data.
- ``links``: where a start link (an event, an invitation) leads: Telegram's ``t.me`` deep link
  with a real bot, the sandbox page in the sandbox.

Below the bot and the web (which serve what is rendered here), above ``i18n`` and ``models``.
"""
