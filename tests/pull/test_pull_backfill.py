"""End to end over loopback: a whole-history backfill pulls everything in one run with one call per client,
the sums hold, and rerunning the backfill or any partition changes no row."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import dagster as dg
from pull_world import (
    LAST_DAY,
    SANDBOX_START,
    materialize,
    metadata_value,
    range_tags,
)

from confirma_pipeline.defs.invoicing.pulled import cases, distribution, finvoice_credentials
from confirma_pipeline.defs.onboarding.client_tokens import client_credentials, client_credentials_usable
from confirma_pipeline.defs.receivables.assets import payments, settlements
from confirma_pipeline.defs.receivables.checks import (
    settlement_allocations_match_invoices,
    settlement_allocations_sum_to_amount,
    settlement_breakdowns_sum_to_allocations,
    settlements_not_lost,
)

RECEIVABLES = [
    payments,
    settlements,
    settlement_breakdowns_sum_to_allocations,
    settlement_allocations_sum_to_amount,
    settlement_allocations_match_invoices,
    settlements_not_lost,
]


def _full_backfill(world):
    tags = range_tags(SANDBOX_START, LAST_DAY)
    results = [
        materialize(world, [distribution], tags=tags),
        materialize(world, [cases]),
        materialize(world, RECEIVABLES, tags=tags),
        materialize(world, [client_credentials, client_credentials_usable]),
        materialize(world, [finvoice_credentials]),
    ]
    assert all(r.success for r in results)
    return results


def test_backfill_pulls_everything_once_and_reruns_change_no_row(world):
    state = world.sandbox_state()
    clients = {v: k for k, v in world.client_ids.items()}
    dist_run, cases_run, receivables_run, _, finvoice_run = _full_backfill(world)
    partitions = (LAST_DAY - SANDBOX_START).days + 1

    # One run over the whole range, one materialization per partition, one call per client and endpoint.
    assert len(receivables_run.asset_materializations_for_node("payments")) == partitions
    assert metadata_value(receivables_run, "payments", "api_calls") == len(clients)
    assert metadata_value(receivables_run, "settlements", "api_calls") == len(clients)
    assert metadata_value(receivables_run, "settlements", "mode") == "range"
    assert metadata_value(dist_run, "distribution", "api_calls") == len(clients)
    assert metadata_value(receivables_run, "payments", "window") == f"{SANDBOX_START}..{LAST_DAY}"
    assert isinstance(
        receivables_run.asset_materializations_for_node("payments")[0]
        .metadata["dagster/column_schema"]
        .value,
        dg.TableSchema,
    )

    # Everything the sandbox produced is in the warehouse, amounts included.
    sandbox_payments = [p for p in state.payments if p["clientIdentifier"] in clients]
    assert sandbox_payments and state.settlements, (
        "the simulation should have produced payments and settlements"
    )
    assert world.scalar("SELECT count(*) FROM confirma.payments") == len(sandbox_payments)
    assert world.scalar("SELECT sum(amount) FROM confirma.payments") == sum(
        Decimal(p["amount"]) for p in sandbox_payments
    )
    assert world.scalar("SELECT count(*) FROM confirma.settlements") == len(state.settlements)
    assert world.scalar("SELECT sum(settlement_amount) FROM confirma.settlements") == sum(
        Decimal(s["settlementAmount"]) for s in state.settlements
    )
    allocations = sum(len(s["allocations"]) for s in state.settlements)
    assert world.scalar("SELECT count(*) FROM confirma.settlement_allocations") == allocations
    assert world.scalar("SELECT count(*) FROM confirma.allocation_breakdown") == sum(
        len(a["breakdown"]) for s in state.settlements for a in s["allocations"]
    )
    # The sums hold in the warehouse (and the blocking checks say so).
    assert (
        world.scalar(
            """SELECT count(*) FROM confirma.settlements s WHERE settlement_amount <>
           (SELECT sum(allocated_total_amount) FROM confirma.settlement_allocations a
            WHERE a.settlement_id = s.settlement_id)"""
        )
        == 0
    )
    evaluations = {e.check_name: e.passed for e in receivables_run.get_asset_check_evaluations()}
    assert evaluations["settlement_breakdowns_sum_to_allocations"]
    assert evaluations["settlement_allocations_sum_to_amount"]
    assert evaluations["settlement_allocations_match_invoices"]
    assert evaluations["settlements_not_lost"]

    # Distribution records, case ids on the ledger, case details, credentials, Finvoice addresses.
    invoices = sum(len(v) for v in world.invoices.values())
    assert world.scalar("SELECT count(*) FROM confirma.distribution") == invoices
    with_case = world.scalar("SELECT count(*) FROM confirma.distribution WHERE case_id IS NOT NULL")
    assert with_case > 0
    assert world.scalar("SELECT count(*) FROM confirma.invoice_ledger WHERE case_id IS NOT NULL") == with_case
    assert world.scalar("SELECT count(*) FROM confirma.cases") == with_case
    closed = world.scalar("SELECT count(*) FROM confirma.cases WHERE status = 'CLOSED'")
    assert closed == sum(1 for c in state.cases.values() if c["status"] == "CLOSED")
    assert world.scalar("SELECT count(*) FROM confirma.client_credentials WHERE status = 'valid'") == len(
        clients
    )
    assert (
        world.scalar("SELECT count(*) FROM confirma.client_credentials WHERE last_validated_at IS NULL") == 0
    )
    # 0646115-8 has one address, 0112038-9 two, 1572860-0 none (the sandbox's deterministic look-up)
    assert world.scalar("SELECT count(*) FROM confirma.finvoice_credentials") == 3
    assert metadata_value(finvoice_run, "finvoice_credentials", "api_calls") == 3  # once per business id

    # Rerunning the whole backfill, or one partition, changes no row (count and content).
    before = world.snapshot()
    _full_backfill(world)
    assert world.snapshot() == before
    day = SANDBOX_START + timedelta(days=30)
    rerun = materialize(world, [payments, settlements], partition_key=day.isoformat())
    assert rerun.success
    assert metadata_value(rerun, "settlements", "mode") == "range"
    assert metadata_value(rerun, "payments", "payments_deleted") == 0
    assert world.snapshot() == before
    del cases_run


def test_ten_day_backfill_is_one_run_with_one_call_per_client(world):
    start = SANDBOX_START + timedelta(days=20)
    end = start + timedelta(days=9)
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(
        world, [payments, settlements, distribution], tags=range_tags(start, end), instance=instance
    )
    assert result.success
    assert len(instance.get_runs()) == 1
    for node in ("payments", "settlements", "distribution"):
        assert len(result.asset_materializations_for_node(node)) == 10
        assert metadata_value(result, node, "api_calls") == len(world.client_ids)
    # Only that window was written (payments re-read a 7-day look-back before it).
    assert metadata_value(result, "payments", "fetch_window") == f"{start - timedelta(days=7)}..{end}"
    first = world.scalar("SELECT min(payment_day) FROM confirma.payments")
    last = world.scalar("SELECT max(payment_day) FROM confirma.payments")
    assert first is None or (first >= start - timedelta(days=7) and last <= end)
    assert (
        world.scalar(
            "SELECT count(*) FROM confirma.settlements WHERE settlement_date NOT BETWEEN %s AND %s",
            (start, end),
        )
        == 0
    )
