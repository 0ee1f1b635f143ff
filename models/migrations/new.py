"""Write a new migration from the difference between the models and the migrations so far.

    make migration m="what changed"

It builds a scratch SQLite database at the current head and compares it with the models.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from models.migrations import SCRIPT_LOCATION, alembic_config


def main(message: str) -> None:
    existing = sorted(
        p.name for p in (SCRIPT_LOCATION / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    )
    rev_id = f"{len(existing) + 1:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{Path(scratch) / 'scratch.db'}"
        config = alembic_config(url)
        command.upgrade(config, "head")
        command.revision(config, message=message, autogenerate=True, rev_id=rev_id)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].strip():
        sys.exit('usage: make migration m="what changed"')
    main(sys.argv[1])
