"""The client registry (`confirma.clients`): creditor -> Confirma client, and its push state.

Client creation has no look-up in the API and no idempotency key, so the state machine is
strict: a creditor is claimed `in_flight` in a committed transaction before the POST, and an
`in_flight` row is never resent automatically. An operator settles it with
`confirma-pipeline clients resolve` (created with a known identifier, or not created).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

# States from which onboarding may (re)send, enforced in `claim_for_onboarding`: failed transiently,
# refused by the API (only when the content changed, checked by the caller), or settled "not
# created" by an operator.
DONE_STATES = ("created", "imported")


@dataclass(frozen=True)
class RegistryRow:
    creditor_id: str
    state: str
    client_identifier: int | None
    content_hash: str | None
    attempts: int


def load_registry(conn: psycopg.Connection, creditor_ids: list[str] | None = None) -> dict[str, RegistryRow]:
    rows = conn.execute(
        "SELECT creditor_id, state, client_identifier, content_hash, attempts FROM confirma.clients "
        "WHERE %(ids)s::text[] IS NULL OR creditor_id = ANY(%(ids)s::text[])",
        {"ids": creditor_ids},
    ).fetchall()
    return {r[0]: RegistryRow(*r) for r in rows}


def claim_for_onboarding(
    conn: psycopg.Connection, creditor_id: str, content_hash: str, run_id: str | None, max_attempts: int
) -> bool:
    """Commit the creditor as `in_flight` before its POST. False when another run holds it, it is
    already done/in flight, or its attempt budget is spent. The row lock taken by the upsert
    serializes concurrent runs: the loser re-checks the WHERE against the winner's state."""
    with conn.transaction():
        row = conn.execute(
            """
            INSERT INTO confirma.clients (creditor_id, state, content_hash, attempts, in_flight_since, run_id)
            VALUES (%(id)s, 'in_flight', %(hash)s, 1, now(), %(run)s)
            ON CONFLICT (creditor_id) DO UPDATE
            SET state = 'in_flight', content_hash = EXCLUDED.content_hash,
                attempts = confirma.clients.attempts + 1, in_flight_since = now(),
                run_id = EXCLUDED.run_id, updated_at = now()
            WHERE confirma.clients.state IN ('failed', 'rejected', 'not_created')
              AND confirma.clients.attempts < %(max)s
            RETURNING creditor_id
            """,
            {"id": creditor_id, "hash": content_hash, "run": run_id, "max": max_attempts},
        ).fetchone()
    return row is not None


def in_flight_elsewhere(
    conn: psycopg.Connection, creditor_ids: list[str], run_id: str | None
) -> dict[str, str]:
    """Of these creditors, those another run holds `in_flight` (being created right now, or left unknown by a
    run that died): creditor_id -> that run's id."""
    rows = conn.execute(
        "SELECT creditor_id, coalesce(run_id, 'unknown') FROM confirma.clients "
        "WHERE creditor_id = ANY(%s::text[]) AND state = 'in_flight' AND run_id IS DISTINCT FROM %s",
        (creditor_ids, run_id),
    ).fetchall()
    return dict(rows)


def mark_created(
    conn: psycopg.Connection,
    creditor_id: str,
    *,
    client_identifier: int,
    customer_code: int | None,
    payment_reference_prefix: int | None,
) -> None:
    """Record the ids (the caller stores the token in the same transaction)."""
    conn.execute(
        """
        UPDATE confirma.clients
        SET state = 'created', client_identifier = %s, customer_code = %s, payment_reference_prefix = %s,
            last_error = NULL, in_flight_since = NULL, updated_at = now()
        WHERE creditor_id = %s
        """,
        (client_identifier, customer_code, payment_reference_prefix, creditor_id),
    )


def mark_outcome(conn: psycopg.Connection, creditor_id: str, state: str, error: str | None) -> None:
    """Record a non-success outcome: rejected (4xx), failed (transient) or in_flight (unknown)."""
    with conn.transaction():
        conn.execute(
            "UPDATE confirma.clients SET state = %s, last_error = %s, updated_at = now(), "
            "in_flight_since = CASE WHEN %s = 'in_flight' THEN in_flight_since END "
            "WHERE creditor_id = %s",
            (state, error, state, creditor_id),
        )


def resolve_in_flight(
    conn: psycopg.Connection, creditor_id: str, *, client_identifier: int | None, not_created: bool
) -> str:
    """Operator settles an `in_flight` (or failed) client; returns what happened, for the CLI.

    `not_created`: the POST never created a client, so the next run may send it again.
    `client_identifier`: it was created. Its token was returned only in the lost answer, so
    unless one is already stored the client stays blocked until `tokens import` stores it."""
    with conn.transaction():
        row = conn.execute(
            "SELECT state FROM confirma.clients WHERE creditor_id = %s FOR UPDATE", (creditor_id,)
        ).fetchone()
        if row is None:
            raise LookupError(f"creditor {creditor_id!r} is not in the client registry")
        if not_created:
            conn.execute(
                "UPDATE confirma.clients SET state = 'not_created', attempts = 0, in_flight_since = NULL, "
                "last_error = 'resolved by operator: not created', updated_at = now() WHERE creditor_id = %s",
                (creditor_id,),
            )
            return "marked not created; the next onboarding run will send it again"
        has_token = conn.execute(
            "SELECT 1 FROM confirma.client_tokens WHERE creditor_id = %s", (creditor_id,)
        ).fetchone()
        state = "created" if has_token else "in_flight"
        note = None if has_token else "created at Confirma; import its token with `tokens import`"
        conn.execute(
            "UPDATE confirma.clients SET state = %s, client_identifier = %s, last_error = %s, "
            "in_flight_since = CASE WHEN %s = 'created' THEN NULL ELSE in_flight_since END, "
            "updated_at = now() WHERE creditor_id = %s",
            (state, client_identifier, note, state, creditor_id),
        )
    if has_token:
        return f"marked created as client {client_identifier}"
    return (
        f"recorded client {client_identifier}; still blocked until its token is imported "
        f"(confirma-pipeline tokens import --creditor-id {creditor_id})"
    )


def mark_imported(conn: psycopg.Connection, creditor_id: str, client_identifier: int | None) -> str:
    """Record a client onboarded by hand (`tokens import`): state `imported`, except that a row the pipeline
    created keeps `created`; returns the state. Raises psycopg's UniqueViolation when the identifier belongs
    to another creditor."""
    return conn.execute(
        """
        INSERT INTO confirma.clients (creditor_id, state, client_identifier)
        VALUES (%s, 'imported', %s)
        ON CONFLICT (creditor_id) DO UPDATE SET
            state = CASE WHEN clients.state = 'created' THEN clients.state ELSE 'imported' END,
            client_identifier = COALESCE(EXCLUDED.client_identifier, clients.client_identifier),
            in_flight_since = NULL,
            updated_at = now()
        RETURNING state
        """,
        (creditor_id, client_identifier),
    ).fetchone()[0]


def list_clients(conn: psycopg.Connection) -> list[tuple]:
    """(creditor_id, state, client_identifier, attempts, token status, last_error) of every client, for
    `clients list`."""
    return conn.execute(
        "SELECT c.creditor_id, c.state, c.client_identifier, c.attempts, t.status, c.last_error "
        "FROM confirma.clients c LEFT JOIN confirma.client_tokens t USING (creditor_id) ORDER BY 1"
    ).fetchall()


def list_credentials(conn: psycopg.Connection) -> list[tuple]:
    """(creditor_id, state, token fingerprint, token status, expires_at) of every client, for `tokens list`
    (never a token)."""
    return conn.execute(
        "SELECT c.creditor_id, c.state, t.fingerprint, t.status, t.expires_at "
        "FROM confirma.clients c LEFT JOIN confirma.client_tokens t USING (creditor_id) ORDER BY 1"
    ).fetchall()


def onboarded_with_tokens(conn: psycopg.Connection, creditor_ids: list[str] | None = None) -> list[str]:
    """Creditors whose client exists and whose token we hold (and is not known invalid)."""
    rows = conn.execute(
        """
        SELECT c.creditor_id FROM confirma.clients c
        JOIN confirma.client_tokens t USING (creditor_id)
        WHERE c.state IN ('created', 'imported') AND t.status <> 'invalid'
          AND (%(ids)s::text[] IS NULL OR c.creditor_id = ANY(%(ids)s::text[]))
        ORDER BY c.creditor_id
        """,
        {"ids": creditor_ids},
    ).fetchall()
    return [r[0] for r in rows]


def stuck_clients(conn: psycopg.Connection, max_attempts: int) -> list[tuple[str, str, int, str | None]]:
    """Clients needing an operator: in flight (outcome unknown) or failed past the attempt budget."""
    return conn.execute(
        "SELECT creditor_id, state, attempts, last_error FROM confirma.clients "
        "WHERE state = 'in_flight' OR (state = 'failed' AND attempts >= %s) ORDER BY creditor_id",
        (max_attempts,),
    ).fetchall()


def set_token_status(
    conn: psycopg.Connection,
    creditor_id: str,
    status: str,
    message: str | None,
    fingerprint: str | None = None,
) -> None:
    """Record what the API said about a client's token (never the token itself). With `fingerprint`, only
    when the stored token is that one: a 401 on a token renewed meanwhile must not mark the new one."""
    conn.execute(
        "UPDATE confirma.client_tokens SET status = %s, status_message = %s, updated_at = now() "
        "WHERE creditor_id = %s AND (%s::text IS NULL OR fingerprint = %s::text)",
        (status, message, creditor_id, fingerprint, fingerprint),
    )
