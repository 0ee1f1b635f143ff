"""Shared fixtures: a real database (SQLite file, and PostgreSQL when configured), a frozen clock.

PostgreSQL runs when ``BUURTAGENDA_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it); otherwise the
PostgreSQL variants are skipped with a message that says so.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from models import Base, migrations
from models.clock import FrozenClock
from models.db import Database
from models.networks.reference import load_reference_data
from models.registrations.policy import RegistrationPolicy
from models.themes.seed import load_start_themes

POSTGRES_URL = os.environ.get("BUURTAGENDA_TEST_POSTGRES_URL", "")
SKIP_POSTGRES = "PostgreSQL not configured: set BUURTAGENDA_TEST_POSTGRES_URL (.ci/run does)"

_state: dict[str, object] = {}


async def sqlite_database(directory: Path) -> Database:
    """A fresh, migrated SQLite file with the reference data (copied from a template per test)."""
    template = _state.get("sqlite_template")
    if template is None:
        template_dir = (
            Path(os.environ.get("PYTEST_TMPDIR", "/tmp")) / f"buurtagenda-tpl-{os.getpid()}"
        )
        template_dir.mkdir(parents=True, exist_ok=True)
        template = template_dir / "template.db"
        template.unlink(missing_ok=True)
        database = Database(f"sqlite+aiosqlite:///{template}")
        await migrations.upgrade(database)
        async with database.transaction() as session:
            await load_reference_data(session)
        await database.dispose()
        _state["sqlite_template"] = template
    assert isinstance(template, Path)
    target = directory / "test.db"
    shutil.copy(template, target)
    return Database(f"sqlite+aiosqlite:///{target}")


async def postgres_database(**engine_kwargs: object) -> Database:
    """The configured PostgreSQL, migrated once per run and emptied (but for reference data)."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    database = Database(POSTGRES_URL, **engine_kwargs)
    if not _state.get("postgres_migrated"):
        async with database.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await migrations.upgrade(database)
        async with database.transaction() as session:
            await load_reference_data(session)
        _state["postgres_migrated"] = True
    else:
        kept = {"buurten", "networks", "network_buurten", "alembic_version"}
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name not in kept)
        async with database.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        async with database.transaction() as session:
            await load_start_themes(session)  # emptied with the rest: a test may have edited them
    return database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """Each test that takes ``db`` runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        database = await sqlite_database(tmp_path)
    else:
        database = await postgres_database()
    yield database
    await database.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await sqlite_database(tmp_path)
    yield database
    await database.dispose()


# A Monday morning in March 2027, well before the test events.
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def policy() -> RegistrationPolicy:
    return RegistrationPolicy()


# Locally a missing server, browser or library is a skip that says so; in CI (CI=true, set by
# the runner) it must not pass unnoticed, so the same skip becomes a failure there.
_REQUIRED_IN_CI = (
    "PostgreSQL not configured",
    "chromium",
    "Chromium",
    "libical not installed",
    "caddy not installed",
    "systemd-analyze not installed",
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if (
        os.environ.get("CI")
        and report.skipped
        and any(marker in str(report.longrepr) for marker in _REQUIRED_IN_CI)
    ):
        report.outcome = "failed"
        report.longrepr = f"required in CI, but skipped: {report.longrepr}"
