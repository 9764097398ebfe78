"""Helpers shared by the push tests (a module of its own: conftest files are not importable by name)."""

from __future__ import annotations

import datetime as dt
import os

import psycopg

from confirma_pipeline.api import ConfirmaClient

PROVISIONING_TOKEN = "push-tests-provisioning-9d41"
SANDBOX_START = dt.date(2026, 3, 1)


def sandbox_resources(dsn: str, sandbox, key: str | None = None, **api_options) -> dict:
    """The three resources an asset test materializes with: this warehouse, the sandbox with the push
    tests' provisioning token, and the token vault (the key defaults to CONFIRMA_TOKEN_KEY)."""
    from confirma_pipeline.defs.resources import ConfirmaApiResource, TokenVaultResource, WarehouseResource

    return {
        "warehouse": WarehouseResource(dsn=dsn),
        "confirma_api": ConfirmaApiResource(
            environment="sandbox",
            sandbox_url=sandbox.url,
            provisioning_token=PROVISIONING_TOKEN,
            **api_options,
        ),
        "token_vault": TokenVaultResource(key=key or os.environ["CONFIRMA_TOKEN_KEY"]),
    }


def make_client(sandbox, **kwargs) -> ConfirmaClient:
    options = {"max_retries": 6, "backoff_base_s": 0.005, "backoff_max_s": 0.05, "max_connections": 16}
    options.update(kwargs)
    return ConfirmaClient(sandbox.url, PROVISIONING_TOKEN, **options)


def journal_invoices(sandbox) -> list[int]:
    return [int(e["invoiceNumber"]) for e in sandbox.control.journal("invoice")]


def table_snapshot(dsn: str) -> dict[str, list]:
    """Every owned table's full content, to prove a dry run changed nothing."""
    tables = ["clients", "client_tokens", "invoice_ledger", "rejected_rows"]
    with psycopg.connect(dsn) as conn:
        return {t: conn.execute(f"SELECT * FROM confirma.{t} ORDER BY 1, 2").fetchall() for t in tables}
