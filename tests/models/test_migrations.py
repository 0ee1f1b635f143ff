"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from models import Base, migrations


async def test_migrations_match_the_models(db):
    def diff(connection):
        return compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )

    async with db.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


async def test_upgrade_is_idempotent(db):
    await migrations.upgrade(db)
    assert await migrations.current_revision(db) == migrations.head_revision()
