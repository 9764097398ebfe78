"""Invoicing: warehouse invoices -> Confirma invoices, recorded in the submission ledger."""

from contextlib import nullcontext

import dagster as dg

from confirma_pipeline.defs.contract_drift import drift_metadata
from confirma_pipeline.defs.lib.context import step_run_context
from confirma_pipeline.defs.lib.metadata import OWNERS, push_result, table_metadata
from confirma_pipeline.defs.lib.policies import (
    API_POOL,
    API_RETRY_POLICY,
    CLIENT_TOKENS,
    operator_errors_fail_fast,
)
from confirma_pipeline.defs.lib.run_log import step_sync_run
from confirma_pipeline.defs.onboarding.assets import PushConfig, onboarded_clients
from confirma_pipeline.defs.resources import ConfirmaApiResource, TokenVaultResource, WarehouseResource
from confirma_pipeline.validation import InvoiceModel
from confirma_pipeline.validation.push_state import InvoiceLedgerModel

GROUP = "invoicing"

source_invoices = dg.AssetSpec(
    key="source_invoices",
    description=(
        "Invoices to submit and their rows (confirma_source.invoices and confirma_source.invoice_rows): "
        "every header, reference, party, processing and distribution field of the create-invoice body."
    ),
    group_name=GROUP,
    owners=OWNERS,
    kinds={"postgres"},
    metadata=table_metadata("confirma_source.invoices", InvoiceModel),
)


@dg.asset(
    deps=[source_invoices, onboarded_clients, CLIENT_TOKENS],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"api", "postgres"},
    pool=API_POOL,
    retry_policy=API_RETRY_POLICY,
    metadata=table_metadata("confirma.invoice_ledger", InvoiceLedgerModel),
)
def submitted_invoices(
    context: dg.AssetExecutionContext,
    config: PushConfig,
    warehouse: WarehouseResource,
    confirma_api: ConfirmaApiResource,
    token_vault: TokenVaultResource,
) -> dg.MaterializeResult:
    """The invoice submission ledger: every invoice of an onboarded client, sent exactly once with
    that client's token (pending -> in_flight -> submitted | rejected | failed). Interrupted sends
    are looked up in the distribution records before any resend; invalid invoices are quarantined
    with every reason; an invoice changed after submission is flagged, never resent."""
    from confirma_pipeline.push.invoices import push_invoices

    log_run = (
        nullcontext()
        if config.dry_run
        else step_sync_run(context, warehouse, entity="invoice", direction="push")
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
        ) as ctx,
    ):
        report = push_invoices(ctx, dry_run=config.dry_run, partner_code=confirma_api.partner_code)
        drift = drift_metadata(warehouse, ctx.client)
        if run is not None:
            run.outcome(*report.sync_outcome())
    context.log.info(report.summary_line())
    result = push_result(report, warehouse, "confirma.invoice_ledger", InvoiceLedgerModel, config.dry_run)
    return dg.MaterializeResult(metadata={**result.metadata, **drift})
