"""Invoicing write-back: distribution records (daily partitions by invoice date) and case details."""

# No `from __future__ import annotations`: Dagster resolves Config annotations at definition time.
import dagster as dg

from confirma_pipeline.defs.invoicing.assets import submitted_invoices
from confirma_pipeline.defs.lib.metadata import OWNERS
from confirma_pipeline.defs.lib.partitions import daily_partitions, partition_window, single_run_backfill
from confirma_pipeline.defs.lib.policies import API_POOL, API_RETRY_POLICY, CLIENT_TOKENS, PULLED_FRESHNESS
from confirma_pipeline.defs.lib.pulled import ALL_CLIENTS_PULLED, definition_metadata, run_pull
from confirma_pipeline.defs.resources import ConfirmaApiResource, TokenVaultResource, WarehouseResource
from confirma_pipeline.validation.writeback import CaseModel, DistributionModel

GROUP = "invoicing"


class DistributionConfig(dg.Config):
    """Run config of the distribution pull."""

    creditor_ids: list[str] | None = None  # limit to these clients (a client backfill)
    # Also re-read invoices dated this many days before the window: delivery status and case ids arrive
    # after the invoice date.
    lookback_days: int = 30


class CasesConfig(dg.Config):
    creditor_ids: list[str] | None = None


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
    metadata=definition_metadata("confirma.distribution", DistributionModel),
    check_specs=[dg.AssetCheckSpec(ALL_CLIENTS_PULLED, asset="distribution")],
)
def distribution(
    context: dg.AssetExecutionContext,
    config: DistributionConfig,
    warehouse: WarehouseResource,
    confirma_api: ConfirmaApiResource,
    token_vault: TokenVaultResource,
) -> dg.MaterializeResult:
    """Distribution (delivery) records of each active client's invoices, by invoice date (Europe/Helsinki
    partitions): status, method, timestamps, payment-control status and the agency case id. One
    `GET /invoice/distribution?fromInvDate&toInvDate` per client for the whole run window plus
    `lookback_days` (statuses and case ids arrive after the invoice date); upserted by (client, invoice
    number). Each record's case id is written onto confirma.invoice_ledger.case_id, which the cases asset reads."""
    from confirma_pipeline.pull.distribution import pull_distribution

    window = partition_window(context)
    return run_pull(
        context,
        warehouse,
        confirma_api,
        token_vault,
        lambda client, vault: pull_distribution(
            warehouse.dsn,
            client,
            vault,
            window,
            creditor_ids=config.creditor_ids,
            logger=context.log,
            lookback_days=config.lookback_days,
            concurrency=confirma_api.concurrency,
        ),
        "confirma.distribution",
        DistributionModel,
    )


@dg.asset(
    deps=[distribution, CLIENT_TOKENS],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"api", "postgres"},
    pool=API_POOL,
    retry_policy=API_RETRY_POLICY,
    freshness_policy=PULLED_FRESHNESS,
    metadata=definition_metadata("confirma.cases", CaseModel),
    check_specs=[dg.AssetCheckSpec(ALL_CLIENTS_PULLED, asset="cases")],
)
def cases(
    context: dg.AssetExecutionContext,
    config: CasesConfig,
    warehouse: WarehouseResource,
    confirma_api: ConfirmaApiResource,
    token_vault: TokenVaultResource,
) -> dg.MaterializeResult:
    """Payment-control and collection case details of submitted invoices: status, stage, dates, balance
    (capital, interest, costs, total). Asks `GET /invoice/case?caseId=` for every case that is still open or
    was never fetched (case ids from the distribution records, via the ledger); a closed case is final and
    not asked again. Upserted by case id."""
    from confirma_pipeline.pull.cases import pull_cases

    return run_pull(
        context,
        warehouse,
        confirma_api,
        token_vault,
        lambda client, vault: pull_cases(
            warehouse.dsn,
            client,
            vault,
            creditor_ids=config.creditor_ids,
            logger=context.log,
            concurrency=confirma_api.concurrency,
        ),
        "confirma.cases",
        CaseModel,
    )
