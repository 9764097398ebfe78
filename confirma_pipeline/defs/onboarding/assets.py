"""Onboarding: warehouse creditors -> Confirma clients (the client registry)."""

from contextlib import nullcontext
from typing import Optional

import dagster as dg

from confirma_pipeline.defs.lib.context import step_run_context
from confirma_pipeline.defs.lib.metadata import OWNERS, push_result, table_metadata
from confirma_pipeline.defs.lib.policies import API_POOL, API_RETRY_POLICY, operator_errors_fail_fast
from confirma_pipeline.defs.lib.run_log import step_sync_run
from confirma_pipeline.defs.resources import ConfirmaApiResource, TokenVaultResource, WarehouseResource
from confirma_pipeline.validation import CreditorModel
from confirma_pipeline.validation.push_state import ClientRegistryModel

GROUP = "onboarding"


class PushConfig(dg.Config):
    """Run config shared by the push assets."""

    dry_run: bool = False  # read, validate and map as a real run; send nothing, write nothing
    creditor_ids: Optional[list[str]] = None  # noqa: UP045 - Dagster config needs Optional  # limit to these creditors (client backfills)


source_creditors = dg.AssetSpec(
    key="source_creditors",
    description=(
        "Creditors to onboard, as the warehouse's input contract (one row per creditor, every field "
        "of the create-client body). Filled by the user or mapped onto their own table or view."
    ),
    group_name=GROUP,
    owners=OWNERS,
    kinds={"postgres"},
    metadata=table_metadata("confirma_source.creditors", CreditorModel),
)


@dg.asset(
    deps=[source_creditors],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"api", "postgres"},
    pool=API_POOL,
    retry_policy=API_RETRY_POLICY,
    metadata=table_metadata("confirma.clients", ClientRegistryModel),
)
def onboarded_clients(
    context: dg.AssetExecutionContext,
    config: PushConfig,
    warehouse: WarehouseResource,
    confirma_api: ConfirmaApiResource,
    token_vault: TokenVaultResource,
) -> dg.MaterializeResult:
    """The client registry: creditors created as Confirma clients (POST /client with the
    provisioning token), with their encrypted API tokens. Invalid creditors are quarantined in
    confirma.rejected_rows with every reason; a client whose creation outcome is unknown is never
    resent automatically (see the stuck-rows check)."""
    from confirma_pipeline.push.onboarding import onboard_clients

    log_run = (
        nullcontext()
        if config.dry_run
        else step_sync_run(context, warehouse, entity="client", direction="push")
    )
    with (
        operator_errors_fail_fast(),
        log_run as run,
        step_run_context(
            context,
            warehouse,
            confirma_api,
            token_vault,
            creditor_ids=config.creditor_ids,
            api=not config.dry_run,
            vault=not config.dry_run,
        ) as ctx,
    ):
        report = onboard_clients(ctx, dry_run=config.dry_run, partner_code=confirma_api.partner_code)
        if run is not None:
            run.outcome(*report.sync_outcome())
    context.log.info(report.summary_line())
    return push_result(report, warehouse, "confirma.clients", ClientRegistryModel, config.dry_run)
