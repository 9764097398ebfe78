"""The `confirma-pipeline` command line.

Each area of the package owns its sub-commands in a small `cli` module exposing
`register(subparsers)`; this file only assembles them, so adding a command never means
editing another area's code. Errors meant for an operator are raised as `OperatorError` and
printed as one line (never a traceback that could carry a secret).

Every setting is checked before a command starts (settings.check). The exit code says what happened
(errors.ExitCode, README "Exit codes"). SIGTERM is handled as Ctrl-C, so the commands that start
processes (ui, sandbox, demo) stop them on `kill`, a container stop or a supervisor as they do on Ctrl-C.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import traceback
from collections.abc import Sequence

from confirma_pipeline.errors import ExitCode, OperatorError, redact

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


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return ExitCode.USAGE
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        from confirma_pipeline import settings

        settings.check()
        result = args.func(args)
    except OperatorError as exc:
        print(f"confirma-pipeline: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception:  # a bug: show where, but never a secret from a message or a chained exception
        print(redact(traceback.format_exc()).rstrip(), file=sys.stderr)
        return ExitCode.INTERNAL
    finally:
        signal.signal(signal.SIGTERM, previous)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
