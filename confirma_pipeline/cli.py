"""The `confirma-pipeline` command line.

Each area of the package owns its sub-commands in a small `cli` module exposing
`register(subparsers)`; this file only assembles them, so adding a command never means
editing another area's code. Errors meant for an operator are raised as `OperatorError` and
printed as one line (never a traceback that could carry a secret).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from confirma_pipeline.errors import OperatorError

# Modules that contribute sub-commands. Each exposes `register(subparsers) -> None` and sets
# `func` on its parsers. Missing modules are skipped so the CLI works while areas are built.
COMMAND_MODULES = (
    "confirma_pipeline.warehouse.cli",
    "confirma_pipeline.sandbox.cli",
    "confirma_pipeline.vault_cli",
    "confirma_pipeline.push_cli",
    "confirma_pipeline.actions_cli",
    "confirma_pipeline.backfill_cli",
    "confirma_pipeline.contract_cli",
    "confirma_pipeline.accounting_cli",
    "confirma_pipeline.demo",
    "confirma_pipeline.ui",
    "confirma_pipeline.status_cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="confirma-pipeline",
        description="Sync a PostgreSQL warehouse with the Confirma Finance Partner API.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        result = args.func(args)
    except OperatorError as exc:
        print(f"confirma-pipeline: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
