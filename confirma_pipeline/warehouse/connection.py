"""Connections to the warehouse: `WAREHOUSE_DSN` when set, else the embedded server.

Connection failures become one-line `ConfigError`s that name `WAREHOUSE_DSN` and never contain
the password (psycopg echoes parts of the DSN in some messages, so the password is removed from
the message text too).
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg

from confirma_pipeline.errors import ConfigError

DSN_ENV = "WAREHOUSE_DSN"
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact_dsn(dsn: str) -> str:
    """The DSN with any password replaced by `***` (URL or key=value form)."""
    if "://" in dsn:
        try:
            parts = urlsplit(dsn)
        except ValueError:
            return "<unparseable DSN>"
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            if ":" in userinfo:
                user, password = userinfo.split(":", 1)
                userinfo = f"{user}:***" if password else user
            netloc = f"{userinfo}@{host}"
        query = _KV_PASSWORD.sub(r"\1***", parts.query)
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    return _KV_PASSWORD.sub(r"\1***", dsn)


def _password_of(dsn: str) -> str | None:
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except Exception:
        return None
    return params.get("password") or None


def _scrub(message: str, dsn: str) -> str:
    first = (message.strip().splitlines() or [""])[0]
    password = _password_of(dsn)
    if password:
        first = first.replace(password, "***")
    return first


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
        raise ConfigError(
            f"{source}: malformed DSN {redact_dsn(target)}: {_scrub(str(exc), target)}"
        ) from None
    try:
        return psycopg.connect(target, autocommit=autocommit, connect_timeout=10, **kwargs)
    except psycopg.Error as exc:
        raise ConfigError(
            f"{source}: cannot connect to {redact_dsn(target)}: {_scrub(str(exc), target)}"
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
