"""Backfilling one historical client end to end through the CLI and the `client_backfill` job."""

from __future__ import annotations

from collections import Counter

import psycopg
import pytest
from push_helpers import PROVISIONING_TOKEN, journal_invoices

from confirma_pipeline.cli import main


@pytest.fixture
def backfill_env(seeded, sandbox, vault, monkeypatch, tmp_path):
    monkeypatch.setenv("CONFIRMA_SANDBOX_URL", sandbox.url)
    monkeypatch.setenv("CONFIRMA_PROVISIONING_TOKEN", PROVISIONING_TOKEN)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    return seeded


def _valid_numbers_of(sample, creditor_id: str) -> set[int]:
    inv = sample.invoices
    mine = (inv["creditor_id"] == creditor_id) & ~inv["invoice_id"].isin(list(sample.invalid))
    return set(inv.loc[mine, "invoice_number"].astype(int))


def test_bad_requests_are_refused_before_any_run(backfill_env, capsys, sandbox):
    assert (
        main(["backfill", "client", "--creditor-id", "NOPE-1", "--from", "2026-01-01", "--to", "2026-02-01"])
        == 2  # ExitCode.USAGE: the request itself is wrong
    )
    assert "unknown creditor id 'NOPE-1'" in capsys.readouterr().err
    assert (
        main(
            ["backfill", "client", "--creditor-id", "CRED-0001", "--from", "2026-03-01", "--to", "2026-01-01"]
        )
        == 2  # ExitCode.USAGE
    )
    assert "reversed" in capsys.readouterr().err
    assert sandbox.control.journal() == []


def test_client_backfill_pushes_once_and_pulls_the_range(backfill_env, sandbox, sample, capsys):
    args = ["backfill", "client", "--creditor-id", "CRED-0001", "--from", "2026-02-01", "--to", "2026-05-31"]
    args += ["--historical-policy", "as-is"]  # the sample is long past due; this test sends it all
    assert main(args) == 0
    expected = _valid_numbers_of(sample, "CRED-0001")
    assert Counter(journal_invoices(sandbox)) == Counter(expected)

    sandbox.control.advance(60)  # the client's buyers pay, settlement runs happen
    assert main(args) == 0
    assert Counter(journal_invoices(sandbox)) == Counter(expected)  # nothing sent twice
    assert len(sandbox.control.journal("client")) == 1  # only this client was onboarded

    with psycopg.connect(backfill_env) as conn:

        def count(sql):
            return conn.execute(sql, ("CRED-0001",)).fetchone()[0]

        assert count("SELECT count(*) FROM confirma.distribution WHERE creditor_id = %s") == len(expected)
        assert count("SELECT count(*) FROM confirma.payments WHERE creditor_id = %s") > 0
        assert count("SELECT count(*) FROM confirma.cases WHERE creditor_id = %s") > 0
        assert (
            count(
                "SELECT count(*) FROM confirma.invoice_ledger WHERE creditor_id = %s AND case_id IS NOT NULL"
            )
            > 0
        )
        others = conn.execute(
            "SELECT count(*) FROM confirma.clients WHERE creditor_id <> 'CRED-0001'"
        ).fetchone()[0]
        runs = conn.execute(
            "SELECT run_id, job, direction, window_start::text, window_end::text, status, counts, api_calls "
            "FROM confirma.sync_runs WHERE entity = 'client_backfill' ORDER BY id"
        ).fetchall()
    assert others == 0
    # the run log: one row per backfill run, with its counts (the second run sent nothing again)
    assert len(runs) == 2 and runs[0][0] != runs[1][0] and not runs[0][0].startswith("cli-")
    first, second = runs
    assert first[1:6] == ("client_backfill", "push", "2026-02-01", "2026-05-31", "succeeded")
    assert first[6]["sent"] == len(expected) and first[6]["distribution_records"] == len(expected)
    assert first[7] >= len(expected)  # one POST per invoice, and the pulls
    assert second[6]["sent"] == 0 and second[6]["payments_records"] > 0 and second[5] == "succeeded"


def test_preview_of_a_client_not_yet_onboarded_counts_its_onboarding(backfill_env, sandbox, sample, capsys):
    args = ["backfill", "client", "--creditor-id", "CRED-0001", "--from", "2026-02-01", "--to", "2026-05-31"]
    assert main([*args, "--dry-run", "--historical-policy", "as-is"]) == 0
    out = capsys.readouterr().out
    expected = len(_valid_numbers_of(sample, "CRED-0001"))
    assert f"adopted 0, sent {expected}, refused by the historical policy 0" in out
    assert "onboarding 1" in out and f"invoice_posts {expected}" in out
    assert main([*args, "--dry-run"]) == 0  # the default policy: the long past-due sample is refused
    assert f"sent 0, refused by the historical policy {expected}" in capsys.readouterr().out
    assert sandbox.control.journal() == []
    with psycopg.connect(backfill_env) as conn:
        assert conn.execute("SELECT count(*) FROM confirma.clients").fetchone()[0] == 0
        # a preview logs nothing
        assert conn.execute("SELECT count(*) FROM confirma.sync_runs").fetchone()[0] == 0
