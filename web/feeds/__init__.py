"""Calendar feeds: rendering (``ical.py``), caching (``cache.py``), HTTP (``routes.py``).

For the bot ("Zet in je agenda", "Nieuwe agenda-link"):
- ``models.feeds.operations.feed_token_for`` / ``rotate_feed_token`` / ``feed_token_of``: the
  member's secret feed token (the plain token only right after making it);
- ``calendars.links.personal_feed_url`` and ``feed_links``: its https, webcal and Google links;
- ``calendars.ical.event_ics``: one event as ``.ics`` bytes to send as a document.
"""
