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
    """(count, sample of (entity, key, checks, reason)) of rejections recorded by a run."""
    entities = list(entities)
    count = conn.execute(
        "SELECT count(*) FROM confirma.rejected_rows WHERE run_id = %s AND entity = ANY(%s)",
        (run_id, entities),
    ).fetchone()[0]
    sample = conn.execute(
        "SELECT entity, entity_key, checks, reason FROM confirma.rejected_rows "
        "WHERE run_id = %s AND entity = ANY(%s) ORDER BY entity, entity_key LIMIT %s",
        (run_id, entities, limit),
    ).fetchall()
    return count, sample
