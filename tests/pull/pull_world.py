"""Test world for the pull tests: a sandbox over loopback with clients and invoices created through the API,
recorded in a fresh warehouse as onboarded clients (encrypted tokens) and submitted invoices, then 60 simulated
days later. Built directly (not through the push code) so these tests depend only on the pull side.

Imported by the pull test modules (`from pull_world import ...`); pytest puts this folder on sys.path."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dagster as dg
import psycopg
import pytest

from confirma_pipeline.api import ConfirmaClient
from confirma_pipeline.defs.resources import ConfirmaApiResource, TokenVaultResource, WarehouseResource
from confirma_pipeline.sandbox import SandboxServer
from confirma_pipeline.sandbox.examples import client_body, sample_invoice
from confirma_pipeline.vault import TokenVault, generate_key
from confirma_pipeline.warehouse.client_tokens import store_token

PROVISIONING_TOKEN = "pull-tests-provisioning-token-71b2"
HELSINKI = ZoneInfo("Europe/Helsinki")
# Simulated time runs in the past, so every simulated day is an existing daily partition.
TODAY = datetime.now(HELSINKI).date()
SANDBOX_START = TODAY - timedelta(days=64)
DAYS = 60
LAST_DAY = SANDBOX_START + timedelta(days=DAYS)  # the sandbox's today after advancing
BUYER_IDS = (
    "0646115-8",
    "0112038-9",
    "1572860-0",
)  # valid Y-tunnus, 0/1/2 e-invoice addresses in the sandbox

TABLES = {
    "confirma.payments": "creditor_id, payment_key",
    "confirma.settlements": "settlement_id",
    "confirma.settlement_allocations": "allocation_id",
    "confirma.allocation_breakdown": "allocation_id, line_no",
    "confirma.distribution": "creditor_id, invoice_number",
    "confirma.cases": "case_id",
    "confirma.finvoice_credentials": "business_id, e_invoice_address, e_invoice_operator_id",
    "confirma.invoice_ledger": "invoice_id",
}
# last_validated_at / updated_at of a token record the validation itself, so they move on every run.
TOKEN_COLUMNS = (
    "creditor_id, token_ciphertext, key_id, fingerprint, status, status_message, expires_at, last_renewed_at"
)


@dataclass
class World:
    dsn: str
    sandbox: SandboxServer
    api: ConfirmaClient
    key: str
    vault: TokenVault
    client_ids: dict[str, int] = field(default_factory=dict)  # creditor_id -> clientIdentifier
    tokens: dict[str, str] = field(default_factory=dict)  # creditor_id -> token at set-up
    invoices: dict[str, list[int]] = field(default_factory=dict)  # creditor_id -> invoice numbers

    @property
    def control(self):
        return self.sandbox.control

    def resources(self) -> dict:
        return {
            "warehouse": WarehouseResource(dsn=self.dsn, auto_migrate=False),
            "confirma_api": ConfirmaApiResource(
                environment="sandbox", sandbox_url=self.sandbox.url, concurrency=4
            ),
            "token_vault": TokenVaultResource(key=self.key),
        }

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.dsn, autocommit=True)

    def scalar(self, query: str, params=None):
        with self.connect() as conn:
            return conn.execute(query, params).fetchone()[0]

    def snapshot(self) -> dict[str, list[tuple]]:
        """Every row of every pulled table, fully ordered (content, fetched_at and all)."""
        with self.connect() as conn:
            rows = {t: conn.execute(f"SELECT * FROM {t} ORDER BY {k}").fetchall() for t, k in TABLES.items()}
            rows["confirma.client_tokens"] = conn.execute(
                f"SELECT {TOKEN_COLUMNS} FROM confirma.client_tokens ORDER BY creditor_id"
            ).fetchall()
            return rows

    def sandbox_state(self):
        return self.sandbox.sandbox.state

    def store_bad_token(self, creditor_id: str) -> None:
        with self.connect() as conn:
            store_token(conn, self.vault, creditor_id, "not-a-token-the-api-knows", status="valid")


def range_tags(start: date, end: date) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": end.isoformat(),
    }


def materialize(world: World, assets, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(assets, resources=world.resources(), **kwargs)


def metadata_value(result: dg.ExecuteInProcessResult, node: str, key: str):
    materialization = result.asset_materializations_for_node(node)[0]
    return materialization.metadata[key].value


def build_world(dsn: str, sandbox: SandboxServer, clients: int = 2, invoices_per_client: int = 6) -> World:
    key = generate_key()
    api = ConfirmaClient(
        sandbox.url, PROVISIONING_TOKEN, max_retries=2, backoff_base_s=0.01, backoff_max_s=0.02
    )
    world = World(dsn, sandbox, api, key, TokenVault([key]))
    with world.connect() as conn:
        for index in range(clients):
            creditor_id = f"cred-{index + 1}"
            answer = api.create_client(client_body(index + 1))
            world.client_ids[creditor_id] = answer.client_identifier
            world.tokens[creditor_id] = answer.access_token
            conn.execute(
                "INSERT INTO confirma.clients (creditor_id, state, client_identifier) VALUES (%s, 'created', %s)",
                (creditor_id, answer.client_identifier),
            )
            store_token(conn, world.vault, creditor_id, answer.access_token, status="valid")
            numbers = []
            for n in range(invoices_per_client):
                number = 26_000_000 + index * 1000 + n
                body = sample_invoice(number, rows=2, invoice_date=SANDBOX_START, payment_days=14)
                buyer = BUYER_IDS[n % len(BUYER_IDS)]
                body["invoice"]["parties"]["buyerParty"]["businessId"] = buyer
                api.create_invoice(answer.access_token, body)
                invoice_id = f"{creditor_id}-inv-{n}"
                conn.execute(
                    """
                    INSERT INTO confirma_source.invoices (invoice_id, creditor_id, invoice_number, invoice_date,
                        due_date, buyer_name, buyer_business_id, buyer_street, buyer_postal_code,
                        buyer_postal_district, net_amount, vat_amount, gross_amount)
                    VALUES (%s, %s, %s, %s, %s, 'Buyer Oy', %s, 'Kauppakatu 1', '00100', 'HELSINKI', 0, 0, 0)
                    """,
                    (
                        invoice_id,
                        creditor_id,
                        number,
                        SANDBOX_START,
                        SANDBOX_START + timedelta(days=14),
                        buyer,
                    ),
                )
                conn.execute(
                    """
                    INSERT INTO confirma.invoice_ledger (invoice_id, creditor_id, invoice_number, state,
                        payload_hash, submitted_at)
                    VALUES (%s, %s, %s, 'submitted', 'test', now())
                    """,
                    (invoice_id, creditor_id, number),
                )
                numbers.append(number)
            world.invoices[creditor_id] = numbers
    sandbox.control.advance(DAYS)
    return world


@pytest.fixture(scope="session")
def pull_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(PROVISIONING_TOKEN, seed=11, start_date=SANDBOX_START) as server:
        yield server


@pytest.fixture
def world(warehouse_dsn: str, pull_sandbox: SandboxServer) -> Iterator[World]:
    pull_sandbox.control.reset()
    pull_sandbox.control.clear_faults()
    built = build_world(warehouse_dsn, pull_sandbox)
    try:
        yield built
    finally:
        built.api.close()


def sandbox_now(world: World) -> datetime:
    return datetime.combine(
        world.sandbox_state().today, datetime.now(timezone.utc).time(), tzinfo=timezone.utc
    )
