"""Contract drift is seen: unknown and missing optional fields of answers are counted per endpoint and
field path (names and JSON types, never values) and stored in confirma.api_contract_observations."""

from __future__ import annotations

import dagster as dg
import psycopg
from push_helpers import sandbox_resources

from confirma_pipeline.api import contract as c
from confirma_pipeline.defs.onboarding.assets import onboarded_clients
from confirma_pipeline.push.invoices import push_invoices
from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.sandbox.variants import UNKNOWN_FIELD
from confirma_pipeline.warehouse import contract_observations
from confirma_pipeline.warehouse.client_tokens import load_token

DISTRIBUTION = "GET " + c.PATH_DISTRIBUTION


def _token(dsn, vault, creditor_id="CRED-0001") -> str:
    with psycopg.connect(dsn) as conn:
        return load_token(conn, vault, creditor_id).reveal()


def test_the_standard_sandbox_shows_no_unknown_field(seeded, sandbox, api, vault):
    onboard_clients(RunContext(seeded, api, vault, run_id="r"))
    push_invoices(RunContext(seeded, api, vault, run_id="r"))
    api.get_distribution(_token(seeded, vault), "2026-01-01", "2026-03-31")
    assert [k for k in api.drift.take() if k[2] == "unknown"] == []


def test_records_under_another_key_are_counted_and_stored_without_values(seeded, sandbox, api, vault):
    onboard_clients(RunContext(seeded, api, vault, run_id="r"))
    push_invoices(RunContext(seeded, api, vault, run_id="r"))
    api.drift.take()
    sandbox.control.set_variants("records_key", "no_total_count")
    token = _token(seeded, vault)
    answer = api.get_distribution(token, "2026-01-01", "2026-03-31")
    assert answer.distributions == []  # parses as empty: exactly why it must be seen
    api.get_distribution(token, "2026-01-01", "2026-03-31")
    counts = api.drift.take()
    assert counts[(DISTRIBUTION, "records", "unknown", "array")] == 2
    assert counts[(DISTRIBUTION, "distributions", "missing", "absent")] == 2
    assert counts[(DISTRIBUTION, "metaData.totalCount", "missing", "absent")] == 2

    with psycopg.connect(seeded) as conn:
        contract_observations.record(conn, counts)
        contract_observations.record(conn, counts)
        stored = contract_observations.recent(conn, kind="unknown")
    assert stored == [(DISTRIBUTION, "records", "unknown", "array", 4)]


def test_a_push_asset_stores_and_shows_what_its_client_saw(seeded, sandbox, vault):
    """Every push asset (`push_assets`, so onboarded_clients, invoice_actions and accounting_submissions as
    well as submitted_invoices) keeps its client's observations: materialization metadata and
    confirma.api_contract_observations. Here onboarding, under a sandbox whose answers carry a new field."""
    sandbox.control.set_variants("unknown_field")
    result = dg.materialize([onboarded_clients], resources=sandbox_resources(seeded, sandbox))
    assert result.success
    [materialization] = result.asset_materializations_for_node("onboarded_clients")
    meta = {k: v.value for k, v in materialization.metadata.items()}
    created = meta["pushed"]
    assert created > 0 and meta["contract_drift_unknown_fields"] >= 1
    assert "apiRevision" in meta["contract_drift"]
    with psycopg.connect(seeded) as conn:
        stored = contract_observations.recent(conn, kind="unknown")
    assert ("POST " + c.PATH_CLIENT, UNKNOWN_FIELD, "unknown", "string", created) in stored
