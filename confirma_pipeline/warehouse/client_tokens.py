"""The token repository: client API tokens in `confirma.client_tokens`, encrypted by the vault (`vault.py`).

Why here: the vault is pure cryptography; the SQL that stores, loads and re-encrypts the rows is the warehouse's,
like every other table's. The functions run in the caller's transaction and do not commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import psycopg

from confirma_pipeline.errors import OperatorError
from confirma_pipeline.vault import TOKEN_STATUSES, ClientToken, TokenVault, fingerprint


def store_token(
    conn: psycopg.Connection,
    vault: TokenVault,
    creditor_id: str,
    token: str | ClientToken,
    *,
    status: str = "unknown",
    expires_at: dt.datetime | None = None,
) -> str:
    """Upsert the encrypted token of a client; returns its fingerprint. The `confirma.clients` row must exist.
    A different token resets the validation fields; the same token keeps them."""
    if status not in TOKEN_STATUSES:
        raise ValueError(f"status must be one of {TOKEN_STATUSES}")
    ciphertext, kid = vault.encrypt(token)
    fp = fingerprint(token)
    try:
        with conn.cursor() as cur:
            cur.execute(
                """
                INSERT INTO confirma.client_tokens
                    (creditor_id, token_ciphertext, key_id, fingerprint, status, expires_at, updated_at)
                VALUES (%s, %s, %s, %s, %s, %s, now())
                ON CONFLICT (creditor_id) DO UPDATE SET
                    token_ciphertext = EXCLUDED.token_ciphertext,
                    key_id = EXCLUDED.key_id,
                    status = EXCLUDED.status,
                    expires_at = EXCLUDED.expires_at,
                    status_message = CASE WHEN client_tokens.fingerprint = EXCLUDED.fingerprint
                                          THEN client_tokens.status_message END,
                    last_validated_at = CASE WHEN client_tokens.fingerprint = EXCLUDED.fingerprint
                                             THEN client_tokens.last_validated_at END,
                    fingerprint = EXCLUDED.fingerprint,
                    updated_at = now()
                """,
                (creditor_id, ciphertext, kid, fp, status, expires_at),
            )
    except psycopg.errors.ForeignKeyViolation:
        raise OperatorError(
            f"creditor {creditor_id!r} has no row in confirma.clients; onboard or import the client first"
        ) from None
    return fp


def _stored(conn: psycopg.Connection, creditor_ids: Sequence[str]) -> dict[str, tuple[bytes, str]]:
    """creditor id -> (ciphertext, key id) of the stored tokens among these clients, in one query."""
    rows = conn.execute(
        "SELECT creditor_id, token_ciphertext, key_id FROM confirma.client_tokens WHERE creditor_id = ANY(%s)",
        (list(creditor_ids),),
    ).fetchall()
    return {creditor_id: (ciphertext, kid) for creditor_id, ciphertext, kid in rows}


def _decrypt(vault: TokenVault, creditor_id: str, ciphertext: bytes, kid: str) -> ClientToken:
    return vault.decrypt_token(ciphertext, what=f"the token of creditor {creditor_id!r} (key id {kid})")


def load_token(conn: psycopg.Connection, vault: TokenVault, creditor_id: str) -> ClientToken | None:
    """The decrypted token of a client, or None when none is stored."""
    stored = _stored(conn, [creditor_id]).get(creditor_id)
    return None if stored is None else _decrypt(vault, creditor_id, *stored)


def load_tokens(conn: psycopg.Connection, vault: TokenVault, creditor_ids: Sequence[str]) -> dict[str, str]:
    """Each client's token decrypted once, for callers about to hand them to worker threads: one query for
    all of them (a night asks for a thousand clients), decrypted in the callers' order. Clients with no
    stored token are left out."""
    stored = _stored(conn, creditor_ids)
    return {c: _decrypt(vault, c, *stored[c]).reveal() for c in creditor_ids if c in stored}


def rotate_key(conn: psycopg.Connection, vault: TokenVault) -> int:
    """Re-encrypt under the vault's first key every stored token encrypted with another key; returns how many
    were re-encrypted. Rows are locked for the caller's transaction; one undecryptable row aborts (nothing is
    half-rotated once the caller rolls back)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT creditor_id, token_ciphertext, key_id FROM confirma.client_tokens "
            "WHERE key_id <> %s ORDER BY creditor_id FOR UPDATE",
            (vault.key_id,),
        )
        rows = cur.fetchall()
        updates = [
            (vault.rotate(ct, what=f"the token of creditor {cid!r} (key id {kid})"), vault.key_id, cid)
            for cid, ct, kid in rows
        ]
        if updates:
            cur.executemany(
                "UPDATE confirma.client_tokens SET token_ciphertext = %s, key_id = %s, updated_at = now() "
                "WHERE creditor_id = %s",
                updates,
            )
    return len(updates)


def stored_token_owners(conn: psycopg.Connection, creditor_ids: Sequence[str] | None) -> list[str]:
    """Every client with a stored token (of these clients; None: all), whatever its last status: the ones the
    nightly validation looks at."""
    rows = conn.execute(
        "SELECT creditor_id FROM confirma.client_tokens "
        "WHERE %(ids)s::text[] IS NULL OR creditor_id = ANY(%(ids)s::text[]) ORDER BY creditor_id",
        {"ids": creditor_ids},
    ).fetchall()
    return [row[0] for row in rows]


def fingerprints(conn: psycopg.Connection, creditor_ids: Sequence[str]) -> dict[str, str]:
    """creditor id -> fingerprint of its stored token."""
    rows = conn.execute(
        "SELECT creditor_id, fingerprint FROM confirma.client_tokens WHERE creditor_id = ANY(%s::text[])",
        (list(creditor_ids),),
    ).fetchall()
    return dict(rows)


# What validation (and renewal) found; last_renewed_at is kept unless this run renewed.
_RECORD_STATUS = """
UPDATE confirma.client_tokens
SET status = %(status)s, status_message = %(status_message)s, expires_at = %(expires_at)s,
    last_validated_at = %(last_validated_at)s,
    last_renewed_at = coalesce(%(last_renewed_at)s, last_renewed_at), updated_at = now()
WHERE creditor_id = %(creditor_id)s
"""


def record_statuses(conn: psycopg.Connection, statuses: Sequence[dict]) -> None:
    """Write each client's validation outcome (keys: creditor_id, status, status_message, expires_at,
    last_validated_at, last_renewed_at) in the caller's transaction."""
    with conn.cursor() as cur:
        cur.executemany(_RECORD_STATUS, list(statuses))
