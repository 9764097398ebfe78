"""`confirma-pipeline demo`: the story a new user runs first (`make demo`)."""

from __future__ import annotations

import argparse

from confirma_pipeline.warehouse import embedded
from confirma_pipeline.warehouse.connection import DSN_ENV, connect, redact_dsn
from confirma_pipeline.warehouse.migrations import apply_migrations


def run_demo(args: argparse.Namespace) -> int:
    import os

    if os.environ.get(DSN_ENV):
        print(f"warehouse: {redact_dsn(os.environ[DSN_ENV])} ({DSN_ENV})")
    else:
        was_running = embedded.is_running()
        location = embedded.locate()
        embedded.start()
        print(
            f"warehouse: embedded PostgreSQL {'attached' if was_running else 'started'}, data in {location.pgdata}"
        )
    with connect() as conn:
        applied = apply_migrations(conn)
    print(f"migrations: {len(applied)} applied" if applied else "migrations: up to date")
    print("stop the warehouse with: .venv/bin/confirma-pipeline warehouse stop")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the end-to-end demo on the local sandbox")
    parser.set_defaults(func=run_demo)
