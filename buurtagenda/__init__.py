"""The composition root: configuration, the service that wires everything together, the CLI.

- ``config``: the configuration, checked as a whole at start (``config.example.toml``);
- ``service``: builds the database, the bot, the scheduler and the HTTP server from the
  configuration, starts them in one event loop and stops them cleanly (``buurtagenda run``);
- ``cli``: the ``buurtagenda`` command (run, db, seed, import, export, check-config);
- ``redaction``: secrets out of every log line.

Nothing imports this package except the console script and the tests: it sits on top of
``bot/``, ``web/``, ``scheduler/`` and ``emulator/``, which in turn sit on ``calendars/``,
``i18n/``, ``when/`` and ``models/`` (import contracts in ``pyproject.toml``).
"""
