"""Invoice actions in the warehouse: the input table (`confirma_source.invoice_actions`) and the action ledger
(`confirma.invoice_action_ledger`).

The ledger's states: waiting (valid, but its invoice is not submitted or has no case id yet) -> pending ->
in_flight (committed BEFORE the POST) -> sent | rejected (4xx, with the reason) | failed (transient, tried again
up to the attempt budget). An action is not idempotent, so an `in_flight` row is never put back to pending by
the pipeline: it is settled `sent` when the case details show its effect, or by an operator
(`confirma-pipeline actions resolve`). Rows already `sent` or `in_flight` are never rewritten from the source.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import psycopg
from psycopg import sql

from confirma_pipeline.validation.input_contract import ColumnSpec, _c
from confirma_pipeline.warehouse.source import copy_query_to_frame, relation_identifier, select_list

DEFAULT_ACTIONS = "confirma_source.invoice_actions"
STATES = ("waiting", "pending", "in_flight", "sent", "rejected", "failed")

_SN, _FN, _DN = _c("str", True), _c("float64", True), _c("date", True)
#: the input contract of confirma_source.invoice_actions (see validation/input_contract.py for the dtype kinds)
ACTIONS_CONTRACT: dict[str, ColumnSpec] = {
    "action_id": _c("str"),
    "invoice_id": _c("str"),
    "code": _c("str"),
    "comment": _SN,
    "due_date": _DN,
    "payment_method": _SN,
    "amount": _FN,
    "currency": _SN,
    "payment_date": _DN,
    "reference": _SN,
    "outstanding_capital_amount": _FN,
    "outstanding_interest_amount": _FN,
    "outstanding_costs_amount": _FN,
    "updated_at": _c("timestamptz"),
}
#: what the submission ledger knows of the action's invoice (null when it was never submitted)
INVOICE_CONTEXT: dict[str, ColumnSpec] = {
    "creditor_id": _SN,
    "invoice_number": _c("Int64"),
    "case_id": _c("Int64"),
    "invoice_state": _SN,
}


def read_open_actions(
    conn: psycopg.Connection, relation: str = DEFAULT_ACTIONS, creditor_ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """Source actions not yet sent nor in flight, with their invoice's ledger context, in action_id order.

    Actions are few (a handful per client per night), so they are read whole, not chunked."""
    contract = {**ACTIONS_CONTRACT, **INVOICE_CONTEXT}
    query = sql.SQL(
        "SELECT {cols}, l.creditor_id, l.invoice_number, l.case_id, l.state AS invoice_state "
        "FROM {rel} AS a LEFT JOIN confirma.invoice_ledger l ON l.invoice_id = a.invoice_id "
        "WHERE NOT EXISTS (SELECT 1 FROM confirma.invoice_action_ledger x "
        "                  WHERE x.action_id = a.action_id AND x.state IN ('sent', 'in_flight')) "
        "AND ({ids}::text[] IS NULL OR l.creditor_id = ANY({ids}::text[])) "
        "ORDER BY a.action_id"
    ).format(
        cols=select_list("a", ACTIONS_CONTRACT),
        rel=relation_identifier(relation),
        ids=sql.Literal(list(creditor_ids) if creditor_ids is not None else None),
    )
    return copy_query_to_frame(conn, query, contract, what=relation)


@dataclass(frozen=True)
class ActionEntry:
    """A valid action as the ledger registers it: waiting (with the reason) or pending (with its body)."""

    action_id: str
    invoice_id: str
    creditor_id: str | None
    code: str
    invoice_number: int | None
    case_id: int | None
    waiting_reason: str | None
    payload: dict | None
    payload_hash: str | None


def register(conn: psycopg.Connection, entries: Sequence[ActionEntry], run_id: str | None) -> None:
    """Insert or refresh waiting/pending rows. A row in flight or sent is never touched; a row the API
    refused is sent again only once its body changed; a failed row keeps its attempts."""
    if not entries:
        return
    with conn.transaction():
        conn.execute(
            """
            INSERT INTO confirma.invoice_action_ledger AS l
                (action_id, invoice_id, creditor_id, code, invoice_number, case_id, state, waiting_reason,
                 payload, payload_hash, run_id)
            SELECT id, inv, cid, code, num, case_id,
                   CASE WHEN reason IS NULL THEN 'pending' ELSE 'waiting' END, reason, body::jsonb, ph, %s
            FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::text[],
                        %s::text[], %s::text[]) AS n(id, inv, cid, code, num, case_id, reason, body, ph)
            ON CONFLICT (action_id) DO UPDATE
            SET invoice_id = EXCLUDED.invoice_id, creditor_id = EXCLUDED.creditor_id, code = EXCLUDED.code,
                invoice_number = EXCLUDED.invoice_number, case_id = EXCLUDED.case_id,
                waiting_reason = EXCLUDED.waiting_reason, payload = EXCLUDED.payload,
                payload_hash = EXCLUDED.payload_hash, run_id = EXCLUDED.run_id, updated_at = now(),
                state = CASE WHEN EXCLUDED.waiting_reason IS NOT NULL THEN 'waiting'
                             WHEN l.state = 'failed' THEN 'failed' ELSE 'pending' END,
                attempts = CASE WHEN l.state = 'rejected' THEN 0 ELSE l.attempts END,
                last_error = CASE WHEN l.state = 'failed' THEN l.last_error END
            WHERE l.state IN ('waiting', 'pending', 'failed')
               OR (l.state = 'rejected' AND l.payload_hash IS DISTINCT FROM EXCLUDED.payload_hash)
            """,
            (
                run_id,
                [e.action_id for e in entries],
                [e.invoice_id for e in entries],
                [e.creditor_id for e in entries],
                [e.code for e in entries],
                [e.invoice_number for e in entries],
                [e.case_id for e in entries],
                [e.waiting_reason for e in entries],
                [json.dumps(e.payload) if e.payload is not None else None for e in entries],
                [e.payload_hash for e in entries],
            ),
        )


@dataclass(frozen=True)
class ClaimedAction:
    action_id: str
    creditor_id: str
    invoice_number: int
    case_id: int
    code: str
    payload: dict


def claim(
    conn: psycopg.Connection, action_id: str, run_id: str | None, max_attempts: int
) -> ClaimedAction | None:
    """Commit one action `in_flight` (if still pending, or failed with attempts left) and return what to send."""
    with conn.transaction():
        row = conn.execute(
            """
            UPDATE confirma.invoice_action_ledger
            SET state = 'in_flight', attempts = attempts + 1, in_flight_since = now(), run_id = %s,
                updated_at = now()
            WHERE action_id = %s AND (state = 'pending' OR (state = 'failed' AND attempts < %s))
            RETURNING action_id, creditor_id, invoice_number, case_id, code, payload
            """,
            (run_id, action_id, max_attempts),
        ).fetchone()
    return ClaimedAction(*row) if row else None


def record_outcome(
    conn: psycopg.Connection,
    action_id: str,
    state: str,
    error: str | None = None,
    http_status: int | None = None,
    settled_by: str | None = None,
) -> None:
    """Commit the answer of an action this run holds `in_flight`."""
    with conn.transaction():
        conn.execute(
            """
            UPDATE confirma.invoice_action_ledger
            SET state = %(state)s, last_error = %(error)s, last_http_status = %(status)s,
                settled_by = coalesce(%(by)s, settled_by),
                in_flight_since = CASE WHEN %(state)s = 'in_flight' THEN in_flight_since END,
                sent_at = CASE WHEN %(state)s = 'sent' THEN now() ELSE sent_at END,
                attempts = CASE WHEN %(state)s = 'pending' THEN greatest(attempts - 1, 0) ELSE attempts END,
                updated_at = now()
            WHERE action_id = %(id)s AND state = 'in_flight'
            """,
            {"id": action_id, "state": state, "error": error, "status": http_status, "by": settled_by},
        )


def in_flight(conn: psycopg.Connection, creditor_ids: Sequence[str]) -> list[ClaimedAction]:
    rows = conn.execute(
        "SELECT action_id, creditor_id, invoice_number, case_id, code, payload "
        "FROM confirma.invoice_action_ledger WHERE state = 'in_flight' AND creditor_id = ANY(%s::text[]) "
        "ORDER BY action_id",
        (list(creditor_ids),),
    ).fetchall()
    return [ClaimedAction(*r) for r in rows]


def sendable(conn: psycopg.Connection, creditor_ids: Sequence[str], max_attempts: int) -> list[str]:
    """Action ids to send now, in action_id order (the order the creditor wrote them in)."""
    rows = conn.execute(
        "SELECT action_id FROM confirma.invoice_action_ledger "
        "WHERE creditor_id = ANY(%s::text[]) AND (state = 'pending' OR (state = 'failed' AND attempts < %s)) "
        "ORDER BY action_id",
        (list(creditor_ids), max_attempts),
    ).fetchall()
    return [r[0] for r in rows]


def creditors_with_work(conn: psycopg.Connection, creditor_ids: Sequence[str] | None) -> list[str]:
    """Creditors having actions pending, failed or in flight (the ones a run must lock)."""
    rows = conn.execute(
        "SELECT DISTINCT creditor_id FROM confirma.invoice_action_ledger "
        "WHERE state IN ('pending', 'failed', 'in_flight') AND creditor_id IS NOT NULL "
        "AND (%(ids)s::text[] IS NULL OR creditor_id = ANY(%(ids)s::text[])) ORDER BY 1",
        {"ids": list(creditor_ids) if creditor_ids is not None else None},
    ).fetchall()
    return [r[0] for r in rows]


def unsettled(conn: psycopg.Connection, max_attempts: int) -> list[tuple]:
    """Rows an operator must look at: in flight (outcome unknown), or failed with the attempt budget spent."""
    return conn.execute(
        "SELECT action_id, creditor_id, invoice_number, code, state, attempts, last_error "
        "FROM confirma.invoice_action_ledger "
        "WHERE state = 'in_flight' OR (state = 'failed' AND attempts >= %s) ORDER BY action_id",
        (max_attempts,),
    ).fetchall()


def list_actions(conn: psycopg.Connection, state: str | None = None) -> list[tuple]:
    return conn.execute(
        "SELECT action_id, code, creditor_id, invoice_number, case_id, state, attempts, settled_by, "
        "coalesce(waiting_reason, last_error) FROM confirma.invoice_action_ledger "
        "WHERE %(state)s::text IS NULL OR state = %(state)s ORDER BY action_id",
        {"state": state},
    ).fetchall()


def state_counts(conn: psycopg.Connection) -> dict[str, int]:
    return dict(
        conn.execute("SELECT state, count(*) FROM confirma.invoice_action_ledger GROUP BY state").fetchall()
    )


def resolve(conn: psycopg.Connection, action_id: str, *, sent: bool) -> str:
    """An operator settles an action whose outcome was unknown: sent (never sent again) or not sent (pending:
    the next run sends it). Only an `in_flight` row can be resolved; anything else raises LookupError."""
    with conn.transaction():
        row = conn.execute(
            "SELECT state FROM confirma.invoice_action_ledger WHERE action_id = %s FOR UPDATE", (action_id,)
        ).fetchone()
        if row is None:
            raise LookupError(f"no action {action_id!r} in the action ledger")
        if row[0] != "in_flight":
            raise LookupError(f"action {action_id!r} is {row[0]}, not in_flight: nothing to resolve")
        conn.execute(
            """
            UPDATE confirma.invoice_action_ledger
            SET state = %(state)s, settled_by = 'operator', in_flight_since = NULL, updated_at = now(),
                sent_at = CASE WHEN %(state)s = 'sent' THEN now() END,
                last_error = CASE WHEN %(state)s = 'pending' THEN 'resolved by an operator: not sent' END,
                attempts = CASE WHEN %(state)s = 'pending' THEN greatest(attempts - 1, 0) ELSE attempts END
            WHERE action_id = %(id)s
            """,
            {"id": action_id, "state": "sent" if sent else "pending"},
        )
    return "recorded as sent (never sent again)" if sent else "recorded as not sent (the next run sends it)"


def changed_invoices_with_case(conn: psycopg.Connection, invoices_relation: str) -> list[tuple]:
    """Invoices flagged "changed after submission", with what an action would need to carry the change:
    (invoice_id, creditor_id, number, case_id, source due date, case due date, case status)."""
    query = sql.SQL(
        "SELECT l.invoice_id, l.creditor_id, l.invoice_number, l.case_id, i.due_date, c.due_date, c.status "
        "FROM confirma.invoice_ledger l JOIN {rel} AS i ON i.invoice_id = l.invoice_id "
        "LEFT JOIN confirma.cases c ON c.case_id = l.case_id "
        "WHERE l.changed_after_submission ORDER BY l.creditor_id, l.invoice_number"
    ).format(rel=relation_identifier(invoices_relation))
    return conn.execute(query).fetchall()
