"""The `confirma-pipeline` command line.

One module per command group in this package (`push`, `backfill`, `vault` (tokens, clients),
`actions`, `accounting`, `contract`, `status`), plus the warehouse's and the sandbox's own, and the
local environment's `demo` and `ui`; each exposes `register(subparsers)` and this file assembles them
with static imports. Errors meant for an operator are raised as `OperatorError` and
printed as one line (never a traceback that could carry a secret).

Every setting is checked before a command starts (settings.check). The exit code says what happened
(errors.ExitCode, README "Exit codes"). SIGTERM is handled as Ctrl-C, so the commands that start
processes (ui, sandbox, demo) stop them on `kill`, a container stop or a supervisor as they do on Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import traceback
from collections.abc import Sequence

from confirma_pipeline.errors import ExitCode, OperatorError, redact


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="confirma-pipeline",
        description="Sync a PostgreSQL warehouse with the Confirma Finance Partner API.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Static imports, inside the function so that importing `main` stays cheap: a renamed or broken
    # command module fails here, loudly, instead of silently vanishing from the CLI.
    from confirma_pipeline.cli import accounting, actions, backfill, contract, push, status, vault
    from confirma_pipeline.local import demo, ui
    from confirma_pipeline.sandbox import cli as sandbox_cli
    from confirma_pipeline.warehouse import cli as warehouse_cli

    for module in (
        warehouse_cli,
        sandbox_cli,
        vault,
        push,
        actions,
        backfill,
        contract,
        accounting,
        demo,
        ui,
        status,
    ):
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
