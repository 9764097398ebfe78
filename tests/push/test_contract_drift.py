"""Contract drift is seen: unknown and missing optional fields of answers are counted per endpoint and
field path (names and JSON types, never values) and stored in confirma.api_contract_observations."""

from __future__ import annotations

import psycopg

from confirma_pipeline.api import contract as c
from confirma_pipeline.push.invoices import push_invoices
from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.vault import load_token
from confirma_pipeline.warehouse import contract_observations

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
