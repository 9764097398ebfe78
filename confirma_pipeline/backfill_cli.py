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


def _client(args: argparse.Namespace) -> int:
    from confirma_pipeline.backfill import check_creditor, parse_window

    window = parse_window(args.date_from, args.date_to)
    check_creditor(None, args.creditor_id)
    print(f"backfilling client {args.creditor_id} for {window} in one run ...", flush=True)
    config = {
        "creditor_id": args.creditor_id,
        "date_from": window.start.isoformat(),
        "date_to": window.end.isoformat(),
    }
    with _instance() as instance:
        result = _job("client_backfill").execute_in_process(
            run_config={"ops": {"backfill_one_client": {"config": config}}},
            instance=instance,
            tags={"confirma/creditor_id": args.creditor_id},
            raise_on_error=False,
        )
    print(f"run {result.run_id}: {'succeeded' if result.success else 'FAILED'}")
    return 0 if result.success else 1


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
    return 0 if result.success else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("backfill", help="backfill a historical client or a date range")
    kinds = parser.add_subparsers(dest="backfill_command", metavar="KIND", required=True)
    client = kinds.add_parser(
        "client", help="onboard one client, push its invoices and pull its data for a range"
    )
    client.add_argument("--creditor-id", required=True)
    client.add_argument("--from", dest="date_from", required=True, help="YYYY-MM-DD (inclusive)")
    client.add_argument("--to", dest="date_to", required=True, help="YYYY-MM-DD (inclusive)")
    client.set_defaults(func=_client)
    span = kinds.add_parser(
        "range", help="re-pull payments, settlements and distribution of a range, all clients"
    )
    span.add_argument("--from", dest="date_from", required=True)
    span.add_argument("--to", dest="date_to", required=True)
    span.set_defaults(func=_range)
