"""Numbered SQL migrations from `sql/migrations/`, applied in order.

Each file runs in its own transaction together with its row in `confirma.schema_migrations`, so
a failing file leaves nothing of itself behind and the error names it. An advisory lock keeps
two processes (Dagster's run workers, the CLI) from migrating at once. Re-running is a no-op.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from confirma_pipeline.errors import OperatorError
from confirma_pipeline.paths import sql_dir

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LOCK_KEY = 0x0C0F1A  # pg_advisory_lock key for migrations

_BOOKKEEPING = """
CREATE SCHEMA IF NOT EXISTS confirma;
CREATE TABLE IF NOT EXISTS confirma.schema_migrations (
    version     text PRIMARY KEY,
    filename    text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
"""


class MigrationError(OperatorError):
    """A migration failed or was edited after it was applied."""


@dataclass(frozen=True)
class Migration:
    version: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path | None = None) -> list[Migration]:
    folder = directory or (sql_dir() / "migrations")
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files must be named NNNN_description.sql")
        found.append(Migration(match.group(1), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a number in {folder}")
    return found


def apply_migrations(conn: psycopg.Connection, directory: Path | None = None) -> list[str]:
    """Apply pending migrations; returns the file names applied (empty when up to date)."""
    migrations = discover(directory)
    conn.commit()
    previous_autocommit = conn.autocommit
    conn.autocommit = True
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(_BOOKKEEPING)
            applied = dict(
                conn.execute("SELECT version, checksum FROM confirma.schema_migrations").fetchall()
            )
            done: list[str] = []
            for migration in migrations:
                if migration.version in applied:
                    if applied[migration.version] != migration.checksum:
                        raise MigrationError(
                            f"{migration.path.name} was changed after it was applied; "
                            "add a new migration instead of editing an applied one"
                        )
                    continue
                try:
                    with conn.transaction():
                        conn.execute(migration.sql)
                        conn.execute(
                            "INSERT INTO confirma.schema_migrations (version, filename, checksum) "
                            "VALUES (%s, %s, %s)",
                            (migration.version, migration.path.name, migration.checksum),
                        )
                except psycopg.Error as exc:
                    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                    raise MigrationError(
                        f"migration {migration.path.name} failed and was rolled back: {first}"
                    ) from None
                done.append(migration.path.name)
            return done
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    finally:
        conn.autocommit = previous_autocommit


def applied_versions(conn: psycopg.Connection) -> list[str]:
    exists = conn.execute("SELECT to_regclass('confirma.schema_migrations')").fetchone()[0]
    if not exists:
        return []
    return [
        row[0] for row in conn.execute("SELECT filename FROM confirma.schema_migrations ORDER BY version")
    ]
