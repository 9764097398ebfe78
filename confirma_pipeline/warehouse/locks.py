"""Per-client advisory locks, so two runs (two processes, two machines) never push the same
client's rows at once. Session-level: held by one connection, released when it closes, also
when its process dies."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

# The first key of pg_try_advisory_lock(int, int): a namespace so our locks never collide with
# another application's on the same database. The second key is hashtext(creditor_id).
LOCK_NAMESPACE = 0x0C0F
# The locking connection's application_name carries the run id, so a run locked out of a client can say
# which run holds it (pg_locks -> pg_stat_activity).
APPLICATION_PREFIX = "confirma-push:"


def application_name(run_id: str | None) -> str:
    return f"{APPLICATION_PREFIX}{run_id or 'unknown'}"[:63]  # PostgreSQL truncates at 63 bytes


def holders(conn: psycopg.Connection, creditor_ids: Iterable[str]) -> dict[str, str]:
    """For each client locked by another session: the run id that session named (or its backend pid)."""
    ids = list(creditor_ids)
    if not ids:
        return {}
    rows = conn.execute(
        """
        SELECT id, a.application_name, a.pid
        FROM unnest(%s::text[]) AS id
        JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.classid = %s::oid AND l.objsubid = 2
         AND l.objid = (hashtext(id)::bigint & 4294967295)::text::oid
        JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE a.pid <> pg_backend_pid()
        """,
        (ids, LOCK_NAMESPACE),
    ).fetchall()
    out = {}
    for creditor_id, name, pid in rows:
        name = name or ""
        out[creditor_id] = (
            name[len(APPLICATION_PREFIX) :] if name.startswith(APPLICATION_PREFIX) else f"pid {pid}"
        )
    return {cid: out.get(cid, "a run that just finished") for cid in ids}


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
