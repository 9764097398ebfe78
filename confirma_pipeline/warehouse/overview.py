"""What the warehouse holds, in counts an operator reads at a glance (the demo's closing summary).

Why here: these are read-only statements over the owned tables; like every statement they live below
`warehouse/`, and the local demo only prints what they return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class Overview:
    clients: dict[str, int]  # registry state -> count
    invoices: dict[str, int]  # submission ledger state -> count
    rejected: list[tuple]  # (entity, entity_key, reason) of open rejections
    row_status: list[tuple]  # (entity, state, count)
    not_sent: list[tuple]  # one example per state: (entity, entity_key, state, first open reason)
    payments: tuple[int, float]  # count, total amount
    settlements: tuple[int, float, int]  # count, total amount, allocations
    sync_runs: list[tuple]  # the given runs' rows of confirma.sync_runs


def overview(conn: psycopg.Connection, run_ids: Sequence[str]) -> Overview:
    """The counts of the whole warehouse, and the sync-run rows of `run_ids`."""
    payments, paid = conn.execute(
        "SELECT count(*), coalesce(sum(amount), 0) FROM confirma.payments"
    ).fetchone()
    settlements, settled = conn.execute(
        "SELECT count(*), coalesce(sum(settlement_amount), 0) FROM confirma.settlements"
    ).fetchone()
    allocations = conn.execute("SELECT count(*) FROM confirma.settlement_allocations").fetchone()[0]
    return Overview(
        clients=dict(conn.execute("SELECT state, count(*) FROM confirma.clients GROUP BY 1").fetchall()),
        invoices=dict(
            conn.execute("SELECT state, count(*) FROM confirma.invoice_ledger GROUP BY 1").fetchall()
        ),
        rejected=conn.execute(
            "SELECT entity, entity_key, reason FROM confirma.rejected_rows WHERE resolved_at IS NULL "
            "ORDER BY entity, entity_key"
        ).fetchall(),
        row_status=conn.execute(
            "SELECT entity, state, count(*) FROM confirma.row_status GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall(),
        not_sent=conn.execute(
            "SELECT DISTINCT ON (state) entity, entity_key, state, open_reasons[1] FROM confirma.row_status "
            "WHERE cardinality(open_reasons) > 0 ORDER BY state, entity_key"
        ).fetchall(),
        payments=(payments, float(paid)),
        settlements=(settlements, float(settled), allocations),
        sync_runs=conn.execute(
            "SELECT run_id, direction, entity, status, counts, api_calls, duration_s FROM confirma.sync_runs "
            "WHERE run_id = ANY(%s) ORDER BY id",
            (list(run_ids),),
        ).fetchall(),
    )
