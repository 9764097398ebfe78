"""`confirma-pipeline backfill client | range`: backfills run through Dagster, in this process,
recorded on the instance in DAGSTER_HOME (so they show in the UI), with progress on the console.

The request is checked before any run starts: an unknown creditor or a reversed range is refused
with a message saying what is wrong."""

from __future__ import annotations

import argparse
import os
import sys


def _instance():
    import dagster as dg

    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    print("note: DAGSTER_HOME is not set; the run is not recorded on a persistent instance", file=sys.stderr)
    return dg.DagsterInstance.ephemeral()


def _job(name: str):
    from confirma_pipeline.definitions import defs

    return defs().resolve_job_def(name)


def _config(args: argparse.Namespace) -> dict:
    return {
        "creditor_id": args.creditor_id,
        "date_from": args.date_from,
        "date_to": args.date_to,
        "pull_to": args.pull_to or "",
        "adopt_existing": args.adopt_existing,
        "historical_policy": args.historical_policy,
        "historical_after_days": args.historical_after_days,
    }


def _preview(request) -> int:
    """--dry-run: computed in this process, no Dagster run (a preview writes nothing, not even a run)."""
    from confirma_pipeline import settings
    from confirma_pipeline.backfill import preview_backfill
    from confirma_pipeline.run.context import RunContext

    with settings.api_client() as client:
        report = preview_backfill(RunContext(None, client, settings.token_vault()), request)
    for line in report.lines():
        print(line)
    return 0


def _client(args: argparse.Namespace) -> int:
    from confirma_pipeline.backfill import check_creditor
    from confirma_pipeline.defs.backfill import ClientBackfillConfig, backfill_request
    from confirma_pipeline.run.context import RunContext

    config = _config(args)
    request = backfill_request(ClientBackfillConfig(**config))
    check_creditor(RunContext(None), args.creditor_id)
    if args.dry_run:
        return _preview(request)
    print(
        f"backfilling client {args.creditor_id}: invoices of {request.invoice_window}, pulls of "
        f"{request.pull_window}, historical policy {request.policy}"
        + (", adopting what Confirma has" if request.adopt_existing else "")
        + " in one run ...",
        flush=True,
    )
    with _instance() as instance:
        result = _job("client_backfill").execute_in_process(
            run_config={"ops": {"backfill_one_client": {"config": config}}},
            instance=instance,
            tags={"confirma/creditor_id": args.creditor_id},
            raise_on_error=False,
        )
    for line in outcome_lines(result):
        print(line)
    print(f"run {result.run_id}: {'succeeded' if result.success else 'FAILED'}")
    return 0 if result.success else 3  # ExitCode.PARTIAL: the run failed (see its steps in the UI)


def outcome_lines(result) -> list[str]:
    """The clerk's summary of a `client_backfill` run, from its own metadata: adopted / sent / refused /
    rejected, and the numbers Confirma has with no source row. Used by the CLI and the demo."""
    if not result.success:
        return []
    lines = []
    for mat in result.asset_materializations_for_node("backfill_one_client")[:1]:
        meta = {k: v.value for k, v in mat.metadata.items()}
        lines.append(
            f"adopted {meta.get('adopted', 0)}, sent {meta.get('sent', 0)}, "
            f"refused by the historical policy {meta.get('refused_by_policy', 0)}, "
            f"rejected by validation {meta.get('rejected_by_validation', 0)}"
        )
        if meta.get("orphan_distribution_records"):
            lines.append(
                f"at Confirma with no source row: {meta['orphan_distribution_records']} invoice number(s): "
                f"{meta.get('orphan_invoice_numbers', '')}"
            )
    return lines


def _range(args: argparse.Namespace) -> int:
    from confirma_pipeline.backfill import parse_window

    window = parse_window(args.date_from, args.date_to)
    print(
        f"re-pulling distribution, payments and settlements for {window}, all clients, in one run ...",
        flush=True,
    )
    with _instance() as instance:
        result = _job("pulled_data_backfill").execute_in_process(
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": window.start.isoformat(),
                "dagster/asset_partition_range_end": window.end.isoformat(),
            },
            raise_on_error=False,
        )
    print(f"run {result.run_id}: {'succeeded' if result.success else 'FAILED'}")
    return 0 if result.success else 3  # ExitCode.PARTIAL: the run failed (see its steps in the UI)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("backfill", help="backfill a historical client or a date range")
    kinds = parser.add_subparsers(dest="backfill_command", metavar="KIND", required=True)
    client = kinds.add_parser(
        "client", help="onboard one client, push its invoices and pull its data for a range"
    )
    client.add_argument("--creditor-id", required=True)
    client.add_argument(
        "--from",
        dest="date_from",
        required=True,
        help="first invoice date, YYYY-MM-DD (pulls start here too)",
    )
    client.add_argument(
        "--to", dest="date_to", required=True, help="last invoice date, YYYY-MM-DD (inclusive)"
    )
    client.add_argument(
        "--pull-to", help="last day of distribution, payments and settlements to pull (default: today)"
    )
    client.add_argument(
        "--adopt-existing",
        action="store_true",
        help="register invoices Confirma already has as submitted (origin 'adopted'), without sending them",
    )
    client.add_argument(
        "--historical-policy",
        default="refuse",
        metavar="refuse|no-distribution|as-is",
        help="invoices whose due date passed: refuse (default; listed with the reason), no-distribution "
        "(sent with distribution and payment control off: no mail, no reminders), as-is (the buyer is mailed)",
    )
    client.add_argument(
        "--historical-after-days",
        type=int,
        help="also treat invoices dated more than N days ago as historical",
    )
    client.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be adopted, sent, refused and rejected, and the API calls; send and write nothing",
    )
    client.set_defaults(func=_client)
    span = kinds.add_parser(
        "range", help="re-pull payments, settlements and distribution of a range, all clients"
    )
    span.add_argument("--from", dest="date_from", required=True)
    span.add_argument("--to", dest="date_to", required=True)
    span.set_defaults(func=_range)
