"""`make demo`'s driver, in-process on a small sample, twice: the second run sends nothing twice."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from confirma_pipeline.local.demo import run_demo_story
from confirma_pipeline.warehouse.embedded import locate, stop

ENV_TO_CLEAR = (
    "WAREHOUSE_DSN",
    "CONFIRMA_ENV",
    "CONFIRMA_SANDBOX_URL",
    "CONFIRMA_PROVISIONING_TOKEN",
    "CONFIRMA_TOKEN_KEY",
    "CONFIRMA_TOKEN_KEY_FILE",
    "DAGSTER_HOME",
    "DAGSTER_PG_URL",
)


@pytest.mark.slow
def test_demo_story_runs_twice_without_duplicates(monkeypatch, request):
    for name in ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    base = Path(tempfile.mkdtemp(prefix="cpdemo-", dir="/var/tmp")) / ".confirma"
    pgdata = locate(base).pgdata
    request.addfinalizer(
        lambda: (
            stop(base),
            shutil.rmtree(base.parent, ignore_errors=True),
            shutil.rmtree(pgdata.parent, ignore_errors=True),
        )
    )
    lines: list[str] = []
    # 8 invoices per creditor: enough cases are still open after 30 days for the two demo invoice actions
    options = dict(
        n_creditors=8, invoices_per_creditor=8, invalid_invoices_per_kind=1, in_process=True, out=lines.append
    )
    first = run_demo_story(base, **options)
    assert [run["success"] for run in first.runs] == [True, True]
    assert first.clients == {"created": 3, "imported": 1}  # 4 valid creditors, one of them imported by hand
    submitted = first.invoices["submitted"]
    assert submitted == first.journal_creates["invoice"] and first.duplicate_creates == 0
    planted = {key for _, key, _ in first.rejected}
    assert {"CRED-0005", "CRED-0006", "CRED-0007", "CRED-0008"} <= planted
    assert first.payments[0] > 0  # the calendar moved on: payments arrived
    actions = {a[1]: a for a in first.actions}  # the second night sent both demo actions
    assert {code: a[2] for code, a in actions.items()} == {"DIRECTPAYMENT": "sent", "WITHDRAW": "sent"}
    assert actions["WITHDRAW"][4:6] == ("CLOSED", "WITHDRAWN")
    report = "\n".join(lines)
    assert "invoice action DEMO-WITHDRAW: WITHDRAW sent" in report
    assert "rows rejected (open)" in report and "make ui" in report
    assert "row_status (why a row was not sent): " in report
    assert "run log (confirma.sync_runs)" in report and "alerts: off: CONFIRMA_ALERT_WEBHOOK_URL" in report
    logged = {(row[0], row[1], row[2]) for row in first.sync_runs}  # (run_id, direction, entity)
    for run in first.runs:
        assert {(run["run_id"], "push", "invoice"), (run["run_id"], "pull", "payments")} <= logged
    assert (base / "token.key").stat().st_mode & 0o777 == 0o600
    # the hand-onboarded client was backfilled with --adopt-existing: its invoices at Confirma adopted (4 of 8)
    assert first.backfill[0].startswith("adopted 4, sent 0, refused by the historical policy")
    # accounting: valid vouchers and payments submitted once; after the calendar moved on, none still pending
    submitted = {(k, sync): n for k, state, sync, n in first.accounting if state == "submitted"}
    assert {k for k, _ in submitted} == {"ledger", "payment"}
    assert {sync for _, sync in submitted} <= {"synced", "failed"} and ("ledger", "synced") in submitted
    assert first.duplicate_accounting_sends == 0 and "accounting add-on" in report

    second = run_demo_story(base, **options)
    assert [run["success"] for run in second.runs] == [True, True]
    assert second.invoices == first.invoices
    assert second.journal_creates["invoice"] == first.journal_creates["invoice"]
    assert second.journal_creates["client"] == first.journal_creates["client"]
    assert second.duplicate_creates == 0
    assert second.backfill[0].startswith("adopted 0, sent 0")
    assert second.journal_creates["ledger"] == first.journal_creates["ledger"]
    assert second.duplicate_accounting_sends == 0
    assert [a[2] for a in second.actions] == ["sent", "sent"]
    assert second.journal_creates["action"] == first.journal_creates["action"] == 2
