"""Our accounting submission ledger (`confirma.accounting_submissions`) and the sync status Confirma
reports back (`confirma.accounting_sync`).

The submission ledger is the exactly-once state machine for vouchers and accounting payments:
pending -> in_flight -> submitted | rejected | failed, keyed by (kind, creditor, identifier), where the
identifier is the creditor's own ledgerIdentifier / paymentIdentifier. Rows are committed `in_flight`
before their POST; a row found `in_flight` later was interrupted and is looked up by the status
endpoints (sourceIdentifier) before anything is sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import psycopg

from confirma_pipeline.api import contract as c

KINDS = ("ledger", "payment")


@dataclass(frozen=True)
class Item:
    kind: str
    creditor_id: str
    identifier: str
    item_date: date
    payload_hash: str


@dataclass(frozen=True)
class Outcome:
    identifier: str
    state: str  # submitted | rejected | failed | in_flight (unknown) | pending (not sent)
    error: str | None = None
    http_status: int | None = None


def ensure_pending(conn: psycopg.Connection, items: Sequence[Item], run_id: str | None) -> None:
    """Register items `pending`; an item the API refused is tried again only once its content changed."""
    if not items:
        return
    with conn.transaction():
        conn.execute(
            """
            INSERT INTO confirma.accounting_submissions AS s
                (kind, creditor_id, identifier, item_date, state, payload_hash, run_id)
            SELECT k, cid, ident, d, 'pending', h, %s
            FROM unnest(%s::text[], %s::text[], %s::text[], %s::date[], %s::text[]) AS n(k, cid, ident, d, h)
            ON CONFLICT (kind, creditor_id, identifier) DO UPDATE
            SET payload_hash = EXCLUDED.payload_hash, item_date = EXCLUDED.item_date, updated_at = now(),
                state = CASE WHEN s.state = 'rejected' THEN 'pending' ELSE s.state END,
                attempts = CASE WHEN s.state = 'rejected' THEN 0 ELSE s.attempts END
            WHERE s.state IN ('pending', 'failed', 'rejected') AND s.payload_hash <> EXCLUDED.payload_hash
            """,
            (
                run_id,
                [i.kind for i in items],
                [i.creditor_id for i in items],
                [i.identifier for i in items],
                [i.item_date for i in items],
                [i.payload_hash for i in items],
            ),
        )


def claim(
    conn: psycopg.Connection,
    kind: str,
    creditor_id: str,
    identifiers: Sequence[str],
    run_id: str | None,
    max_attempts: int,
) -> list[str]:
    """Commit these items `in_flight` (only those still pending, or failed with attempts left)."""
    if not identifiers:
        return []
    with conn.transaction():
        rows = conn.execute(
            """
            UPDATE confirma.accounting_submissions
            SET state = 'in_flight', attempts = attempts + 1, in_flight_since = now(), run_id = %s,
                updated_at = now()
            WHERE kind = %s AND creditor_id = %s AND identifier = ANY(%s::text[])
              AND (state = 'pending' OR (state = 'failed' AND attempts < %s))
            RETURNING identifier
            """,
            (run_id, kind, creditor_id, list(identifiers), max_attempts),
        ).fetchall()
    claimed = {r[0] for r in rows}
    return [i for i in identifiers if i in claimed]


def record_outcomes(
    conn: psycopg.Connection, kind: str, creditor_id: str, outcomes: Sequence[Outcome]
) -> None:
    """Commit answers for items held `in_flight`, in one statement."""
    if not outcomes:
        return
    with conn.transaction():
        conn.execute(
            """
            UPDATE confirma.accounting_submissions AS s
            SET state = o.state, last_error = o.error, last_http_status = o.http_status,
                in_flight_since = CASE WHEN o.state = 'in_flight' THEN s.in_flight_since END,
                submitted_at = CASE WHEN o.state = 'submitted' THEN coalesce(s.submitted_at, now())
                                    ELSE s.submitted_at END,
                attempts = CASE WHEN o.state = 'pending' THEN greatest(s.attempts - 1, 0) ELSE s.attempts END,
                updated_at = now()
            FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[]) AS o(identifier, state, error, http_status)
            WHERE s.kind = %s AND s.creditor_id = %s AND s.identifier = o.identifier AND s.state = 'in_flight'
            """,
            (
                [o.identifier for o in outcomes],
                [o.state for o in outcomes],
                [o.error for o in outcomes],
                [o.http_status for o in outcomes],
                kind,
                creditor_id,
            ),
        )


def in_flight(conn: psycopg.Connection, kind: str, creditor_id: str) -> list[tuple[str, date]]:
    """(identifier, item_date) of this client's items left `in_flight`."""
    return conn.execute(
        "SELECT identifier, item_date FROM confirma.accounting_submissions "
        "WHERE kind = %s AND creditor_id = %s AND state = 'in_flight' ORDER BY identifier",
        (kind, creditor_id),
    ).fetchall()


def state_counts(
    conn: psycopg.Connection, creditor_ids: Sequence[str] | None = None
) -> dict[tuple[str, str], int]:
    """(kind, state) -> count."""
    rows = conn.execute(
        "SELECT kind, state, count(*) FROM confirma.accounting_submissions "
        "WHERE %(ids)s::text[] IS NULL OR creditor_id = ANY(%(ids)s::text[]) GROUP BY kind, state",
        {"ids": list(creditor_ids) if creditor_ids is not None else None},
    ).fetchall()
    return {(k, s): n for k, s, n in rows}


def stuck(conn: psycopg.Connection, max_attempts: int) -> list[tuple]:
    """Items needing an operator: outcome unknown (in_flight) or failed with the attempt budget spent."""
    return conn.execute(
        """
        SELECT kind, creditor_id, identifier, state, attempts, last_error
        FROM confirma.accounting_submissions
        WHERE state = 'in_flight' OR (state = 'failed' AND attempts >= %s)
        ORDER BY kind, creditor_id, identifier
        """,
        (max_attempts,),
    ).fetchall()


# --- sync status --------------------------------------------------------------------------------------------


def status_window(conn: psycopg.Connection, kind: str, creditor_id: str) -> tuple[date, date] | None:
    """The item dates of this client's submitted items whose sync is not final yet (absent or pending):
    the one range a status pull must cover. None when nothing is waiting."""
    row = conn.execute(
        """
        SELECT min(s.item_date), max(s.item_date)
        FROM confirma.accounting_submissions s
        LEFT JOIN confirma.accounting_sync y
          ON y.creditor_id = s.creditor_id AND y.kind = s.kind AND y.source_identifier = s.identifier
        WHERE s.kind = %s AND s.creditor_id = %s AND s.state = 'submitted'
          AND (y.status IS NULL OR y.status = %s)
        """,
        (kind, creditor_id, c.SYNC_PENDING),
    ).fetchone()
    return None if row is None or row[0] is None else (row[0], row[1])


def upsert_sync(conn: psycopg.Connection, rows: Sequence[tuple]) -> tuple[int, int]:
    """Write sync statuses (see `mapping.accounting.sync_rows`); returns (inserted, changed)."""
    if not rows:
        return 0, 0
    columns = list(zip(*rows, strict=True))
    with conn.transaction():
        written = conn.execute(
            """
            INSERT INTO confirma.accounting_sync AS y
                (creditor_id, kind, source_identifier, document_name, invoice_number, document_status,
                 item_date, sync_date, status, status_text)
            SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                                 %s::date[], %s::date[], %s::int[], %s::text[])
            ON CONFLICT (creditor_id, kind, source_identifier) DO UPDATE
            SET document_name = EXCLUDED.document_name, invoice_number = EXCLUDED.invoice_number,
                document_status = EXCLUDED.document_status, item_date = EXCLUDED.item_date,
                sync_date = EXCLUDED.sync_date, status = EXCLUDED.status, status_text = EXCLUDED.status_text,
                fetched_at = now()
            WHERE (y.document_name, y.invoice_number, y.document_status, y.item_date, y.sync_date, y.status,
                   y.status_text)
                  IS DISTINCT FROM
                  (EXCLUDED.document_name, EXCLUDED.invoice_number, EXCLUDED.document_status, EXCLUDED.item_date,
                   EXCLUDED.sync_date, EXCLUDED.status, EXCLUDED.status_text)
            RETURNING (xmax = 0)
            """,
            [list(col) for col in columns],
        ).fetchall()
    inserted = sum(1 for (new,) in written if new)
    return inserted, len(written) - inserted


def failed_syncs(conn: psycopg.Connection) -> list[tuple]:
    """(kind, creditor_id, source_identifier, item_date, status_text) of items the target system refused,
    and of items with a status code we do not know (never read as success)."""
    return conn.execute(
        "SELECT kind, creditor_id, source_identifier, item_date, "
        "CASE WHEN status = %s THEN status_text ELSE 'unknown status ' || status || ': ' || "
        "coalesce(status_text, '') END FROM confirma.accounting_sync "
        "WHERE status NOT IN (%s, %s) ORDER BY kind, creditor_id, source_identifier",
        (c.SYNC_FAILED, c.SYNC_PENDING, c.SYNC_SYNCED),
    ).fetchall()


def pending_too_long(conn: psycopg.Connection, days: int) -> list[tuple]:
    """Submitted items not synced (pending, or not listed yet) more than `days` days after submission."""
    return conn.execute(
        """
        SELECT s.kind, s.creditor_id, s.identifier, s.submitted_at, coalesce(y.status_text, 'not listed yet')
        FROM confirma.accounting_submissions s
        LEFT JOIN confirma.accounting_sync y
          ON y.creditor_id = s.creditor_id AND y.kind = s.kind AND y.source_identifier = s.identifier
        WHERE s.state = 'submitted' AND (y.status IS NULL OR y.status = %s)
          AND s.submitted_at < now() - make_interval(days => %s)
        ORDER BY s.submitted_at
        """,
        (c.SYNC_PENDING, days),
    ).fetchall()


def status_summary(conn: psycopg.Connection) -> list[tuple]:
    """(kind, submission state, sync status text or '-', count): what `accounting status` prints."""
    return conn.execute(
        """
        SELECT s.kind, s.state,
               CASE WHEN s.state <> 'submitted' THEN '-'
                    WHEN y.status IS NULL THEN 'not listed yet'
                    WHEN y.status = %s THEN 'pending'
                    WHEN y.status = %s THEN 'synced'
                    WHEN y.status = %s THEN 'failed'
                    ELSE 'unknown status ' || y.status END,
               count(*)
        FROM confirma.accounting_submissions s
        LEFT JOIN confirma.accounting_sync y
          ON y.creditor_id = s.creditor_id AND y.kind = s.kind AND y.source_identifier = s.identifier
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        """,
        (c.SYNC_PENDING, c.SYNC_SYNCED, c.SYNC_FAILED),
    ).fetchall()
