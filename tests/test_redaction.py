"""The bot token and the database password never reach a log, an exception text or a page.

The real thing: `buurtagenda run` with a token, talking to the Bot API emulator, uploading files
(the organiser's export), failing to upload, losing the Bot API, failing to start without it,
and failing to reach PostgreSQL with a password; everything it wrote is searched for the
secrets. And the filter itself on each part of a log record.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from buurtagenda.config import Config, DatabaseConfig, TelegramConfig
from buurtagenda.redaction import REDACTED, RedactingFilter, Secrets
from emulator import Limits, TelegramEmulator, serve
from tests.conftest import POSTGRES_URL, SKIP_POSTGRES
from tests.service_process import ServiceProcess, free_port

TOKEN = "7000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET_PART = TOKEN.partition(":")[2]
PASSWORD = "s3cret-Pa55word"


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        assert SECRET_PART not in text, text
        assert PASSWORD not in text, text


async def test_the_token_never_reaches_the_log_or_a_page(tmp_path: Path) -> None:
    emu = TelegramEmulator(token=TOKEN, limits=Limits.off())
    olga = emu.user("Olga", language_code="nl")
    pages: list[str] = []
    async with serve(emu) as api_url:
        service = ServiceProcess(
            tmp_path,
            {
                "BUURTAGENDA_TELEGRAM_TOKEN": TOKEN,
                "BUURTAGENDA_TELEGRAM_API_BASE_URL": api_url,
                "BUURTAGENDA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'b.db'}",
                "BUURTAGENDA_ADMINS": str(olga.user.id),
            },
        )
        await service.start()
        try:
            await service.wait_for_line("is listening")
            # A file upload: multipart through httpx, which logs every request URL at INFO.
            export = await olga.send("/exporteer").reply(lambda m: m.document is not None)
            assert export.document is not None
            # An upload that fails: the error, its traceback and the member's apology.
            emu.faults.fail_next(method="sendDocument", status=502)
            sorry = await olga.send("/exporteer").reply(lambda m: "ging iets mis" in m.content)
            assert sorry is not None
            await service.wait_for_line("failed")
            for path in ("/healthz", "/bestaat-niet", "/feed/onzin.ics", "/event/0.ics"):
                pages.append((await service.get(path)).text)
        except BaseException:
            service.kill()
            raise
    try:
        # The Bot API is gone: polling and sending fail with network errors.
        await service.wait_for_line("NetworkError")
        pages.append((await service.get("/healthz")).text)
        assert await service.stop() == 0, service.output
    finally:
        service.kill()
    with sqlite3.connect(tmp_path / "b.db") as connection:
        errors = [e for (e,) in connection.execute("SELECT last_error FROM outbox") if e]
    assert "sendDocument" not in service.output  # httpx's request lines are quiet
    assert_no_secrets(service.output, *pages, *errors)


async def test_without_the_bot_api_the_start_fails_without_the_token(tmp_path: Path) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"
    service = ServiceProcess(
        tmp_path,
        {
            "BUURTAGENDA_TELEGRAM_TOKEN": TOKEN,
            "BUURTAGENDA_TELEGRAM_API_BASE_URL": unreachable,
            "BUURTAGENDA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'b.db'}",
        },
    )
    await service.start()
    try:
        exit_code = await service.wait()
    finally:
        service.kill()
    assert exit_code == 1, service.output
    assert "CRITICAL buurtagenda: buurtagenda run stopped on an error" in service.output
    assert "NetworkError" in service.output
    assert_no_secrets(service.output)


async def test_a_database_password_never_reaches_the_log(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    # Someone the server does not know (it may trust any password of a user it knows).
    url = make_url(POSTGRES_URL).set(username="buurtagenda_nobody", password=PASSWORD)
    env = {"BUURTAGENDA_DATABASE_URL": url.render_as_string(hide_password=False)}
    outputs = []
    for command in (("run",), ("check-config",), ("db", "upgrade")):
        service = ServiceProcess(tmp_path, env, *command)
        await service.start()
        try:
            await service.wait()
        finally:
            service.kill()
        outputs.append(service.output)
    assert "buurtagenda_nobody" in outputs[0]  # the error is there, the password is not
    assert "configuration OK (database postgresql+asyncpg://buurtagenda_nobody:***@" in outputs[1]
    assert_no_secrets(*outputs)


def test_the_configuration_names_its_secrets() -> None:
    config = Config(
        telegram=TelegramConfig(
            token=TOKEN,
            webhook_url="https://agenda.example.nl/telegram/updates",
            webhook_secret="webhook_Geheim-1",
        ),
        database=DatabaseConfig(url="postgresql+asyncpg://app:p%40ss%2Fw0rd@db/buurtagenda"),
    )
    assert set(config.secrets()) == {
        TOKEN,
        SECRET_PART,
        "webhook_Geheim-1",
        "p@ss/w0rd",
        "p%40ss%2Fw0rd",
    }
    assert Config().secrets() == ()


def test_the_filter_redacts_message_arguments_traceback_and_stack() -> None:
    secrets = Secrets()
    secrets.register(TOKEN)
    secrets.register("ab")  # too short to hide without hiding everything
    record_filter = RedactingFilter(secrets)
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/sendDocument")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "httpx", logging.ERROR, __file__, 1, "call %s failed: %s", ("getMe", TOKEN), exc_info
    )
    record.stack_info = f"Stack: bot{TOKEN.replace(':', '%3A')}"
    assert record_filter.filter(record)
    line = logging.Formatter("%(message)s").format(record)
    assert SECRET_PART not in line
    assert f"call getMe failed: {REDACTED}" in line
    assert f"/bot{REDACTED}/sendDocument" in line  # in the traceback
    assert f"Stack: bot{REDACTED}" in line
    assert secrets.redact("about") == "about"
