"""Connections to the warehouse: `WAREHOUSE_DSN` when set, else the embedded server.

A malformed DSN or a refused login becomes a one-line `ConfigError`, a server that does not answer an
`UnreachableError`; both name `WAREHOUSE_DSN` and never contain the password (psycopg echoes parts of
the DSN in some messages, so the password is removed from the message text too).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import psycopg

from confirma_pipeline.api.redaction import redact_secrets
from confirma_pipeline.errors import ConfigError, UnreachableError
from confirma_pipeline.settings import dsn_password, malformed_dsn_reason

DSN_ENV = "WAREHOUSE_DSN"


def redact_dsn(dsn: str) -> str:
    """The DSN with any password replaced by `***`, whatever its shape (see api/redaction.py)."""
    return redact_secrets(dsn, dsn_password(dsn))


def _scrub(message: str, dsn: str) -> str:
    first = (message.strip().splitlines() or [""])[0]
    return redact_secrets(first, dsn_password(dsn))


def resolve_dsn(dsn: str | None = None) -> str:
    """The DSN to use: the argument, else `WAREHOUSE_DSN`, else the embedded server's URI."""
    if dsn:
        return dsn
    env_dsn = os.environ.get(DSN_ENV, "").strip()
    if env_dsn:
        return env_dsn
    api_env = os.environ.get("CONFIRMA_ENV", "sandbox").strip() or "sandbox"
    if api_env != "sandbox":
        # The embedded warehouse is for laptops and the sandbox: never let staging or production data
        # land in a throwaway local database because a setting was forgotten.
        raise ConfigError(f"{DSN_ENV}: not set; it is required when CONFIRMA_ENV={api_env}")
    from confirma_pipeline.warehouse import embedded

    return embedded.uri()


def connect(dsn: str | None = None, *, autocommit: bool = False, **kwargs) -> psycopg.Connection:
    """Open a psycopg 3 connection, failing with a one-line error that hides the password."""
    target = resolve_dsn(dsn)
    source = DSN_ENV if (dsn or os.environ.get(DSN_ENV)) else "embedded warehouse"
    try:
        psycopg.conninfo.conninfo_to_dict(target)
    except psycopg.ProgrammingError as exc:
        # Not even the DSN is printed: with no parse, nothing tells its password apart from the rest.
        raise ConfigError(f"{source}: malformed DSN: {malformed_dsn_reason(exc)}") from None
    try:
        return psycopg.connect(target, autocommit=autocommit, connect_timeout=10, **kwargs)
    except psycopg.Error as exc:
        reason = _scrub(str(exc), target)
        # The server answered but refused us: a wrong setting, not an outage.
        error = ConfigError if ("authentication failed" in reason or "does not exist" in reason) else None
        raise (error or UnreachableError)(
            f"{source}: cannot connect to {redact_dsn(target)}: {reason}"
        ) from None


@contextmanager
def transaction(dsn: str | None = None):
    """A connection whose block runs in one transaction (commit on success, rollback on error)."""
    conn = connect(dsn)
    try:
        with conn.transaction():
            yield conn
    finally:
        conn.close()
