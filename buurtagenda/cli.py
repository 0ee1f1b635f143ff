"""``buurtagenda``: run the service and look after its database.

buurtagenda run [--config FILE]         the service (migrations applied at start)
buurtagenda db upgrade [--config FILE]  apply migrations only
buurtagenda db current [--config FILE]  show the schema revision
buurtagenda seed [--config FILE]        load the buurten and buurtnetwerken (idempotent)
buurtagenda check-config [--config FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from buurtagenda.config import Config, ConfigError, load_config
from buurtagenda.service import Service, prepare_database
from models import migrations
from models.clock import system_clock
from models.db import Database
from models.events.demo import load_demo_programme


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="buurtagenda", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML file (default: ./config.toml if present)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", parents=[common], help="run the service")
    db = commands.add_parser("db", parents=[common], help="database schema")
    db.add_argument("action", choices=["upgrade", "current"])
    seed = commands.add_parser("seed", parents=[common], help="load the buurten and buurtnetwerken")
    seed.add_argument("--demo", action="store_true", help="also load the demo programme")
    commands.add_parser("check-config", parents=[common], help="validate the configuration")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"buurtagenda: {error}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_dispatch(args, config))
    except KeyboardInterrupt:
        return 130


async def _dispatch(args: argparse.Namespace, config: Config) -> int:
    if args.command == "check-config":
        print(f"configuration OK (database {config.database.url})")
        return 0
    if args.command == "run":
        await Service(config).run()
        return 0
    database = Database(config.database.url)
    try:
        if args.command == "db" and args.action == "upgrade":
            await migrations.upgrade(database)
            print(f"schema at revision {await migrations.current_revision(database)}")
        elif args.command == "db":
            print(await migrations.current_revision(database) or "(empty database)")
        elif args.command == "seed":
            await prepare_database(database)
            print("reference data loaded: buurten and buurtnetwerken of Maastricht")
            if args.demo:
                async with database.transaction() as session:
                    report = await load_demo_programme(session, now=system_clock(), tz=config.tz)
                print(f"demo programme: {report.created} events added, {report.existing} there")
    finally:
        await database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
