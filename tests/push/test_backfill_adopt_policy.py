"""A historical client onboarded by hand: `backfill client --adopt-existing` adopts what Confirma already has
without a POST, refuses (by default) to re-send invoices whose due date passed, pulls up to today, and
marks no daily partition; `--dry-run` shows all of it first and changes nothing."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import dagster as dg
import psycopg
import pytest
from push_helpers import PROVISIONING_TOKEN, journal_invoices, make_client, table_snapshot

from confirma_pipeline.backfill.policy import REFUSE_REASON
from confirma_pipeline.cli import main
from confirma_pipeline.local.hand_onboarding import onboard_by_hand
from confirma_pipeline.local.sample_data import build_sample, seed_warehouse
from confirma_pipeline.push.invoices import push_invoices
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.warehouse.client_tokens import load_tokens

CREDITOR = "CRED-0001"
DATE_FROM, DATE_TO = dt.date(2026, 2, 1), dt.date(2026, 2, 28)
ORPHANS = [99_000_001, 99_000_002, 99_000_003]  # at Confirma, sent by the other system, not in the source
ARGS = ["backfill", "client", "--creditor-id", CREDITOR, "--from", str(DATE_FROM), "--to", str(DATE_TO)]


@pytest.fixture
def hand_onboarded(warehouse_dsn, sandbox, vault, monkeypatch, tmp_path):
    """100 invoices of CRED-0001 dated in February 2026: the first 50 already at Confirma (sent by hand),
    of the other 50 the first 25 long past due and the last 25 due next month."""
    today = dt.date.today()
    sample = build_sample(
        2, 100, start=dt.date(2026, 2, 10), days=10, invalid_creditors=0, invalid_invoices_per_kind=0
    )
    inv = sample.invoices
    mine = inv.index[inv["creditor_id"] == CREDITOR].tolist()
    current = mine[75:]
    inv.loc[current, "due_date"] = today + dt.timedelta(days=30)
    assert (inv.loc[mine[50:75], "due_date"] < today).all()
    with psycopg.connect(warehouse_dsn) as conn:
        seed_warehouse(conn, sample)
    with make_client(sandbox) as api:
        done = onboard_by_hand(CREDITOR, api, invoices_at_confirma=50, dsn=warehouse_dsn, vault=vault)
        with psycopg.connect(warehouse_dsn) as conn:
            token = load_tokens(conn, vault, [CREDITOR])[CREDITOR]
        body = sandbox.sandbox.state.invoices[done.client_identifier][done.sent_by_hand[0]]
        assert body  # the other system's invoices are at Confirma
        _send_orphans(api, token, warehouse_dsn, vault)
    sandbox.control.advance(40)  # distributed, cases opened, some paid (payment dates after DATE_TO)
    monkeypatch.setenv("CONFIRMA_SANDBOX_URL", sandbox.url)
    monkeypatch.setenv("CONFIRMA_PROVISIONING_TOKEN", PROVISIONING_TOKEN)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    return {
        "adopted": {int(n) for n in inv.loc[mine[:50], "invoice_number"]},
        "refused": set(inv.loc[mine[50:75], "invoice_id"]),
        "refused_numbers": {int(n) for n in inv.loc[mine[50:75], "invoice_number"]},
        "sent": {int(n) for n in inv.loc[current, "invoice_number"]},
        "client_identifier": done.client_identifier,
    }


def _send_orphans(api, token, dsn, vault) -> None:
    """Invoices the other system sent that the warehouse never had."""
    from confirma_pipeline.mapping.invoices import invoice_bodies
    from confirma_pipeline.warehouse.source import iter_invoices, read_creditors

    with psycopg.connect(dsn) as conn:
        invoices, rows = next(iter_invoices(conn, creditor_ids=[CREDITOR], chunk_size=1))
        creditor = read_creditors(conn, creditor_ids=[CREDITOR])
    body = invoice_bodies(invoices, rows, creditor)[0]
    for number in ORPHANS:
        body["invoice"]["header"]["number"] = number
        api.create_invoice(token, json.dumps(body, default=str).encode())


def _ledger(dsn) -> Counter:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT origin, state, count(*) FROM confirma.invoice_ledger GROUP BY 1, 2"
        ).fetchall()
    return Counter({(o, s): n for o, s, n in rows})


def test_preview_then_adopt_send_refuse_and_rerun(hand_onboarded, warehouse_dsn, sandbox, capsys):
    world = hand_onboarded
    journal_before = Counter(journal_invoices(sandbox))
    assert len(journal_before) == 50 + len(ORPHANS)

    # 1. The preview: what would happen, and nothing happens.
    tables_before = table_snapshot(warehouse_dsn)
    assert main([*ARGS, "--adopt-existing", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "adopted 50, sent 25, refused by the historical policy 25, rejected by validation 0" in out
    assert "invoice_posts 25" in out and "payments 1" in out
    assert "3 invoice number(s): 99000001, 99000002, 99000003" in out
    assert table_snapshot(warehouse_dsn) == tables_before
    with psycopg.connect(warehouse_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM confirma.distribution").fetchone()[0] == 0
    assert Counter(journal_invoices(sandbox)) == journal_before

    # 2. The real run: 0 POSTs for the adopted, 25 sent, 25 refused with the reason, pulls up to today.
    assert main([*ARGS, "--adopt-existing"]) == 0
    out = capsys.readouterr().out
    assert "adopted 50, sent 25, refused by the historical policy 25, rejected by validation 0" in out
    assert "at Confirma with no source row: 3" in out
    new_posts = Counter(journal_invoices(sandbox)) - journal_before
    assert set(new_posts) == world["sent"] and set(new_posts.values()) == {1}
    assert _ledger(warehouse_dsn) == {
        ("adopted", "submitted"): 50,
        ("pushed", "submitted"): 25,
        ("pushed", "rejected"): 25,
    }
    with psycopg.connect(warehouse_dsn) as conn:
        refused = conn.execute(
            "SELECT entity_key, reason FROM confirma.rejected_rows WHERE resolved_at IS NULL"
        ).fetchall()
        assert {k for k, _ in refused} == world["refused"]
        assert {r for _, r in refused} == {REFUSE_REASON}
        last_payment = conn.execute("SELECT max(payment_day) FROM confirma.payments").fetchone()[0]
        assert last_payment is not None and last_payment > DATE_TO  # paid after --to, still pulled
        orphan_cases = conn.execute(
            "SELECT count(*) FROM confirma.cases WHERE invoice_number = ANY(%s)", (ORPHANS,)
        ).fetchone()[0]
        assert orphan_cases == len(ORPHANS)  # cases of invoices the ledger does not know are fetched too
        adopted_with_case = conn.execute(
            "SELECT count(*) FROM confirma.invoice_ledger WHERE origin = 'adopted' AND case_id IS NOT NULL"
        ).fetchone()[0]
        assert adopted_with_case > 0

    # 3. A rerun sends nothing.
    assert main([*ARGS, "--adopt-existing"]) == 0
    assert "adopted 0, sent 0, refused by the historical policy 25" in capsys.readouterr().out
    assert Counter(journal_invoices(sandbox)) - journal_before == new_posts

    # 4. No daily partition was marked: the backfill covered one client, not whole days.
    with dg.DagsterInstance.get() as instance:
        for asset in ("payments", "settlements", "distribution"):
            assert instance.get_materialized_partitions(dg.AssetKey(asset)) == set()
            records = instance.fetch_materializations(dg.AssetKey(asset), limit=10).records
            assert records and all(r.asset_materialization.partition is None for r in records)
            assert all(r.asset_materialization.tags["confirma/creditor_id"] == CREDITOR for r in records)
            # what the run's API client saw of the contract is shown, as on the assets
            assert all("contract_drift_unknown_fields" in r.asset_materialization.metadata for r in records)


def test_refused_invoices_stay_unsent_until_a_policy_sends_them_quietly(
    hand_onboarded, warehouse_dsn, sandbox, vault, capsys
):
    world = hand_onboarded
    assert main([*ARGS, "--adopt-existing"]) == 0
    capsys.readouterr()
    before = Counter(journal_invoices(sandbox))

    # The nightly push (no policy of its own) does not send what the backfill refused.
    with make_client(sandbox) as api:
        report = push_invoices(RunContext(warehouse_dsn, api, vault, creditor_ids=[CREDITOR]))
    assert report.pushed == 0
    assert Counter(journal_invoices(sandbox)) == before

    # Previews of the other policies: as-is would send the refused 25 (released), so would no-distribution.
    assert main([*ARGS, "--historical-policy", "as-is", "--dry-run"]) == 0
    assert "adopted 0, sent 25, refused by the historical policy 0" in capsys.readouterr().out
    # The clerk chooses: sent without distribution and payment control; the buyer is never mailed.
    assert main([*ARGS, "--adopt-existing", "--historical-policy", "no-distribution", "--dry-run"]) == 0
    assert "adopted 0, sent 25, refused by the historical policy 0" in capsys.readouterr().out
    assert main([*ARGS, "--adopt-existing", "--historical-policy", "no-distribution"]) == 0
    assert "adopted 0, sent 25, refused by the historical policy 0" in capsys.readouterr().out
    assert set(Counter(journal_invoices(sandbox)) - before) == world["refused_numbers"]
    sandbox.control.advance(5)
    at_confirma = sandbox.sandbox.state.invoices[world["client_identifier"]]
    for number in world["refused_numbers"]:
        assert at_confirma[number]["status"] == "RECEIVED"  # never distributed to the buyer
        assert at_confirma[number]["caseId"] is None and not at_confirma[number]["paymentControl"]
    with psycopg.connect(warehouse_dsn) as conn:
        open_refusals = conn.execute(
            "SELECT count(*) FROM confirma.rejected_rows WHERE resolved_at IS NULL"
        ).fetchone()[0]
    assert open_refusals == 0


def test_bad_policy_and_pull_to_fail_in_one_line(hand_onboarded, capsys, sandbox):
    before = Counter(journal_invoices(sandbox))
    assert main([*ARGS, "--historical-policy", "resend"]) == 2  # ExitCode.USAGE
    assert "--historical-policy must be one of refuse, no-distribution, as-is" in capsys.readouterr().err
    assert main([*ARGS, "--pull-to", "2026-01-15"]) == 2  # ExitCode.USAGE
    assert "--pull-to 2026-01-15 is before --from 2026-02-01" in capsys.readouterr().err
    assert Counter(journal_invoices(sandbox)) == before


def test_launchpad_dry_run_previews_in_metadata_and_changes_nothing(hand_onboarded, warehouse_dsn, sandbox):
    """The `client_backfill` job with `dry_run` (the UI's preview) gives the CLI's --dry-run figures in the
    step's output metadata, sends nothing, writes nothing and materializes no asset."""
    from confirma_pipeline.definitions import defs

    journal_before = Counter(journal_invoices(sandbox))
    tables_before = table_snapshot(warehouse_dsn)
    config = {
        "creditor_id": CREDITOR,
        "date_from": str(DATE_FROM),
        "date_to": str(DATE_TO),
        "adopt_existing": True,
        "dry_run": True,
    }
    with dg.DagsterInstance.ephemeral() as instance:
        result = (
            defs()
            .resolve_job_def("client_backfill")
            .execute_in_process(
                run_config={"ops": {"backfill_one_client": {"config": config}}}, instance=instance
            )
        )
    assert result.success
    [output] = [e for e in result.events_for_node("backfill_one_client") if e.is_successful_output]
    meta = {k: v.value for k, v in output.step_output_data.metadata.items()}
    assert meta["dry_run"] is True
    assert (meta["adopted"], meta["sent"], meta["refused_by_policy"], meta["rejected_by_validation"]) == (
        50,
        25,
        25,
        0,
    )
    assert meta["api_calls"]["invoice_posts"] == 25 and meta["api_calls"]["payments"] == 1
    assert meta["orphan_invoice_numbers"] == "99000001, 99000002, 99000003"
    assert "(dry run: nothing sent, nothing written)" in meta["preview"]
    assert result.asset_materializations_for_node("backfill_one_client") == []
    assert table_snapshot(warehouse_dsn) == tables_before
    assert Counter(journal_invoices(sandbox)) == journal_before


def test_launchpad_config_describes_every_option():
    from confirma_pipeline.defs.backfill import ClientBackfillConfig

    fields = ClientBackfillConfig.to_fields_dict()
    for name in (
        "adopt_existing",
        "historical_policy",
        "historical_after_days",
        "pull_to",
        "date_from",
        "dry_run",
    ):
        assert fields[name].description, name
    assert "due date passed" in fields["historical_policy"].description
