"""Reading `confirma.row_status` (migrations 0005, 0014): per row, its state and every open reason.

Why here: the view is the one place that answers "why was this row (not) sent?"; `confirma-pipeline status`
formats what these functions return, and like every statement they live below `warehouse/`.
"""

from __future__ import annotations

import psycopg

COLUMNS = (
    "entity", "entity_key", "creditor_id", "state", "open_reasons", "http_status", "attempts", "first_seen_at",
    "last_seen_at", "last_run_id",
)  # fmt: skip


def _fetch(conn: psycopg.Connection, where: str, params: tuple) -> list[dict]:
    rows = conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM confirma.row_status WHERE {where} ORDER BY entity, entity_key",  # noqa: S608
        params,
    ).fetchall()
    return [dict(zip(COLUMNS, r, strict=True)) for r in rows]


def invoice_rows(conn: psycopg.Connection, invoice_id: str) -> list[dict]:
    """The invoice's row and those of its invoice rows (keys `invoice_id/row`)."""
    return _fetch(
        conn,
        "(entity = 'invoice' AND entity_key = %s) OR (entity = 'invoice_row' AND entity_key LIKE %s)",
        (invoice_id, invoice_id.replace("%", r"\%").replace("_", r"\_") + "/%"),
    )


def action_rows(conn: psycopg.Connection, action_id: str) -> list[dict]:
    """The invoice action's row (migration 0014)."""
    return _fetch(conn, "entity = 'invoice_action' AND entity_key = %s", (action_id,))


def creditor_rows(conn: psycopg.Connection, creditor_id: str) -> list[dict]:
    """The creditor's own row."""
    return _fetch(conn, "entity = 'creditor' AND entity_key = %s", (creditor_id,))


def invoice_state_counts(conn: psycopg.Connection, creditor_id: str) -> list[tuple[str, int]]:
    """(state, count) of the creditor's invoices."""
    return conn.execute(
        "SELECT state, count(*) FROM confirma.row_status WHERE entity = 'invoice' AND creditor_id = %s "
        "GROUP BY state ORDER BY state",
        (creditor_id,),
    ).fetchall()


def unsent_invoices(conn: psycopg.Connection, creditor_id: str, limit: int = 10) -> list[tuple]:
    """(entity_key, state, first open reason) of the creditor's invoices not submitted, the first `limit`."""
    return conn.execute(
        "SELECT entity_key, state, open_reasons[1] FROM confirma.row_status WHERE entity = 'invoice' "
        "AND creditor_id = %s AND state <> 'submitted' ORDER BY entity_key LIMIT %s",
        (creditor_id, limit),
    ).fetchall()
