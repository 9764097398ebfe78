"""Backfilling: one historical client in one run (`client_backfill`, from the UI's launchpad or
`confirma-pipeline backfill client`), and a date range of pulled data for all clients
(`pulled_data_backfill`, one run per range thanks to `BackfillPolicy.single_run()`)."""

import dagster as dg

from confirma_pipeline.defs.partitions import daily_partitions
from confirma_pipeline.defs.policies import API_POOL, operator_errors_fail_fast
from confirma_pipeline.defs.resources import ConfirmaApiResource, TokenVaultResource, WarehouseResource

# Assets a client backfill materializes (daily ones for each day of its range).
CLIENT_BACKFILL_ASSETS = ("onboarded_clients", "submitted_invoices", "client_credentials", "cases")
CLIENT_BACKFILL_DAILY_ASSETS = ("distribution", "payments", "settlements")


class ClientBackfillConfig(dg.Config):
    creditor_id: str
    date_from: str  # YYYY-MM-DD, inclusive
    date_to: str  # YYYY-MM-DD, inclusive


@dg.op(pool=API_POOL, tags={"confirma/kind": "client_backfill"})
def backfill_one_client(
    context: dg.OpExecutionContext,
    config: ClientBackfillConfig,
    warehouse: WarehouseResource,
    confirma_api: ConfirmaApiResource,
    token_vault: TokenVaultResource,
):
    """Onboard (or use the imported token of) one creditor, push its invoices of the range exactly
    once, and pull its distribution, cases, payments and settlements for the range."""
    from confirma_pipeline.backfill import backfill_client, check_creditor, parse_window
    from confirma_pipeline.push.invoices import Relations

    relations = Relations(
        warehouse.creditors_relation, warehouse.invoices_relation, warehouse.invoice_rows_relation
    )
    with operator_errors_fail_fast():
        window = parse_window(config.date_from, config.date_to)
        check_creditor(warehouse.dsn, config.creditor_id, relations)
        with confirma_api.get_client() as client:
            report = backfill_client(
                dsn=warehouse.dsn,
                client=client,
                vault=token_vault.get_vault(),
                creditor_id=config.creditor_id,
                window=window,
                relations=relations,
                run_id=context.run.run_id,
                logger=context.log,
            )
    for line in report.lines():
        context.log.info(line)
    tags = {"confirma/creditor_id": config.creditor_id}
    for key in CLIENT_BACKFILL_ASSETS:
        yield dg.AssetMaterialization(asset_key=key, tags=tags, metadata={"backfill_window": str(window)})
    days = daily_partitions.get_partition_keys_in_range(
        dg.PartitionKeyRange(window.start.isoformat(), window.end.isoformat())
    )
    for key in CLIENT_BACKFILL_DAILY_ASSETS:
        for day in days:
            yield dg.AssetMaterialization(asset_key=key, partition=day, tags=tags)
    yield dg.Output(None)


@dg.job(
    description="Backfill one historical client: onboard it (or use its imported token), push its invoices "
    "of the range exactly once, pull its payments, settlements, distribution and cases for the range.",
    tags={"confirma/kind": "client_backfill"},
)
def client_backfill():
    backfill_one_client()


pulled_data_backfill = dg.define_asset_job(
    "pulled_data_backfill",
    selection=dg.AssetSelection.assets(*CLIENT_BACKFILL_DAILY_ASSETS),
    partitions_def=daily_partitions,
    description="Re-pull distribution, payments and settlements of a date range for every client, as one run.",
)
