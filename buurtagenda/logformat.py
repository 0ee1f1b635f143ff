"""How log lines look: readable text (the default), or one JSON object per line for log
collectors (``logging.format = "json"``).

Both formats sit behind the same redaction (``buurtagenda.redaction``): its filter on the
handler rewrites a record's message, traceback and stack before any formatter sees them, and the
JSON formatter writes exactly those rewritten parts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

LogFormat = Literal["text", "json"]


class JsonFormatter(logging.Formatter):
    """``{"time": "2027-03-01T09:00:00.123Z", "level": "INFO", "logger": "...", "message": "...",
    "exception": "Traceback ..."}``, one per line (``exception`` and ``stack`` only when there
    are; newlines inside them are escaped, so a traceback stays on its line)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:  # the redaction filter has made it already
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def use_log_format(
    log_format: LogFormat, handlers: Iterable[logging.Handler] | None = None
) -> None:
    """Give ``handlers`` (default: the root logger's) the formatter for ``log_format``."""
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    for handler in logging.getLogger().handlers if handlers is None else handlers:
        handler.setFormatter(formatter)


__all__ = ["TEXT_FORMAT", "JsonFormatter", "LogFormat", "use_log_format"]
