"""The inbox repository: raw API answers kept in `confirma.api_inbox` before they are parsed.

Why: an answer the API will not give again (settlements, once fetched, are marked fetched at Confirma) is
committed here in its own transaction before anything can fail, then processed; a failed or interrupted run
leaves it unprocessed and the next run picks it up. The settlements pull (pull/settlements.py) uses these
functions; the SQL lives here, with the other tables' (issue #12: all SQL goes through warehouse/).
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

#: the kind of the settlements answers (the one kind kept today)
SETTLEMENTS = "settlements"

# Raw answers fetched but not yet written (leftovers of an interrupted or failed run), oldest first.
_PENDING = """
SELECT id, creditor_id FROM confirma.api_inbox
WHERE kind = %(kind)s AND processed_at IS NULL
  AND (%(ids)s::text[] IS NULL OR creditor_id = ANY(%(ids)s::text[]))
ORDER BY id
"""
# An older unprocessed answer of the same client whose settlements are all in the tables now (written from a
# newer answer, e.g. a date-range rerun) is superseded: the newer answer is the API's later word.
_SUPERSEDE_OLDER = """
UPDATE confirma.api_inbox i
SET processed_at = now(), last_error = 'superseded by inbox answer ' || %(id)s::text
WHERE i.kind = %(kind)s AND i.processed_at IS NULL
  AND i.creditor_id = %(creditor_id)s AND i.id < %(id)s
  AND jsonb_typeof(i.payload -> 'settlements') = 'array'
  AND jsonb_array_length(i.payload -> 'settlements') > 0
  AND NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(i.payload -> 'settlements') AS e
      WHERE NOT EXISTS (
          SELECT 1 FROM confirma.settlements s
          WHERE s.settlement_id = (e ->> 'settlementId')::bigint AND s.creditor_id = i.creditor_id
      )
  )
"""


def pending(conn: psycopg.Connection, kind: str, creditor_ids: Sequence[str] | None) -> list[tuple[int, str]]:
    """(inbox id, creditor id) of the unprocessed answers of `kind` (of these clients; None: all)."""
    return conn.execute(_PENDING, {"kind": kind, "ids": creditor_ids}).fetchall()


def keep(conn: psycopg.Connection, creditor_id: str, kind: str, payload: str) -> int:
    """Store a raw answer (JSON text); returns its inbox id. Run it in its own committed transaction."""
    return conn.execute(
        "INSERT INTO confirma.api_inbox (creditor_id, kind, payload) VALUES (%s, %s, %s::jsonb) RETURNING id",
        (creditor_id, kind, payload),
    ).fetchone()[0]


def claim(conn: psycopg.Connection, inbox_id: int) -> str | None:
    """Lock one unprocessed answer for the caller's transaction and return its JSON text; None when it was
    processed meanwhile or another run holds it (skipped, not waited for)."""
    row = conn.execute(
        "SELECT payload::text FROM confirma.api_inbox WHERE id = %s AND processed_at IS NULL "
        "FOR UPDATE SKIP LOCKED",
        (inbox_id,),
    ).fetchone()
    return None if row is None else row[0]


def mark_processed(conn: psycopg.Connection, inbox_id: int) -> None:
    conn.execute(
        "UPDATE confirma.api_inbox SET processed_at = now(), last_error = NULL WHERE id = %s", (inbox_id,)
    )


def supersede_older(conn: psycopg.Connection, inbox_id: int, kind: str, creditor_id: str) -> int:
    """Mark processed the client's older unprocessed answers now fully written (see _SUPERSEDE_OLDER)."""
    params = {"id": inbox_id, "kind": kind, "creditor_id": creditor_id}
    return conn.execute(_SUPERSEDE_OLDER, params).rowcount


def mark_error(conn: psycopg.Connection, inbox_id: int, error: str) -> None:
    """Record why an answer could not be processed (it stays unprocessed, for the next run)."""
    conn.execute(
        "UPDATE confirma.api_inbox SET last_error = %s WHERE id = %s AND processed_at IS NULL",
        (error, inbox_id),
    )


def still_pending(conn: psycopg.Connection, inbox_ids: Sequence[int]) -> set[int]:
    rows = conn.execute(
        "SELECT id FROM confirma.api_inbox WHERE id = ANY(%s::bigint[]) AND processed_at IS NULL",
        (list(inbox_ids),),
    ).fetchall()
    return {row[0] for row in rows}


def prune(conn: psycopg.Connection, kind: str, days: int) -> int:
    """Drop processed answers older than `days` (an audit trail for a while); unprocessed ones never."""
    return conn.execute(
        "DELETE FROM confirma.api_inbox WHERE kind = %s AND processed_at IS NOT NULL "
        "AND processed_at < now() - make_interval(days => %s)",
        (kind, days),
    ).rowcount
