"""Receivables: payments and settlements, pulled per active client into the warehouse (daily partitions)."""

# No `from __future__ import annotations`: Dagster resolves Config annotations at definition time.
from typing import Literal

import dagster as dg

from confirma_pipeline.defs.invoicing.assets import submitted_invoices
from confirma_pipeline.defs.lib.metadata import OWNERS
from confirma_pipeline.defs.lib.partitions import (
    covers_latest_partition_only,
    daily_partitions,
    partition_window,
    single_run_backfill,
)
from confirma_pipeline.defs.lib.policies import API_POOL, API_RETRY_POLICY, CLIENT_TOKENS, PULLED_FRESHNESS
from confirma_pipeline.defs.lib.pulled import ALL_CLIENTS_PULLED, definition_metadata, run_pull
from confirma_pipeline.defs.resources import ConfirmaApiResource, TokenVaultResource, WarehouseResource
from confirma_pipeline.validation.writeback import PaymentModel, SettlementModel

GROUP = "receivables"


class PaymentsConfig(dg.Config):
    """Run config of the payments pull."""

    creditor_ids: list[str] | None = None  # limit to these clients (a client backfill)
    lookback_days: int = 7  # also re-read this many days before the window: payments change until settled


class SettlementsConfig(dg.Config):
    """Run config of the settlements pull."""

    # unfetched: every settlement not fetched before (unfetchedOnly=true); range: every settlement of the
    # partition window (fromDate/toDate), fetched before or not; auto: unfetched when the run is the latest
    # partition alone (the nightly run), range otherwise (a backfill or a rerun of past days).
    mode: Literal["auto", "unfetched", "range"] = "auto"
    creditor_ids: list[str] | None = None


def _all_clients_pulled(asset: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        ALL_CLIENTS_PULLED,
        asset=asset,
        description="Every active client was pulled (a client whose token was refused is skipped and named)",
    )


@dg.asset(
    deps=[submitted_invoices, CLIENT_TOKENS],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"api", "postgres"},
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=API_POOL,
    retry_policy=API_RETRY_POLICY,
    freshness_policy=PULLED_FRESHNESS,
    metadata=definition_metadata("confirma.payments", PaymentModel),
    check_specs=[_all_clients_pulled("payments")],
)
def payments(
    context: dg.AssetExecutionContext,
    config: PaymentsConfig,
    warehouse: WarehouseResource,
    confirma_api: ConfirmaApiResource,
    token_vault: TokenVaultResource,
) -> dg.MaterializeResult:
    """Payments received by the agency for each active client, by payment day (Europe/Helsinki partitions).

    One `GET /payments?fromDate&toDate` per client for the whole run window (a 10-day backfill is one run and
    one call per client), plus `lookback_days` before it, because payments can still change until they are
    settled. Each client's window is replaced (keyed by client and payment_day): vanished or changed payments
    are deleted, new ones inserted, unchanged ones left alone. payment_key is a content hash made unique per
    client by the ordinal among identical rows (the API gives no payment id). A client whose token is refused
    is marked invalid and skipped; an answer failing the payments model is not written and fails the run."""
    from confirma_pipeline.pull.payments import pull_payments

    window = partition_window(context)
    return run_pull(
        context,
        warehouse,
        confirma_api,
        token_vault,
        lambda client, vault: pull_payments(
            warehouse.dsn,
            client,
            vault,
            window,
            creditor_ids=config.creditor_ids,
            logger=context.log,
            lookback_days=config.lookback_days,
            concurrency=confirma_api.concurrency,
        ),
        "confirma.payments",
        PaymentModel,
    )


@dg.asset(
    deps=[submitted_invoices, CLIENT_TOKENS],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"api", "postgres"},
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=API_POOL,
    retry_policy=API_RETRY_POLICY,
    freshness_policy=PULLED_FRESHNESS,
    metadata=definition_metadata("confirma.settlements", SettlementModel),
    check_specs=[_all_clients_pulled("settlements")],
)
def settlements(
    context: dg.AssetExecutionContext,
    config: SettlementsConfig,
    warehouse: WarehouseResource,
    confirma_api: ConfirmaApiResource,
    token_vault: TokenVaultResource,
) -> dg.MaterializeResult:
    """Settlements (payouts) per active client, normalized into confirma.settlements, settlement_allocations
    and allocation_breakdown (the newer `breakdown` and the older `events` alike); upserted by settlement id,
    allocation id and (allocation_id, line_no).

    Mode (run config `mode`): the nightly run of the latest partition asks for every settlement not fetched
    before (`unfetchedOnly=true`, whatever its date); a backfill or a rerun of past days asks for the
    partition window (`fromDate/toDate`, one call per client for the whole range), which also recovers any
    settlement ever lost.

    Not lost although the API marks a settlement fetched when it hands it out: each raw answer is written to
    confirma.api_inbox in its own committed transaction right after the fetch (before parsing); then, in ONE
    transaction, it is normalized, validated (models plus breakdown = allocation total, allocations =
    settlement amount), upserted and the inbox row marked processed. Leftover unprocessed inbox rows are
    processed first by the next run (or the step retry). The `settlements_not_lost` check fails while any
    fetched answer is not written yet: that is the gap, visible until the next run closes it."""
    from confirma_pipeline.pull.settlements import pull_settlements

    mode = config.mode
    if mode == "auto":
        mode = "unfetched" if covers_latest_partition_only(context) else "range"
    window = partition_window(context)
    return run_pull(
        context,
        warehouse,
        confirma_api,
        token_vault,
        lambda client, vault: pull_settlements(
            warehouse.dsn,
            client,
            vault,
            window,
            mode=mode,
            creditor_ids=config.creditor_ids,
            logger=context.log,
            concurrency=confirma_api.concurrency,
        ),
        "confirma.settlements",
        SettlementModel,
        extra_tables=("confirma.settlement_allocations", "confirma.allocation_breakdown"),
    )
