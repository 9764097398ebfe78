"""Warehouse-side checks of the pulled tables (plain functions over the `sql/pull` check queries; the Dagster
asset checks call them)."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from confirma_pipeline.paths import load_sql
from confirma_pipeline.warehouse.api_inbox import SETTLEMENTS


@dataclass(frozen=True)
class Finding:
    """How many rows fail a check, and a small sample of them (keys and amounts only)."""

    count: int
    sample: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.count == 0


def _finding(conn: psycopg.Connection, name: str, params: dict | None = None, limit: int = 20) -> Finding:
    with conn.cursor() as cur:
        cur.execute(load_sql(f"pull/{name}.sql"), params or {})
        names = [d.name for d in cur.description]
        rows = cur.fetchall()
    return Finding(len(rows), [dict(zip(names, r, strict=True)) for r in rows[:limit]])


def breakdown_mismatches(conn: psycopg.Connection) -> Finding:
    """Allocations whose breakdown items do not add up to the allocated total."""
    return _finding(conn, "settlement_breakdown_mismatch")


def settlement_amount_mismatches(conn: psycopg.Connection) -> Finding:
    """Settlements whose allocations do not add up to the settlement amount."""
    return _finding(conn, "settlement_amount_mismatch")


def unmatched_allocations(conn: psycopg.Connection) -> Finding:
    """Allocations whose original invoice number matches no invoice submitted by the same client."""
    return _finding(conn, "allocations_unmatched")


def unprocessed_settlement_answers(conn: psycopg.Connection) -> Finding:
    """Settlement answers fetched (so marked fetched by the API) but not written yet, per client."""
    found = _finding(conn, "inbox_unprocessed", {"kind": SETTLEMENTS})
    return Finding(sum(int(r["answers"]) for r in found.sample), found.sample)


def unusable_client_tokens(conn: psycopg.Connection) -> Finding:
    """Client tokens that are invalid or expired."""
    return _finding(conn, "credentials_problems")
