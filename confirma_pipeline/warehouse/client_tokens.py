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


def load_token(conn: psycopg.Connection, vault: TokenVault, creditor_id: str) -> ClientToken | None:
    """The decrypted token of a client, or None when none is stored."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT token_ciphertext, key_id FROM confirma.client_tokens WHERE creditor_id = %s",
            (creditor_id,),
        )
        row = cur.fetchone()
    if row is None:
        return None
    return vault.decrypt_token(row[0], what=f"the token of creditor {creditor_id!r} (key id {row[1]})")


def load_tokens(conn: psycopg.Connection, vault: TokenVault, creditor_ids: Sequence[str]) -> dict[str, str]:
    """Each client's token decrypted once, for callers about to hand them to worker threads. Clients with
    no stored token are left out."""
    tokens: dict[str, str] = {}
    for creditor_id in creditor_ids:
        stored = load_token(conn, vault, creditor_id)
        if stored is not None:
            tokens[creditor_id] = stored.reveal()
    return tokens


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
