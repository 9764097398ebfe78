"""Backfilling: one historical client in one run (`client_backfill`, from the UI's launchpad or
`confirma-pipeline backfill client`), and a date range of pulled data for all clients
(`pulled_data_backfill`, one run per range thanks to `BackfillPolicy.single_run()`)."""

import dagster as dg
from pydantic import Field

from confirma_pipeline.defs.contract_drift import drift_metadata
from confirma_pipeline.defs.lib.context import step_run_context
from confirma_pipeline.defs.lib.policies import API_POOL, operator_errors_fail_fast
from confirma_pipeline.defs.resources import ConfirmaApiResource, TokenVaultResource, WarehouseResource

# Assets a client backfill materializes. All of them WITHOUT a partition key, tagged with the client:
# the daily partitions of distribution, payments and settlements mean "every client's data of that day",
# and a one-client backfill completes no day, so it must not mark any partition materialized (that would
# make partition status and freshness checks look complete for all clients). Per-client dynamic partitions
# (day x client) were the alternative: rejected because they would multiply the partitions by the number of
# clients (thousands x days) and change every nightly run's partitioning, for one onboarding job.
CLIENT_BACKFILL_ASSETS = ("onboarded_clients", "submitted_invoices", "client_credentials", "cases")
CLIENT_BACKFILL_DAILY_ASSETS = ("distribution", "payments", "settlements")


class ClientBackfillConfig(dg.Config):
    """The launchpad form of `backfill client` (same names as its flags)."""

    creditor_id: str = Field(description="The creditor's id in the warehouse (confirma_source.creditors).")
    date_from: str = Field(
        description="YYYY-MM-DD, inclusive: first invoice date to backfill; also where the pulls start."
    )
    date_to: str = Field(description="YYYY-MM-DD, inclusive: last invoice date to backfill.")
    pull_to: str = Field(
        default="",
        description="YYYY-MM-DD: last day of distribution, payments and settlements to pull. "
        "Empty = today, so payments made after date_to are not missed.",
    )
    adopt_existing: bool = Field(
        default=False,
        description="Register invoices Confirma already has (found in the client's distribution records) as "
        "submitted with origin 'adopted', without sending them. Use for clients onboarded by hand.",
    )
    historical_policy: str = Field(
        default="refuse",
        description="Invoices whose due date passed: 'refuse' (not sent, listed with the reason 'due date "
        "passed: choose a historical policy'), 'no-distribution' (sent with distribution and payment control "
        "off: the buyer is not mailed, no reminders), or 'as-is' (sent exactly as the source says: the buyer "
        "IS mailed again).",
    )
    historical_after_days: int | None = Field(
        default=None,
        description="Also treat invoices dated more than this many days ago as historical. Empty = due date only.",
    )
    dry_run: bool = Field(
        default=False,
        description="Preview only (the CLI's --dry-run): what would be adopted, sent, refused and rejected, and "
        "the API calls, in the step's output metadata. Sends nothing, writes nothing, materializes nothing.",
    )


def backfill_request(config: ClientBackfillConfig):
    """The checked request (a bad date or policy fails at once, naming it)."""
    from confirma_pipeline.backfill import BackfillRequest, parse_pull_window, parse_window
    from confirma_pipeline.backfill.policy import HistoricalPolicy

    window = parse_window(config.date_from, config.date_to)
    HistoricalPolicy(config.historical_policy, after_days=config.historical_after_days)
    return BackfillRequest(
        config.creditor_id,
        window,
        parse_pull_window(window, config.pull_to or None),
        config.adopt_existing,
        config.historical_policy,
        config.historical_after_days,
    )


@dg.op(pool=API_POOL, tags={"confirma/kind": "client_backfill"})
def backfill_one_client(
    context: dg.OpExecutionContext,
    config: ClientBackfillConfig,
    warehouse: WarehouseResource,
    confirma_api: ConfirmaApiResource,
    token_vault: TokenVaultResource,
):
    """Onboard (or use the imported token of) one creditor, adopt what Confirma already has, push its other
    invoices of the range exactly once under the historical policy, and pull its distribution, cases,
    payments and settlements up to today. With `dry_run`, only `preview_backfill` (the CLI's --dry-run):
    GETs and SELECTs, the plan in the output metadata, and no materialization (no asset changed)."""
    from confirma_pipeline.backfill import backfill_client, check_creditor, preview_backfill

    with operator_errors_fail_fast():
        request = backfill_request(config)
        with step_run_context(context, warehouse, confirma_api, token_vault) as ctx:
            check_creditor(ctx, config.creditor_id)
            report = (preview_backfill if config.dry_run else backfill_client)(ctx, request)
            # what the run's API client saw of the contract, stored and shown as the assets do; a preview
            # writes nothing, so what its one distribution GET saw is dropped
            drift = {} if config.dry_run else drift_metadata(warehouse, ctx.client)
    for line in report.lines():
        context.log.info(line)
    tags = {"confirma/creditor_id": config.creditor_id}
    metadata = {
        "creditor_id": config.creditor_id,
        "invoice_window": str(report.window),
        "pull_window": str(report.pull_window),
        "historical_policy": config.historical_policy,
        **report.outcome(),
        "orphan_distribution_records": report.steps.get("adopt", {}).get("orphan_distribution_records", 0),
        "orphan_invoice_numbers": report.orphans,
        **drift,
    }
    if config.dry_run:
        metadata["dry_run"] = True
        metadata["api_calls"] = dg.MetadataValue.json(report.steps.get("api_calls", {}))
        metadata["preview"] = dg.MetadataValue.md("\n".join(f"    {line}" for line in report.lines()))
        yield dg.Output(None, metadata=metadata)
        return
    for key in CLIENT_BACKFILL_ASSETS + CLIENT_BACKFILL_DAILY_ASSETS:
        yield dg.AssetMaterialization(asset_key=key, tags=tags, metadata=metadata)
    yield dg.Output(None, metadata=metadata)


@dg.job(
    description="Backfill one historical client: onboard it (or use its imported token), adopt the invoices "
    "Confirma already has (adopt_existing), push its other invoices of the range exactly once under the "
    "historical policy, pull its payments, settlements, distribution and cases up to today. dry_run previews "
    "all of it in the step's output metadata and changes nothing.",
    tags={"confirma/kind": "client_backfill"},
)
def client_backfill():
    backfill_one_client()


pulled_data_backfill = dg.define_asset_job(
    "pulled_data_backfill",
    selection=dg.AssetSelection.assets(*CLIENT_BACKFILL_DAILY_ASSETS),
    description="Re-pull distribution, payments and settlements of a date range for every client, as one run.",
)
