"""Shared text: the gettext catalogs and what reads them, for the bot, the web pages and feeds.

- ``translate``: ``translator(language)`` gives a ``Translator`` (``t("Dutch msgid {x}", x=…)``,
  plurals, numbers, and the two date formats with the one year rule); ``N_`` marks a msgid
  for extraction without translating it yet.
- ``labels``: the names of event kinds and affiliations, as msgids.
- ``plain``: the same for code that renders per request language (``_(lang, msgid)``): the agenda
  page and the calendar feeds.
- ``locale/``: the catalogs (Dutch message ids; ``en`` translates, ``nl`` polishes), managed
  with Babel (``make catalogs``).

Below the bot, the web and the scheduler, above ``models/`` (which only marks its refusals'
msgids with ``models.errors.N_``).
"""
