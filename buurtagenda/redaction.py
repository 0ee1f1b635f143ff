"""Secrets never reach a log: anyone who reads a bot token in a log can take over the bot.

The secrets the process holds are registered here once (``Config.secrets()`` names the ones in
the configuration; ``hide_secrets`` registers them) and every log handler that
``install_redaction`` was given redacts them from what it writes: the message with its
arguments, the traceback and the stack. Text that leaves the process another way (an exception
message stored in the database, a line printed by the CLI) goes through ``redact``.

Redaction is the second line of defence: the first is not to write secrets at all (httpx logs
every request URL at INFO, and the Bot API puts the token in the URL, so ``quiet_chatty_loggers``
keeps httpx at WARNING).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from buurtagenda.config import Config

REDACTED = "[redacted]"
# Shorter values are not redacted: replacing every "abc" in every log line would make the logs
# unreadable, and a secret that short protects nothing anyway.
MIN_SECRET_LENGTH = 4
# Loggers that say at INFO what they do with every request or job run: httpx and httpcore the
# request URL (with the bot token in it), APScheduler each run of each job and every change to
# its job store (a dispatcher wake-up after each commit). Their warnings and errors still show.
CHATTY_LOGGERS = ("httpx", "httpcore", "apscheduler")


class Secrets:
    """The secrets of this process, and the one pattern that finds any of them."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def register(self, secret: str) -> None:
        """Hide ``secret`` from now on, also in its URL-encoded forms (a token or a password
        in a URL)."""
        forms = {secret, quote(secret, safe=""), quote(secret)}
        forms = {form for form in forms if len(form) >= MIN_SECRET_LENGTH} - self._values
        if not forms:
            return
        with self._lock:
            self._values |= forms
            # Longest first, so a token is hidden whole rather than around a shorter part of it.
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(value) for value in ordered))

    def redact(self, text: str) -> str:
        pattern = self._pattern
        return text if pattern is None else pattern.sub(REDACTED, text)

    def clear(self) -> None:
        """Forget every secret (tests)."""
        with self._lock:
            self._values.clear()
            self._pattern = None


SECRETS = Secrets()


def redact(text: str) -> str:
    """``text`` without any registered secret."""
    return SECRETS.redact(text)


def hide_secrets(config: Config) -> None:
    """Register every secret of ``config``."""
    for secret in config.secrets():
        SECRETS.register(secret)


class RedactingFilter(logging.Filter):
    """On a handler: rewrites each record it passes without the registered secrets.

    The record is rewritten in place (message formatted with its arguments, traceback and stack
    formatted), so every handler after this one writes the redacted text too.
    """

    _formatter = logging.Formatter()

    def __init__(self, secrets: Secrets = SECRETS) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # wrong arguments: logging would print msg and args raw to stderr
            message = f"{record.msg} (with unusable arguments {record.args!r})"
        record.msg, record.args = self.secrets.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.secrets.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.secrets.redact(record.stack_info)
        return True


def install_redaction(handlers: Iterable[logging.Handler] | None = None) -> None:
    """Redact on ``handlers`` (default: the root logger's), once each; and keep the chatty
    loggers at WARNING."""
    for handler in logging.getLogger().handlers if handlers is None else handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    quiet_chatty_loggers()


def quiet_chatty_loggers() -> None:
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:  # a level set on purpose (debugging) stays
            logger.setLevel(logging.WARNING)


__all__ = [
    "REDACTED",
    "SECRETS",
    "RedactingFilter",
    "Secrets",
    "hide_secrets",
    "install_redaction",
    "quiet_chatty_loggers",
    "redact",
]
