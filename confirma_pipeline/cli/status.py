"""`confirma-pipeline status --invoice-id ID | --creditor-id ID | --action-id ID`: why was this row (not) sent?

Reads `confirma.row_status` (migrations 0005, 0014), the one place that answers it: state, every open reason, HTTP
status, attempts, first and last seen, last run id."""

from __future__ import annotations

import argparse

from confirma_pipeline.errors import OperatorError


def format_status(row: dict) -> list[str]:
    """A row_status row as the lines an operator reads."""
    who = f" (creditor {row['creditor_id']})" if row["creditor_id"] and row["entity"] != "creditor" else ""
    lines = [f"{row['entity']} {row['entity_key']}{who}: {row['state']}"]
    detail = [f"attempts {row['attempts']}"]
    if row["http_status"] is not None:
        detail.insert(0, f"HTTP {row['http_status']}")
    lines.append("  " + ", ".join(detail))
    lines.append(
        f"  first seen {row['first_seen_at']:%Y-%m-%d %H:%M:%S}, last seen {row['last_seen_at']:%Y-%m-%d %H:%M:%S}"
        + (f", last run {row['last_run_id']}" if row["last_run_id"] else "")
    )
    for reason in row["open_reasons"] or []:
        lines.append(f"  - {reason}")
    return lines


def _one_row(rows, what: str) -> list[str]:
    """The status lines of one invoice or action, or why the pipeline has none."""
    if not rows:
        return [
            f"{what}: not seen by the pipeline (no ledger row, no open reason): it is not in the source, or no "
            "push ran since it was added"
        ]
    return [line for row in rows for line in format_status(row)]


def status_lines(
    conn, *, invoice_id: str | None = None, creditor_id: str | None = None, action_id: str | None = None
) -> list[str]:
    from confirma_pipeline.warehouse import row_status

    if action_id is not None:
        return _one_row(row_status.action_rows(conn, action_id), f"invoice action {action_id}")
    if invoice_id is not None:
        return _one_row(row_status.invoice_rows(conn, invoice_id), f"invoice {invoice_id}")
    rows = row_status.creditor_rows(conn, creditor_id)
    lines = [line for row in rows for line in format_status(row)] or [
        f"creditor {creditor_id}: not seen by the pipeline (no registry row, no open reason)"
    ]
    counts = row_status.invoice_state_counts(conn, creditor_id)
    if counts:
        lines.append("  invoices: " + ", ".join(f"{state} {n}" for state, n in counts))
    unsent = row_status.unsent_invoices(conn, creditor_id)
    for key, state, reason in unsent:
        lines.append(f"    {key}: {state}" + (f": {reason}" if reason else ""))
    return lines


def _status(args: argparse.Namespace) -> int:
    from confirma_pipeline.warehouse.connection import connect

    given = {"invoice_id": args.invoice_id, "creditor_id": args.creditor_id, "action_id": args.action_id}
    if sum(v is not None for v in given.values()) != 1:
        raise OperatorError("give exactly one of --invoice-id ID, --creditor-id ID or --action-id ID")
    with connect() as conn:
        for line in status_lines(conn, **given):
            print(line)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status",
        help="why was this invoice, creditor or invoice action (not) sent: state and every open reason",
    )
    parser.add_argument("--invoice-id", help="an invoice_id of the invoices relation")
    parser.add_argument("--creditor-id", help="a creditor_id of the creditors relation")
    parser.add_argument("--action-id", help="an action_id of the invoice actions relation")
    parser.set_defaults(func=_status)
