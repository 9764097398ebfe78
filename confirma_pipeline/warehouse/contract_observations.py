"""`confirma.api_contract_observations`: contract drift counted per endpoint and field path (api/drift.py)."""

from __future__ import annotations

from collections.abc import Mapping

import psycopg


def record(conn: psycopg.Connection, counts: Mapping[tuple[str, str, str, str], int]) -> None:
    """Add this run's counts (endpoint, field path, kind, JSON type) -> answers."""
    if not counts:
        return
    keys = list(counts)
    with conn.transaction():
        conn.execute(
            """
            INSERT INTO confirma.api_contract_observations AS o (endpoint, field_path, kind, json_type, answers)
            SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[])
            ON CONFLICT (endpoint, field_path, kind, json_type)
            DO UPDATE SET answers = o.answers + EXCLUDED.answers, last_seen_at = now()
            """,
            (
                [k[0] for k in keys],
                [k[1] for k in keys],
                [k[2] for k in keys],
                [k[3] for k in keys],
                [counts[k] for k in keys],
            ),
        )


def recent(conn: psycopg.Connection, kind: str | None = None, days: int = 2) -> list[tuple]:
    """(endpoint, field_path, kind, json_type, answers) seen in the last `days` days."""
    return conn.execute(
        "SELECT endpoint, field_path, kind, json_type, answers FROM confirma.api_contract_observations "
        "WHERE last_seen_at > now() - make_interval(days => %s) AND (%s::text IS NULL OR kind = %s::text) "
        "ORDER BY kind DESC, endpoint, field_path",
        (days, kind, kind),
    ).fetchall()
