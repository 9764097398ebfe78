"""Fixtures for the push side: a migrated warehouse seeded with a small sample (some rows
deliberately invalid), an in-process sandbox over real HTTP, a token vault and API clients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest
from push_helpers import PROVISIONING_TOKEN, SANDBOX_START, make_client

from confirma_pipeline.api import ConfirmaClient
from confirma_pipeline.local.sample_data import build_sample, seed_warehouse
from confirma_pipeline.sandbox import SandboxServer
from confirma_pipeline.vault import TokenVault, generate_key


@pytest.fixture(scope="session")
def push_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(PROVISIONING_TOKEN, seed=11, start_date=SANDBOX_START) as server:
        yield server


@pytest.fixture
def sandbox(push_sandbox: SandboxServer) -> SandboxServer:
    push_sandbox.control.reset()
    push_sandbox.control.clear_faults()
    return push_sandbox


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[ConfirmaClient]:
    with make_client(sandbox) as client:
        yield client


@pytest.fixture
def vault(monkeypatch) -> TokenVault:
    key = generate_key()
    monkeypatch.setenv("CONFIRMA_TOKEN_KEY", key)
    return TokenVault.from_env()


@pytest.fixture
def sample():
    return build_sample(
        6,
        5,
        start=SANDBOX_START - dt.timedelta(days=10),
        days=10,
        invalid_creditors=1,
        invalid_invoices_per_kind=1,
    )


@pytest.fixture
def seeded(warehouse_dsn: str, sample) -> str:
    with psycopg.connect(warehouse_dsn) as conn:
        seed_warehouse(conn, sample)
    return warehouse_dsn
