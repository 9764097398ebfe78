"""Fixtures: one in-process sandbox (real HTTP on 127.0.0.1) per session, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from confirma_pipeline.api import ConfirmaClient
from confirma_pipeline.sandbox import SandboxServer
from confirma_pipeline.sandbox.examples import client_body

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
