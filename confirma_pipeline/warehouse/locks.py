"""Per-client advisory locks, so two runs (two processes, two machines) never push the same
client's rows at once. Session-level: held by one connection, released when it closes, also
when its process dies."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

# The first key of pg_try_advisory_lock(int, int): a namespace so our locks never collide with
# another application's on the same database. The second key is hashtext(creditor_id).
LOCK_NAMESPACE = 0x0C0F


def try_lock_clients(
    conn: psycopg.Connection, creditor_ids: Iterable[str], namespace: int = LOCK_NAMESPACE
) -> list[str]:
    """Try to lock each client; returns the ids this session now holds (others are busy). A push of
    another entity passes its own `namespace`, so it does not wait on the invoice push."""
    ids = list(creditor_ids)
    if not ids:
        return []
    rows = conn.execute(
        "SELECT id FROM unnest(%s::text[]) AS id WHERE pg_try_advisory_lock(%s, hashtext(id))",
        (ids, namespace),
    ).fetchall()
    if not conn.autocommit:
        conn.commit()
    return [r[0] for r in rows]


def unlock_clients(
    conn: psycopg.Connection, creditor_ids: Iterable[str], namespace: int = LOCK_NAMESPACE
) -> None:
    ids = list(creditor_ids)
    if ids:
        conn.execute(
            "SELECT pg_advisory_unlock(%s, hashtext(id)) FROM unnest(%s::text[]) AS id",
            (namespace, ids),
        )
        if not conn.autocommit:
            conn.commit()
