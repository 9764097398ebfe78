"""The push assets through Dagster (metadata, checks) and the operator's tools for clients whose
creation outcome is unknown."""

from __future__ import annotations

import io
import os

import dagster as dg
import psycopg
from push_helpers import journal_invoices, sandbox_resources

from confirma_pipeline.cli import main
from confirma_pipeline.defs.invoicing.assets import submitted_invoices
from confirma_pipeline.defs.invoicing.checks import (
    invoices_changed_after_submission,
    invoices_rejected_this_run,
    invoices_stuck,
)
from confirma_pipeline.defs.onboarding.assets import onboarded_clients
from confirma_pipeline.defs.onboarding.checks import clients_stuck, creditors_rejected_this_run
from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.run.context import RunContext

ASSETS = [onboarded_clients, submitted_invoices]
CHECKS = [
    creditors_rejected_this_run,
    clients_stuck,
    invoices_rejected_this_run,
    invoices_stuck,
    invoices_changed_after_submission,
]


def _resources(dsn, sandbox, key):
    return sandbox_resources(dsn, sandbox, key, concurrency=8)


def _materialize(dsn, sandbox, key, run_config=None):
    return dg.materialize(
        [*ASSETS, *CHECKS],
        resources=_resources(dsn, sandbox, key),
        run_config=run_config,
        raise_on_error=False,
    )


def _checks(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_assets_push_report_metadata_and_checks(seeded, sandbox, vault, sample, monkeypatch):
    key = os.environ["CONFIRMA_TOKEN_KEY"]
    result = _materialize(seeded, sandbox, key)
    assert result.success
    meta = {
        m.asset_key.to_user_string(): m.metadata
        for m in result.get_asset_materialization_events()
        for m in [m.event_specific_data.materialization]
    }
    invoices = meta["submitted_invoices"]
    assert invoices["pushed"].value == len(journal_invoices(sandbox)) > 0
    assert invoices["rejected_by_validation"].value > 0
    assert invoices["dagster/table_name"].value == "confirma.invoice_ledger"
    assert invoices["dagster/row_count"].value == invoices["pushed"].value
    assert meta["onboarded_clients"]["pushed"].value == 5
    checks = _checks(result)
    assert checks["invoices_rejected_this_run"] is False  # WARN: this run quarantined rows
    assert checks["creditors_rejected_this_run"] is False
    assert checks["invoices_stuck"] is True and checks["clients_stuck"] is True
    assert checks["invoices_changed_after_submission"] is True

    # An invoice edited after it was sent is flagged, not resent.
    with psycopg.connect(seeded) as conn:
        conn.execute(
            "UPDATE confirma_source.invoices SET buyer_email = 'new@buyer.example.fi' "
            "WHERE invoice_id = (SELECT invoice_id FROM confirma.invoice_ledger WHERE state = 'submitted' LIMIT 1)"
        )
    sent_before = len(journal_invoices(sandbox))
    again = _materialize(seeded, sandbox, key)
    assert len(journal_invoices(sandbox)) == sent_before
    assert _checks(again)["invoices_changed_after_submission"] is False
    assert _checks(again)["invoices_rejected_this_run"] is False  # same bad rows seen again this run


def test_dry_run_config_on_the_assets_writes_nothing(seeded, sandbox, vault):
    config = {
        "ops": {name: {"config": {"dry_run": True}} for name in ("onboarded_clients", "submitted_invoices")}
    }
    result = _materialize(seeded, sandbox, os.environ["CONFIRMA_TOKEN_KEY"], run_config=config)
    assert result.success
    assert sandbox.control.journal() == []
    with psycopg.connect(seeded) as conn:
        assert conn.execute("SELECT count(*) FROM confirma.clients").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM confirma.rejected_rows").fetchone()[0] == 0


def test_client_with_unknown_outcome_is_never_resent_until_resolved(seeded, sandbox, api, vault, capsys):
    sandbox.control.set_faults(drop_after_commit_rate=1.0)
    report = onboard_clients(RunContext(seeded, api, vault, creditor_ids=["CRED-0001"]))
    sandbox.control.clear_faults()
    assert report.unknown == 1
    assert len(sandbox.control.journal("client")) == 1  # it was created at Confirma

    again = onboard_clients(RunContext(seeded, api, vault, creditor_ids=["CRED-0001"]))
    assert again.pushed == 0 and len(sandbox.control.journal("client")) == 1  # never resent

    result = dg.materialize(
        [onboarded_clients, clients_stuck],
        resources=_resources(seeded, sandbox, os.environ["CONFIRMA_TOKEN_KEY"]),
        run_config={"ops": {"onboarded_clients": {"config": {"creditor_ids": ["CRED-0001"]}}}},
        raise_on_error=False,
    )
    assert _checks(result)["clients_stuck"] is False

    assert main(["clients", "resolve", "--creditor-id", "CRED-0001", "--not-created"]) == 0
    assert "not created" in capsys.readouterr().out
    resent = onboard_clients(RunContext(seeded, api, vault, creditor_ids=["CRED-0001"]))
    assert resent.pushed == 1 and len(sandbox.control.journal("client")) == 2


def test_resolve_as_created_needs_the_token_import(seeded, sandbox, api, vault, capsys, monkeypatch):
    sandbox.control.set_faults(drop_after_commit_rate=1.0)
    onboard_clients(RunContext(seeded, api, vault, creditor_ids=["CRED-0001"]))
    sandbox.control.clear_faults()
    created = sandbox.control.journal("client")[0]["clientIdentifier"]
    assert (
        main(["clients", "resolve", "--creditor-id", "CRED-0001", "--client-identifier", str(created)]) == 0
    )
    assert "tokens import" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("token-from-the-pdf-0001\n"))
    assert main(["tokens", "import", "--creditor-id", "CRED-0001", "--client-identifier", str(created)]) == 0
    with psycopg.connect(seeded) as conn:
        state, ident = conn.execute(
            "SELECT state, client_identifier FROM confirma.clients WHERE creditor_id = 'CRED-0001'"
        ).fetchone()
    assert state == "imported" and ident == created
