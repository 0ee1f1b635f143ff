"""``buurtagenda``: run the service and look after its database.

buurtagenda run [--config FILE]         the service (migrations applied at start)
buurtagenda db upgrade [--config FILE]  apply migrations only
buurtagenda db current [--config FILE]  show the schema revision
buurtagenda db copy --to URL            everything into another, empty database (e.g. PostgreSQL)
buurtagenda db backup FILE              a consistent copy of the SQLite database while it runs
buurtagenda seed [--config FILE]        load the buurten and buurtnetwerken (idempotent)
buurtagenda check-config [--config FILE]
buurtagenda import FILE [--dry-run] [--as TELEGRAM_ID]   a programme file (.toml or .ics)
buurtagenda export [FILE]               the programme as TOML (to stdout without FILE)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import make_url

from buurtagenda.config import Config, ConfigError, DatabaseConfig, load_config
from buurtagenda.database_copy import (
    CopyRefused,
    backup_sqlite,
    copy_database,
    pg_dump_command,
    sqlite_path,
)
from buurtagenda.logformat import TEXT_FORMAT, use_log_format
from buurtagenda.redaction import SECRETS, hide_secrets, install_redaction
from buurtagenda.service import Service, prepare_database
from models import migrations
from models.clock import system_clock
from models.db import Database
from models.errors import DomainError
from models.events.demo import load_demo_programme
from models.leadership import AlreadyRunning
from models.locks import PREPARE_LOCK, exclusively
from models.members.entities import Member
from models.programme import apply_import, describe_plan, export_programme, plan_import

log = logging.getLogger("buurtagenda")
# The exit code when the service refuses to start: another run on the same SQLite file, or a
# database schema newer than this code.
REFUSED = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="buurtagenda", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML file (default: ./config.toml if present)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", parents=[common], help="run the service")
    db = commands.add_parser("db", parents=[common], help="database schema")
    db.add_argument("action", choices=["upgrade", "current", "copy", "backup"])
    db.add_argument("file", type=Path, nargs="?", help="backup: the file to write")
    db.add_argument("--to", metavar="URL", help="copy: the empty database to copy into")
    seed = commands.add_parser("seed", parents=[common], help="load the buurten and buurtnetwerken")
    seed.add_argument("--demo", action="store_true", help="also load the demo programme")
    commands.add_parser("check-config", parents=[common], help="validate the configuration")
    programme_in = commands.add_parser("import", parents=[common], help="import a programme file")
    programme_in.add_argument("file", type=Path, help="a .toml programme file or an .ics file")
    programme_in.add_argument("--dry-run", action="store_true", help="only show what would change")
    programme_in.add_argument(
        "--as", dest="as_telegram_id", type=int, help="the organiser's Telegram id (audit log)"
    )
    programme_out = commands.add_parser("export", parents=[common], help="export the programme")
    programme_out.add_argument("file", type=Path, nargs="?", help="default: standard output")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=TEXT_FORMAT)
    install_redaction()
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"buurtagenda: {error}", file=sys.stderr)
        return 2
    hide_secrets(config)
    use_log_format(config.logging.format)
    try:
        return asyncio.run(_dispatch(args, config))
    except KeyboardInterrupt:
        return 130
    except (AlreadyRunning, migrations.SchemaTooNew) as refusal:
        # Not an error of this program: one line saying why, and an exit code of its own
        # (a service manager need not try again: RestartPreventExitStatus=3).
        print(f"buurtagenda: {refusal}", file=sys.stderr)
        return REFUSED
    except Exception:  # through the log, so the traceback is redacted like every other line
        log.critical("buurtagenda %s stopped on an error", args.command, exc_info=True)
        return 1


async def _dispatch(args: argparse.Namespace, config: Config) -> int:
    if args.command == "check-config":
        database_url = make_url(config.database.url).render_as_string(hide_password=True)
        print(f"configuration OK (database {database_url})")
        return 0
    if args.command == "run":
        await Service(config).run()
        return 0
    if args.command == "db" and args.action in ("copy", "backup"):
        return await _copy_or_backup(args, config)
    database = Database(config.database.url)
    try:
        if args.command == "db" and args.action == "upgrade":
            async with exclusively(database, PREPARE_LOCK):  # not while an instance starts
                await migrations.upgrade(database)
            print(f"schema at revision {await migrations.current_revision(database)}")
        elif args.command in ("import", "export"):
            return await _programme(args, config, database)
        elif args.command == "db":
            print(await migrations.current_revision(database) or "(empty database)")
        elif args.command == "seed":
            await prepare_database(database, public_url=config.http.public_url)
            print("reference data loaded: buurten, buurtnetwerken and themes of Maastricht")
            if args.demo:
                async with database.transaction() as session:
                    report = await load_demo_programme(session, now=system_clock(), tz=config.tz)
                print(f"demo programme: {report.created} events added, {report.existing} there")
    finally:
        await database.dispose()
    return 0


async def _copy_or_backup(args: argparse.Namespace, config: Config) -> int:
    """``db copy --to URL`` and ``db backup FILE``; a refusal is one line and exit code 1."""
    if args.action == "backup":
        return await _backup(args, config)
    return await _copy(args, config)


async def _backup(args: argparse.Namespace, config: Config) -> int:
    if args.file is None:
        return _refuse("db backup needs the file to write: buurtagenda db backup FILE")
    database_file = sqlite_path(config.database.url)
    if make_url(config.database.url).get_backend_name() == "postgresql":
        command = pg_dump_command(config.database.url, str(args.file))
        return _refuse(f"db backup is for SQLite; for PostgreSQL use: {command}")
    if database_file is None:
        return _refuse("db backup: an in-memory database has no file to back up")
    try:
        backup = await backup_sqlite(database_file, args.file)
    except (OSError, ValueError, RuntimeError, sqlite3.Error) as error:
        return _refuse(f"db backup: {error}")
    print(f"backup written to {backup.path} ({backup.size_bytes:,} bytes)")
    return 0


async def _copy(args: argparse.Namespace, config: Config) -> int:
    if not args.to:
        return _refuse("db copy needs the target: buurtagenda db copy --to URL")
    try:
        target_url = DatabaseConfig(url=args.to).url
    except ValidationError as error:
        reason = error.errors()[0]["msg"].removeprefix("Value error, ")
        return _refuse(f"db copy --to: {reason}")
    for secret in DatabaseConfig(url=target_url).passwords:
        if secret:
            SECRETS.register(secret)
    shown = make_url(target_url).render_as_string(hide_password=True)
    source, target = Database(config.database.url), Database(target_url)
    try:
        counts = await copy_database(
            source, target, on_table=lambda name, rows: print(f"  {name}: {rows:,} rows")
        )
    except CopyRefused as error:
        return _refuse(f"db copy: {error}")
    finally:
        await source.dispose()
        await target.dispose()
    width = max(len(count.table) for count in counts)
    print(f"{'table':<{width}}  {'source':>9}  {'target':>9}")
    for count in counts:
        mark = "" if count.agrees else "  <- differs"
        print(f"{count.table:<{width}}  {count.source:>9,}  {count.target:>9,}{mark}")
    differ = [count.table for count in counts if not count.agrees]
    if differ:
        return _refuse(f"db copy: the row counts differ for {', '.join(differ)}")
    total = sum(count.target for count in counts)
    print(f"copied {len(counts)} tables, {total:,} rows, to {shown}: the counts agree")
    return 0


def _refuse(line: str) -> int:
    print(f"buurtagenda: {line}", file=sys.stderr)
    return 1


async def _programme(args: argparse.Namespace, config: Config, database: Database) -> int:
    """``import`` (a plan, then applied unless --dry-run) and ``export``."""
    from sqlalchemy import select

    from buurtagenda.service import registration_policy

    await prepare_database(database, public_url=config.http.public_url)
    try:
        if args.command == "export":
            async with database.read() as session:
                text = await export_programme(session, tz=config.tz)
            if args.file is None:
                sys.stdout.write(text)
            else:
                args.file.write_text(text, encoding="utf-8")
                print(f"programme written to {args.file}")
            return 0
        data = args.file.read_bytes()
        async with database.transaction() as session:
            actor_id = None
            if args.as_telegram_id is not None:
                actor_id = await session.scalar(
                    select(Member.id).where(Member.telegram_id == args.as_telegram_id)
                )
                if actor_id is None:
                    print(
                        f"buurtagenda: no member with Telegram id {args.as_telegram_id}",
                        file=sys.stderr,
                    )
                    return 1
            now = system_clock()
            plan = await plan_import(
                session, data, now, actor_id=actor_id, filename=args.file.name, tz=config.tz
            )
            print(describe_plan(plan, config.tz))
            if args.dry_run or not plan.has_changes:
                print("dry run: nothing changed" if args.dry_run else "nothing to change")
                return 0
            result = await apply_import(
                session,
                plan,
                actor_id=actor_id,
                now=now,
                policy=registration_policy(config),
            )
        print(
            f"imported: {result.created} new, {result.changed} changed, "
            f"{result.cancelled} cancelled; {len(result.notifications)} people to notify"
        )
        return 0
    except DomainError as error:
        print(f"buurtagenda: {args.file}: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"buurtagenda: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
