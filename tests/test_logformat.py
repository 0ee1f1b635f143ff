"""``logging.format = "json"``: one JSON object per line for log collectors, with the secrets
redacted as in the text format (the same filter runs before either formatter)."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from buurtagenda.config import ConfigError, load_config
from buurtagenda.logformat import JsonFormatter, use_log_format
from buurtagenda.redaction import REDACTED, RedactingFilter, Secrets
from tests.service_process import ServiceProcess, free_port
from tests.test_redaction import SECRET_PART, TOKEN, assert_no_secrets


def test_a_json_line_has_time_level_logger_message_and_exception_without_secrets() -> None:
    secrets = Secrets()
    secrets.register(TOKEN)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(secrets))
    use_log_format("json", [handler])
    logger = logging.getLogger("buurtagenda.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        logger.info('calling "%s" with %s', "getMe", TOKEN)
        try:
            raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/getMe\nline two")
        except RuntimeError:
            logger.exception("the call failed")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2  # a traceback stays on its own line
    info, error = (json.loads(line) for line in lines)
    assert set(info) == {"time", "level", "logger", "message"}
    assert info["level"] == "INFO" and info["logger"] == "buurtagenda.test.json"
    assert info["message"] == f'calling "getMe" with {REDACTED}'
    assert info["time"].endswith("Z") and "T" in info["time"]
    assert error["level"] == "ERROR" and error["message"] == "the call failed"
    assert error["exception"].startswith("Traceback (most recent call last)")
    assert f"/bot{REDACTED}/getMe" in error["exception"]
    assert SECRET_PART not in stream.getvalue()


def test_the_format_is_a_key_of_its_own_with_an_environment_variable() -> None:
    assert load_config(environ={}).logging.format == "text"
    assert load_config(environ={"BUURTAGENDA_LOGGING_FORMAT": "json"}).logging.format == "json"
    with pytest.raises(ConfigError, match=r"logging\.format"):
        load_config(environ={"BUURTAGENDA_LOGGING_FORMAT": "xml"})


def test_text_stays_the_default_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    use_log_format("text", [handler])
    handler.handle(logging.LogRecord("buurtagenda", logging.INFO, __file__, 1, "hallo", (), None))
    assert stream.getvalue().rstrip().endswith(" INFO buurtagenda: hallo")
    assert not isinstance(handler.formatter, JsonFormatter)


async def test_the_service_logs_json_lines_and_no_secret(tmp_path: Path) -> None:
    """`buurtagenda run` with a token and no Bot API: migrations, the failed start and its
    traceback (with the token in the URLs it tried) are all JSON lines, the token redacted."""
    service = ServiceProcess(
        tmp_path,
        {
            "BUURTAGENDA_LOGGING_FORMAT": "json",
            "BUURTAGENDA_TELEGRAM_TOKEN": TOKEN,
            "BUURTAGENDA_TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{free_port()}",
            "BUURTAGENDA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'j.db'}",
        },
    )
    await service.start()
    try:
        exit_code = await service.wait()
    finally:
        service.kill()
    assert exit_code == 1, service.output
    entries = [json.loads(line) for line in service.output.splitlines() if line.strip()]
    assert any(entry["logger"] == "alembic.runtime.migration" for entry in entries)
    [critical] = [entry for entry in entries if entry["level"] == "CRITICAL"]
    assert critical["message"] == "buurtagenda run stopped on an error"
    assert "NetworkError" in critical["exception"]
    assert_no_secrets(service.output)
