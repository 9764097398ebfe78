"""Cheap questions the sensors ask the warehouse (a count and a max, never frames)."""

from __future__ import annotations

import psycopg
from psycopg import sql

from confirma_pipeline.warehouse.source import relation_identifier


def creditors_awaiting_onboarding(conn: psycopg.Connection, relation: str) -> tuple[int, str | None]:
    """(how many creditors have no client yet, the latest updated_at among them)."""
    row = conn.execute(
        sql.SQL(
            "SELECT count(*), max(c.updated_at)::text FROM {} AS c "
            "WHERE NOT EXISTS (SELECT 1 FROM confirma.clients AS r WHERE r.creditor_id = c.creditor_id "
            "AND r.state IN ('created', 'imported', 'in_flight', 'rejected'))"
        ).format(relation_identifier(relation))
    ).fetchone()
    return int(row[0]), row[1]
