"""`confirma-pipeline status --invoice-id ID | --creditor-id ID`: why was this row (not) sent?

Reads `confirma.row_status` (migration 0005), the one place that answers it: state, every open reason, HTTP
status, attempts, first and last seen, last run id."""

from __future__ import annotations

import argparse

from confirma_pipeline.errors import OperatorError

COLUMNS = (
    "entity", "entity_key", "creditor_id", "state", "open_reasons", "http_status", "attempts", "first_seen_at",
    "last_seen_at", "last_run_id",
)  # fmt: skip


def _fetch(conn, where: str, params: tuple) -> list[dict]:
    rows = conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM confirma.row_status WHERE {where} ORDER BY entity, entity_key",  # noqa: S608
        params,
    ).fetchall()
    return [dict(zip(COLUMNS, r, strict=True)) for r in rows]


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


def status_lines(conn, *, invoice_id: str | None = None, creditor_id: str | None = None) -> list[str]:
    if invoice_id is not None:
        rows = _fetch(
            conn,
            "(entity = 'invoice' AND entity_key = %s) OR (entity = 'invoice_row' AND entity_key LIKE %s)",
            (invoice_id, invoice_id.replace("%", r"\%").replace("_", r"\_") + "/%"),
        )
        if not rows:
            return [
                f"invoice {invoice_id}: not seen by the pipeline (no ledger row, no open reason): it is not in "
                "the source, or no push ran since it was added"
            ]
        return [line for row in rows for line in format_status(row)]
    rows = _fetch(conn, "entity = 'creditor' AND entity_key = %s", (creditor_id,))
    lines = [line for row in rows for line in format_status(row)] or [
        f"creditor {creditor_id}: not seen by the pipeline (no registry row, no open reason)"
    ]
    counts = conn.execute(
        "SELECT state, count(*) FROM confirma.row_status WHERE entity = 'invoice' AND creditor_id = %s "
        "GROUP BY state ORDER BY state",
        (creditor_id,),
    ).fetchall()
    if counts:
        lines.append("  invoices: " + ", ".join(f"{state} {n}" for state, n in counts))
    unsent = conn.execute(
        "SELECT entity_key, state, open_reasons[1] FROM confirma.row_status WHERE entity = 'invoice' "
        "AND creditor_id = %s AND state <> 'submitted' ORDER BY entity_key LIMIT 10",
        (creditor_id,),
    ).fetchall()
    for key, state, reason in unsent:
        lines.append(f"    {key}: {state}" + (f": {reason}" if reason else ""))
    return lines


def _status(args: argparse.Namespace) -> int:
    from confirma_pipeline.warehouse.connection import connect

    if (args.invoice_id is None) == (args.creditor_id is None):
        raise OperatorError("give exactly one of --invoice-id ID or --creditor-id ID")
    with connect() as conn:
        for line in status_lines(conn, invoice_id=args.invoice_id, creditor_id=args.creditor_id):
            print(line)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status", help="why was this invoice or creditor (not) sent: state and every open reason"
    )
    parser.add_argument("--invoice-id", help="an invoice_id of the invoices relation")
    parser.add_argument("--creditor-id", help="a creditor_id of the creditors relation")
    parser.set_defaults(func=_status)
