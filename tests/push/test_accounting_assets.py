"""The accounting assets through Dagster (lineage, checks) and `confirma-pipeline accounting status`."""

from __future__ import annotations

import dagster as dg
import psycopg
from accounting_helpers import expected_identifiers, journal_counts, onboard_and_seed
from push_helpers import make_client, sandbox_resources

from confirma_pipeline import settings
from confirma_pipeline.cli import main
from confirma_pipeline.cli.accounting import REFRESH_JOB
from confirma_pipeline.defs.accounting import checks
from confirma_pipeline.defs.accounting.assets import accounting_submissions, accounting_sync_status
from confirma_pipeline.errors import ExitCode

CHECKS = [
    checks.accounting_rejected_this_run,
    checks.accounting_submissions_stuck,
    checks.accounting_sync_failed,
    checks.accounting_pending_too_long,
]


def _materialize(dsn, sandbox):
    return dg.materialize(
        [accounting_submissions, accounting_sync_status, *CHECKS],
        resources=sandbox_resources(dsn, sandbox, concurrency=8),
        raise_on_error=False,
    )


def _checks(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_assets_send_pull_and_check_then_the_cli_reports(seeded, sandbox, api, vault, monkeypatch, capsys):
    sample = onboard_and_seed(seeded, api, vault)
    sandbox.control.set_accounting(failure_rate=0.5, sync_delay_days=1)
    first = _materialize(seeded, sandbox)
    assert first.success
    assert _checks(first) == {
        "accounting_rejected_this_run": False,  # the planted faults, with reasons in rejected_rows
        "accounting_submissions_stuck": True,
        "accounting_sync_failed": True,  # everything still pending on the day it was sent
        "accounting_pending_too_long": True,
        "all_clients_pulled": True,
    }
    metadata = first.asset_materializations_for_node("accounting_submissions")[0].metadata
    assert metadata["ledger_pushed"].value == len(expected_identifiers(sample, "ledger"))
    assert metadata["dagster/table_name"].text == "confirma.accounting_submissions"

    sandbox.control.advance(1)
    second = _materialize(seeded, sandbox)
    assert _checks(second)["accounting_sync_failed"] is False  # half of them failed in the target system
    ledgers, payments = journal_counts(sandbox)
    assert set(ledgers.values()) == set(payments.values()) == {1}

    monkeypatch.setenv("WAREHOUSE_DSN", seeded)
    assert main(["accounting", "status"]) == 0  # failed syncs are listed but are a warning
    out = capsys.readouterr().out
    assert "vouchers submitted, sync synced" in out and "sync failed: " in out
    with psycopg.connect(seeded) as conn:
        conn.execute("UPDATE confirma.accounting_submissions SET state = 'in_flight' WHERE kind = 'ledger'")
    assert main(["accounting", "status"]) == ExitCode.PARTIAL  # 3: needs a person (1 is a bug)
    assert "needs an operator: ledger" in capsys.readouterr().out

    # --refresh pulls the sync status and writes its row in the run log, as the asset does
    monkeypatch.setattr(settings, "api_client", lambda **_: make_client(sandbox))
    assert main(["accounting", "status", "--refresh"]) == ExitCode.PARTIAL
    assert "recorded in confirma.sync_runs" in capsys.readouterr().out
    with psycopg.connect(seeded) as conn:
        (row,) = conn.execute(
            "SELECT run_id, entity, direction, status, counts FROM confirma.sync_runs WHERE job = %s",
            (REFRESH_JOB,),
        ).fetchall()
    assert row[0].startswith("cli-") and row[1:4] == ("accounting_sync_status", "pull", "succeeded")
    assert row[4]["clients"] > 0 and "records_received" in row[4]
