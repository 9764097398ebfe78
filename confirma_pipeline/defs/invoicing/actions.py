"""Invoice actions: what a creditor tells the agency happened outside it, sent exactly once (push/actions.py)."""

import dagster as dg

from confirma_pipeline.defs.invoicing.assets import submitted_invoices
from confirma_pipeline.defs.invoicing.writeback import distribution
from confirma_pipeline.defs.lib.checks import rejected_rows_check, stuck_rows_check
from confirma_pipeline.defs.lib.context import step_run_context
from confirma_pipeline.defs.lib.metadata import OWNERS, count_rows, markdown_table, table_metadata
from confirma_pipeline.defs.lib.policies import (
    API_POOL,
    API_RETRY_POLICY,
    CLIENT_TOKENS,
    operator_errors_fail_fast,
)
from confirma_pipeline.defs.onboarding.assets import PushConfig
from confirma_pipeline.defs.resources import ConfirmaApiResource, TokenVaultResource, WarehouseResource
from confirma_pipeline.validation.actions import ActionLedgerModel, InvoiceActionModel

GROUP = "invoicing"
LEDGER = "confirma.invoice_action_ledger"

source_invoice_actions = dg.AssetSpec(
    key="source_invoice_actions",
    description=(
        "Invoice actions to send (confirma_source.invoice_actions): a stable action_id, the invoice, the code "
        "(COMMENT, WITHDRAW, DUEDATE, PAYMENTPLAN, OBJECTION, PAUSE, DIRECTPAYMENT) and the data it needs."
    ),
    group_name=GROUP,
    owners=OWNERS,
    kinds={"postgres"},
    metadata=table_metadata("confirma_source.invoice_actions", InvoiceActionModel),
)


@dg.asset(
    deps=[source_invoice_actions, submitted_invoices, distribution, CLIENT_TOKENS],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"api", "postgres"},
    pool=API_POOL,
    # safe to retry: a retried step finds its own in-flight rows and never resends them
    retry_policy=API_RETRY_POLICY,
    metadata=table_metadata(LEDGER, ActionLedgerModel),
)
def invoice_actions(
    context: dg.AssetExecutionContext,
    config: PushConfig,
    warehouse: WarehouseResource,
    confirma_api: ConfirmaApiResource,
    token_vault: TokenVaultResource,
) -> dg.MaterializeResult:
    """The action ledger: each invoice action sent exactly once, one per request, after its invoice has a
    case id (until then it waits, with the reason in confirma.rejected_rows). An action is not idempotent, so
    an answer lost in transit leaves it in flight: settled from the case details when its effect shows,
    otherwise by an operator (`confirma-pipeline actions resolve`); `invoice_actions_unsettled` fails meanwhile."""
    from confirma_pipeline.push.actions import push_actions

    with (
        operator_errors_fail_fast(),
        step_run_context(
            context,
            warehouse,
            confirma_api,
            token_vault,
            creditor_ids=config.creditor_ids,
            api=not config.dry_run,
        ) as ctx,
    ):
        report = push_actions(ctx, dry_run=config.dry_run)
    with warehouse.connect() as conn:
        rows = count_rows(conn, LEDGER)
    return dg.MaterializeResult(
        metadata={
            **table_metadata(LEDGER, ActionLedgerModel, rows),
            **{k: dg.MetadataValue.int(v) for k, v in report.totals().items()},
            "dry_run": config.dry_run,
            "duration_s": dg.MetadataValue.float(round(report.duration_s, 3)),
            "per_code": markdown_table(report.per_code_table()),
        }
    )


@dg.asset_check(
    asset=invoice_actions, description="Invoice actions rejected by validation or the API in this run"
)
def invoice_actions_rejected_this_run(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        return rejected_rows_check(conn, context.run.run_id, ["invoice_action"], "invoice action(s)")


@dg.asset_check(
    asset=invoice_actions,
    description=(
        "Invoice actions whose outcome is unknown (in flight: never resent; settle with `confirma-pipeline "
        "actions resolve --action-id ID --sent|--not-sent`) or failed past their attempt budget"
    ),
)
def invoice_actions_unsettled(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from confirma_pipeline.push.settings import PushSettings
    from confirma_pipeline.warehouse.action_ledger import unsettled

    with warehouse.connect() as conn:
        rows = unsettled(conn, PushSettings().max_attempts)
    return stuck_rows_check(
        [
            {"action_id": a, "creditor_id": c, "number": n, "code": code, "state": s, "attempts": t}
            for a, c, n, code, s, t, _ in rows
        ],
        "actions",
    )
