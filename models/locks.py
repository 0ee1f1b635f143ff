"""PostgreSQL advisory locks: what several instances on one database must do one at a time.

Each key is a fixed 64-bit number (advisory locks are per database, so two installations on one
server never meet). On SQLite there is one process (``models/leadership.py`` sees to that) and
SQLite serialises writers itself: the locks are no-ops there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from models.db import Database

# The leader's lock (models/leadership.py), held as long as its connection lives.
LEADER_LOCK = int.from_bytes(b"buurtLDR", "big")
# Migrations, reference data and other start-up writes: one instance at a time.
PREPARE_LOCK = int.from_bytes(b"buurtMIG", "big")


@asynccontextmanager
async def exclusively(database: Database, key: int) -> AsyncIterator[None]:
    """Wait until no other instance holds ``key``, and hold it for the block.

    The lock belongs to a transaction on a connection of its own: it goes when the block ends
    (the connection's transaction is rolled back on leaving), on any error, and when the
    process dies (the server ends its session), so it can never be left behind.
    """
    if database.is_sqlite:
        yield
        return
    async with database.engine.connect() as guard:
        await guard.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        yield


__all__ = ["LEADER_LOCK", "PREPARE_LOCK", "exclusively"]
