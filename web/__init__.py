"""HTTP (Starlette): the calendar feeds, the public agenda page, posters, the static export.

- ``app``: the Starlette application and its routes; ``headers``: security headers and the
  Content-Security-Policy of every page; ``favicon``;
- ``feeds/``: the feed routes (``routes``) and the render cache (``cache``); what a feed says is
  rendered in ``calendars/ical.py``;
- ``agenda/``: the public agenda page and the poster page;
- ``export``: the same feeds and pages as files, for any static web host.

Reads the domain through ``models`` queries; never imports the bot or the scheduler.
"""
