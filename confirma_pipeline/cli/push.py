"""`confirma-pipeline push [--dry-run]` and `confirma-pipeline clients resolve|list`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from contextlib import nullcontext

from confirma_pipeline.errors import ExitCode, OperatorError


def _print_report(report, show_reasons: bool = True) -> None:
    print(report.summary_line())
    for row in report.per_client_table():
        cid = row.pop("creditor_id")
        print(f"  {cid}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
    if show_reasons and report.rejected_sample:
        print("  rejected:")
        for entity, key, _checks, reason in report.rejected_sample:
            print(f"    {entity} {key}: {reason}")


def _shard(text: str):
    from confirma_pipeline.run.shard import Shard

    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _push(args: argparse.Namespace) -> int:
    from confirma_pipeline import settings
    from confirma_pipeline.push.invoices import push_invoices
    from confirma_pipeline.push.onboarding import onboard_clients
    from confirma_pipeline.run.context import RunContext
    from confirma_pipeline.warehouse.sync_runs import cli_run_id, sync_run

    creditor_ids = args.creditor_id or None
    if args.show and not args.dry_run:
        raise OperatorError("--show prints sample bodies of a dry run; add --dry-run")
    client = None if args.dry_run else settings.api_client()
    vault = settings.token_vault()
    run_id = cli_run_id()
    ctx = RunContext(None, client, vault, run_id=None if args.dry_run else run_id, creditor_ids=creditor_ids)
    common = dict(dry_run=args.dry_run, partner_code=settings.partner_code())
    steps = (
        ("client", lambda: onboard_clients(ctx, **common)),
        (
            "invoice",
            lambda: push_invoices(
                ctx,
                **common,
                date_from=args.date_from,
                date_to=args.date_to,
                show=args.show,
                shard=args.shard,
            ),
        ),
    )
    reports = []
    try:
        for entity, push in steps:
            if args.only not in (None, f"{entity}s"):
                continue
            log_run = (
                nullcontext()
                if args.dry_run
                else sync_run(
                    None, run_id=run_id, job="confirma-pipeline push", entity=entity, direction="push"
                )
            )
            with log_run as run:
                report = push()
                if run is not None:
                    run.outcome(*report.sync_outcome())
            reports.append(report)
            _print_report(report)
            for body in getattr(report, "body_samples", ()):
                print(json.dumps(body, indent=2, ensure_ascii=False))
    finally:
        if client is not None:
            client.close()
    if not args.dry_run:
        print(f"run {run_id}: recorded in confirma.sync_runs")
    return _exit_code(reports, client)


def _exit_code(reports, client) -> ExitCode:
    """UNREACHABLE when requests were made and none reached the API; PARTIAL when rows need attention."""
    if client is not None and client.calls_made and not client.calls_reached:
        print(f"unreachable: none of {client.calls_made} request(s) reached the API at {client.base_url}")
        return ExitCode.UNREACHABLE
    left = sum(r.needs_attention() for r in reports)
    if left:
        print(
            f"partial: {left} row(s) failed (retried next run) or have an unknown outcome (see confirma.row_status)"
        )
        return ExitCode.PARTIAL
    return ExitCode.OK


def _resolve(args: argparse.Namespace) -> int:
    from confirma_pipeline.warehouse.connection import connect
    from confirma_pipeline.warehouse.registry import resolve_in_flight

    if (args.client_identifier is None) == (not args.not_created):
        raise OperatorError("give exactly one of --client-identifier N or --not-created")
    with connect() as conn:
        try:
            message = resolve_in_flight(
                conn, args.creditor_id, client_identifier=args.client_identifier, not_created=args.not_created
            )
        except LookupError as exc:
            raise OperatorError(str(exc)) from None
    print(f"creditor {args.creditor_id}: {message}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from confirma_pipeline.warehouse.connection import connect
    from confirma_pipeline.warehouse.registry import list_clients

    with connect() as conn:
        rows = list_clients(conn)
    for cid, state, ident, attempts, token_status, error in rows:
        print(f"{cid}\t{state}\tclient={ident}\tattempts={attempts}\ttoken={token_status}\t{error or ''}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    push = subparsers.add_parser("push", help="onboard new creditors and submit invoices (outside Dagster)")
    push.add_argument("--dry-run", action="store_true", help="validate and map only; send and write nothing")
    push.add_argument("--creditor-id", action="append", help="limit to this creditor (repeatable)")
    push.add_argument("--only", choices=["clients", "invoices"], default=None)
    push.add_argument(
        "--from",
        dest="date_from",
        type=dt.date.fromisoformat,
        help="only invoices dated on or after (YYYY-MM-DD)",
    )
    push.add_argument(
        "--to",
        dest="date_to",
        type=dt.date.fromisoformat,
        help="only invoices dated on or before (YYYY-MM-DD)",
    )
    push.add_argument(
        "--show",
        type=int,
        default=0,
        metavar="N",
        help="dry run: print N sample bodies, personal fields masked",
    )
    push.add_argument(
        "--shard",
        type=_shard,
        default=None,
        metavar="I/K",
        help="invoices of shard I of K only (0-based; clients by a stable hash of creditor_id): "
        "K processes or pods split a large night",
    )
    push.set_defaults(func=_push)

    clients = subparsers.add_parser("clients", help="inspect and settle the client registry")
    actions = clients.add_subparsers(dest="clients_command", metavar="ACTION", required=True)
    resolve = actions.add_parser("resolve", help="settle a client whose creation outcome is unknown")
    resolve.add_argument("--creditor-id", required=True)
    resolve.add_argument("--client-identifier", type=int, default=None, help="it was created, with this id")
    resolve.add_argument("--not-created", action="store_true", help="it was not created; send it again")
    resolve.set_defaults(func=_resolve)
    actions.add_parser("list", help="list clients and their states").set_defaults(func=_list)
