"""Schema migrations (Alembic).

Applied at start by ``buurtagenda run``, and by ``buurtagenda db upgrade``. A database whose
revision this code does not know (a newer version migrated it) is refused, never "upgraded".
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from models.db import Database

SCRIPT_LOCATION = Path(__file__).parent


def alembic_config(url: str = "") -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("sqlalchemy.url", url)
    return config


class SchemaTooNew(Exception):
    """The database was migrated by a newer version of the code than this one."""

    def __init__(self, revision: str) -> None:
        self.revision = revision
        super().__init__(
            f"the database schema is at revision {revision}, newer than this version of "
            f"buurtagenda knows (its newest is {head_revision()}); run the newer version, "
            "or restore the backup taken before the upgrade"
        )


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }


def refuse_unknown_revision(connection: Connection) -> None:
    """Raise ``SchemaTooNew`` when the database's revision is not one of this code's."""
    from alembic.runtime.migration import MigrationContext

    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is not None and revision not in known_revisions():
        raise SchemaTooNew(revision)


async def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` on the database's own connection."""

    def _upgrade(connection: Connection) -> None:
        refuse_unknown_revision(connection)
        config = alembic_config(database.url)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with database.engine.begin() as connection:
        await connection.run_sync(_upgrade)


def head_revision() -> str | None:
    """The newest revision in ``versions/``: what ``upgrade`` brings a database to."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(database: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with database.engine.connect() as connection:
        return await connection.run_sync(_current)
