"""`confirma-pipeline accounting status [--refresh] [--pending-days N]`: what was sent to the accounting
add-on and how far it synced, from the warehouse (with --refresh, after pulling the sync status; that pull
writes its row in the run log, confirma.sync_runs).

Exit code 0 when nothing needs a person; 3 (ExitCode.PARTIAL, "needs attention") when an item's outcome is
unknown or it failed past its attempt budget, or it stayed unsynced longer than the allowed days. Failed syncs are listed (the target system's
reason) but are a warning, as in the Dagster check: the creditor corrects them in the accounting system.
"""

from __future__ import annotations

import argparse

from confirma_pipeline.errors import ExitCode

REFRESH_JOB = "confirma-pipeline accounting status --refresh"


def _status(args: argparse.Namespace) -> int:
    from confirma_pipeline.push.settings import PushSettings
    from confirma_pipeline.warehouse import accounting_submissions as subs
    from confirma_pipeline.warehouse.connection import connect

    if args.refresh:
        from confirma_pipeline import settings
        from confirma_pipeline.pull.accounting_sync import pull_accounting_sync
        from confirma_pipeline.warehouse.sync_runs import cli_run_id, sync_run

        # one run-log row, under the asset's entity name, so SQL over confirma.sync_runs sees both
        with (
            settings.api_client() as client,
            sync_run(None, run_id=cli_run_id(), job=REFRESH_JOB, entity="accounting_sync_status",
                     direction="pull") as run,
        ):  # fmt: skip
            report = pull_accounting_sync(dsn=None, client=client, vault=settings.token_vault())
            run.outcome(*report.sync_outcome())
        print(report.summary_line())
        print(f"run {run.run_id}: recorded in confirma.sync_runs")
    with connect() as conn:
        summary = subs.status_summary(conn)
        failed = subs.failed_syncs(conn)
        stuck = subs.stuck(conn, PushSettings().max_attempts)
        late = subs.pending_too_long(conn, args.pending_days)
    if not summary:
        print("accounting: nothing submitted yet")
    for kind, state, sync, count in summary:
        label = "voucher" if kind == "ledger" else "payment"
        print(f"{label}s {state}" + (f", sync {sync}" if sync != "-" else "") + f": {count}")
    for kind, creditor_id, ident, day, text in failed:
        print(f"  sync failed: {kind} {creditor_id}/{ident} ({day}): {text}")
    for kind, creditor_id, ident, state, attempts, error in stuck:
        print(
            f"  needs an operator: {kind} {creditor_id}/{ident} {state} after {attempts} attempt(s): {error or '-'}"
        )
    for kind, creditor_id, ident, submitted_at, text in late:
        print(
            f"  not synced after {args.pending_days} days: {kind} {creditor_id}/{ident} (sent {submitted_at:%Y-%m-%d}): {text}"
        )
    return ExitCode.PARTIAL if stuck or late else ExitCode.OK


def register(subparsers: argparse._SubParsersAction) -> None:
    from confirma_pipeline.pull.accounting_sync import PENDING_ERROR_AFTER_DAYS

    parser = subparsers.add_parser(
        "accounting", help="ledger vouchers and accounting payments (accounting add-on)"
    )
    commands = parser.add_subparsers(dest="accounting_command", metavar="COMMAND", required=True)
    status = commands.add_parser("status", help="what was submitted and how far it synced")
    status.add_argument("--refresh", action="store_true", help="pull the sync status from the API first")
    status.add_argument(
        "--pending-days",
        type=int,
        default=PENDING_ERROR_AFTER_DAYS,
        help=f"unsynced this many days after submission counts as a problem (default {PENDING_ERROR_AFTER_DAYS})",
    )
    status.set_defaults(func=_status)
