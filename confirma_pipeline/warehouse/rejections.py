"""The rejected-rows table: every row that was not pushed, with which checks failed and why.

One row per (entity, key, content version): seeing the same bad row again the next night only
moves `last_seen_at`, so reruns do not multiply rejections. When a newer version of the same key
passes, the older rejections are marked resolved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class Rejection:
    entity: str  # creditor | invoice | invoice_row | api
    entity_key: str
    content_hash: str
    creditor_id: str | None
    checks: list[str]
    reason: str
    source: str = "validation"  # validation | api


_UPSERT = """
INSERT INTO confirma.rejected_rows
    (entity, entity_key, content_hash, creditor_id, checks, reason, source, run_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (entity, entity_key, content_hash) DO UPDATE
SET checks = EXCLUDED.checks, reason = EXCLUDED.reason, source = EXCLUDED.source,
    run_id = EXCLUDED.run_id, last_seen_at = now(), resolved_at = NULL
"""


def record_rejections(conn: psycopg.Connection, rejections: Iterable[Rejection], run_id: str | None) -> int:
    rows = [
        (r.entity, r.entity_key, r.content_hash, r.creditor_id, r.checks, r.reason, r.source, run_id)
        for r in rejections
    ]
    if rows:
        with conn.cursor() as cur:
            cur.executemany(_UPSERT, rows)
    return len(rows)


def resolve_rejections(conn: psycopg.Connection, entity: str, keys: Iterable[str]) -> int:
    """Mark open rejections of these keys resolved (a newer version passed or was accepted)."""
    keys = list(keys)
    if not keys:
        return 0
    cur = conn.execute(
        "UPDATE confirma.rejected_rows SET resolved_at = now() "
        "WHERE entity = %s AND entity_key = ANY(%s) AND resolved_at IS NULL",
        (entity, keys),
    )
    return cur.rowcount


def rejections_in_run(conn: psycopg.Connection, run_id: str, entities: Iterable[str], limit: int = 10):
    """(count, sample of (entity, key, checks, reason)) of rejections recorded by a run, by validation or the
    API; invoices only waiting for their creditor are not rejections."""
    entities = list(entities)
    waiting = list(WAITING_CHECKS)
    count = conn.execute(
        "SELECT count(*) FROM confirma.rejected_rows WHERE run_id = %s AND entity = ANY(%s) "
        "AND NOT checks <@ %s::text[]",
        (run_id, entities, waiting),
    ).fetchone()[0]
    sample = conn.execute(
        "SELECT entity, entity_key, checks, reason FROM confirma.rejected_rows "
        "WHERE run_id = %s AND entity = ANY(%s) AND NOT checks <@ %s::text[] ORDER BY entity, entity_key LIMIT %s",
        (run_id, entities, waiting, limit),
    ).fetchall()
    return count, sample


# --- rows no chunk ever reads: invoices of unknown / not onboarded creditors, orphan invoice rows ----------

CREDITOR_EXISTS_CHECK = "creditor_exists"
CREDITOR_ONBOARDED_CHECK = "creditor_onboarded"
ROW_HAS_INVOICE_CHECK = "row_belongs_to_an_invoice"
#: checks that mean "waiting", not "bad": not counted as rejections of a run
WAITING_CHECKS = (CREDITOR_ONBOARDED_CHECK,)

_WAITING_REASONS = """
WITH inv AS (
    SELECT i.invoice_id, i.creditor_id FROM {invoices} AS i
    WHERE (%(ids)s::text[] IS NULL OR i.creditor_id = ANY(%(ids)s::text[]))
      AND NOT EXISTS (SELECT 1 FROM confirma.invoice_ledger l WHERE l.invoice_id = i.invoice_id)
), cred AS (
    SELECT DISTINCT c.creditor_id FROM {creditors} AS c
), reg AS (
    SELECT c.creditor_id, c.state, c.last_error, t.status AS token_status
    FROM confirma.clients c LEFT JOIN confirma.client_tokens t USING (creditor_id)
), crej AS (
    SELECT entity_key, string_agg(reason, '; ' ORDER BY reason) AS reason FROM confirma.rejected_rows
    WHERE entity = 'creditor' AND resolved_at IS NULL GROUP BY entity_key
), verdict AS (
    SELECT inv.invoice_id, inv.creditor_id, cred.creditor_id IS NULL AS missing,
        CASE
            WHEN cred.creditor_id IS NULL THEN 'does not exist in ' || %(creditors)s
            WHEN crej.reason IS NOT NULL THEN 'waiting for its creditor, which was rejected: ' || crej.reason
            WHEN reg.state IS NULL OR reg.state = 'not_created' THEN 'waiting for its creditor, not yet onboarded'
            WHEN reg.state = 'in_flight' THEN 'waiting for its creditor, whose onboarding outcome is unknown'
            WHEN reg.state = 'failed' THEN 'waiting for its creditor, whose onboarding failed: '
                                           || coalesce(reg.last_error, 'no detail')
            WHEN reg.state = 'rejected' THEN 'waiting for its creditor, rejected by Confirma: '
                                             || coalesce(reg.last_error, 'no detail')
            WHEN reg.token_status IS NULL THEN 'waiting for its creditor, which has no stored token'
            WHEN reg.token_status = 'invalid' THEN 'waiting for its creditor, whose token is invalid'
        END AS detail
    FROM inv
    LEFT JOIN cred ON cred.creditor_id = inv.creditor_id
    LEFT JOIN reg ON reg.creditor_id = inv.creditor_id
    LEFT JOIN crej ON crej.entity_key = inv.creditor_id
)
INSERT INTO confirma.rejected_rows (entity, entity_key, content_hash, creditor_id, checks, reason, source, run_id)
SELECT 'invoice', invoice_id, '', creditor_id,
       ARRAY[CASE WHEN missing THEN 'creditor_exists' ELSE 'creditor_onboarded' END],
       'creditor ' || quote_literal(creditor_id) || ' ' || detail
           || CASE WHEN missing THEN ' (fails creditor_exists)' ELSE ' (fails creditor_onboarded)' END,
       'validation', %(run_id)s
FROM verdict WHERE detail IS NOT NULL
ON CONFLICT (entity, entity_key, content_hash) DO UPDATE
SET checks = EXCLUDED.checks, reason = EXCLUDED.reason, creditor_id = EXCLUDED.creditor_id,
    run_id = EXCLUDED.run_id, last_seen_at = now(), resolved_at = NULL
RETURNING checks[1] = 'creditor_exists'
"""

_ORPHAN_ROWS = """
INSERT INTO confirma.rejected_rows (entity, entity_key, content_hash, creditor_id, checks, reason, source, run_id)
SELECT DISTINCT 'invoice_row', r.invoice_id || '/' || r.row_number, '', NULL::text,
       ARRAY['row_belongs_to_an_invoice'],
       'invoice_id ' || quote_literal(r.invoice_id) || ' of row ' || r.row_number || ' is not an invoice in '
           || %(invoices)s || ' (fails row_belongs_to_an_invoice)',
       'validation', %(run_id)s
FROM {rows} AS r
WHERE NOT EXISTS (SELECT 1 FROM {invoices} AS i WHERE i.invoice_id = r.invoice_id)
ON CONFLICT (entity, entity_key, content_hash) DO UPDATE
SET reason = EXCLUDED.reason, run_id = EXCLUDED.run_id, last_seen_at = now(), resolved_at = NULL
"""


@dataclass(frozen=True)
class Unsent:
    """Rows no chunk reads, explained by `explain_unsent`."""

    creditor_missing: int = 0
    waiting_for_creditor: int = 0
    orphan_rows: int = 0


def explain_unsent(
    conn: psycopg.Connection,
    *,
    invoices: str,
    invoice_rows: str,
    creditors: str,
    creditor_ids: Iterable[str] | None,
    run_id: str | None,
) -> Unsent:
    """Give every invoice that will not be read (its creditor is unknown, rejected or not onboarded) and
    every orphan invoice row a reason in `confirma.rejected_rows`, in SQL (one statement each, however many
    rows). Reasons from earlier runs that no longer hold are resolved first; those that still hold keep
    their `first_seen_at`. Orphan rows are looked for only in unfiltered runs (a row without an invoice has
    no creditor to filter on)."""
    from psycopg import sql as _sql

    from confirma_pipeline.warehouse.source import relation_identifier

    ids = list(creditor_ids) if creditor_ids is not None else None
    params = {"ids": ids, "run_id": run_id, "creditors": creditors, "invoices": invoices}
    with conn.transaction():
        conn.execute(
            "UPDATE confirma.rejected_rows SET resolved_at = now() WHERE resolved_at IS NULL "
            "AND entity = 'invoice' AND content_hash = '' AND checks && %(checks)s "
            "AND (%(ids)s::text[] IS NULL OR creditor_id = ANY(%(ids)s::text[]))",
            {"ids": ids, "checks": [CREDITOR_EXISTS_CHECK, CREDITOR_ONBOARDED_CHECK]},
        )
        query = _sql.SQL(_WAITING_REASONS).format(
            invoices=relation_identifier(invoices), creditors=relation_identifier(creditors)
        )
        flags = [r[0] for r in conn.execute(query, params).fetchall()]
        orphans = 0
        if ids is None:
            conn.execute(
                "UPDATE confirma.rejected_rows SET resolved_at = now() WHERE resolved_at IS NULL "
                "AND entity = 'invoice_row' AND content_hash = '' AND checks = %(checks)s",
                {"checks": [ROW_HAS_INVOICE_CHECK]},
            )
            cur = conn.execute(
                _sql.SQL(_ORPHAN_ROWS).format(
                    rows=relation_identifier(invoice_rows), invoices=relation_identifier(invoices)
                ),
                params,
            )
            orphans = cur.rowcount
    missing = sum(1 for f in flags if f)
    return Unsent(missing, len(flags) - missing, max(orphans, 0))
