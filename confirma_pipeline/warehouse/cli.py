"""`confirma-pipeline warehouse start | stop | status | migrate | uri`."""

from __future__ import annotations

import argparse
import os

from confirma_pipeline.warehouse import embedded
from confirma_pipeline.warehouse.connection import DSN_ENV, connect, redact_dsn
from confirma_pipeline.warehouse.migrations import applied_versions, apply_migrations


def _external_dsn() -> str | None:
    return os.environ.get(DSN_ENV, "").strip() or None


def _start(args: argparse.Namespace) -> int:
    if dsn := _external_dsn():
        print(f"{DSN_ENV} is set; using the external warehouse {redact_dsn(dsn)} (nothing to start)")
        return 0
    was_running = embedded.is_running()
    location = embedded.locate()
    server = embedded.start()
    verb = "attached to the running" if was_running else "started the"
    print(f"{verb} embedded PostgreSQL")
    print(f"  data:   {location.pgdata}")
    if location.is_fallback:
        print(
            f"          (outside {location.data_dir}: a parent of it is private, see warehouse/embedded.py)"
        )
    print(f"  uri:    {redact_dsn(server.get_uri())}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    if _external_dsn():
        print(f"{DSN_ENV} is set; the external warehouse is not ours to stop")
        return 0
    print("stopped the embedded PostgreSQL" if embedded.stop() else "the embedded PostgreSQL was not running")
    return 0


def _status(args: argparse.Namespace) -> int:
    if dsn := _external_dsn():
        target = f"external ({DSN_ENV}={redact_dsn(dsn)})"
    else:
        location = embedded.locate()
        running = embedded.is_running()
        target = f"embedded, {'running' if running else 'stopped'}, data in {location.pgdata}"
        if not running:
            print(f"warehouse: {target}")
            return 4  # ExitCode.UNREACHABLE
    with connect() as conn:
        versions = applied_versions(conn)
    print(f"warehouse: {target}")
    print(f"migrations applied: {len(versions)}" + (f" (latest {versions[-1]})" if versions else ""))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    with connect() as conn:
        done = apply_migrations(conn)
    print(f"applied {len(done)} migration(s): {', '.join(done)}" if done else "migrations: up to date")
    return 0


def _uri(args: argparse.Namespace) -> int:
    # Never prints a password: the embedded server uses trust auth over a Unix socket, and an
    # external DSN is shown redacted (psql will prompt or read ~/.pgpass).
    dsn = _external_dsn() or embedded.uri(database=args.database)
    print(redact_dsn(dsn))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("warehouse", help="manage the warehouse (embedded PostgreSQL by default)")
    commands = parser.add_subparsers(dest="warehouse_command", metavar="ACTION", required=True)
    commands.add_parser("start", help="start (or attach to) the embedded PostgreSQL").set_defaults(
        func=_start
    )
    commands.add_parser("stop", help="stop the embedded PostgreSQL").set_defaults(func=_stop)
    commands.add_parser("status", help="show where the warehouse is and its migrations").set_defaults(
        func=_status
    )
    commands.add_parser("migrate", help="apply pending SQL migrations").set_defaults(func=_migrate)
    uri = commands.add_parser("uri", help="print a DSN for psql (never a password)")
    uri.add_argument("--database", default=None, help="database name (default: postgres)")
    uri.set_defaults(func=_uri)
