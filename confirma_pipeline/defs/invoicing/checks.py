"""Checks on invoice submission: quarantined rows, stuck rows, invoices changed after sending."""

import dagster as dg

from confirma_pipeline.defs.contract_drift import contract_drift_check
from confirma_pipeline.defs.invoicing.assets import submitted_invoices
from confirma_pipeline.defs.invoicing.writeback import distribution
from confirma_pipeline.defs.lib.checks import rejected_rows_check, stuck_rows_check
from confirma_pipeline.defs.lib.metadata import markdown_table
from confirma_pipeline.defs.resources import WarehouseResource
from confirma_pipeline.push.settings import PushSettings


@dg.asset_check(
    asset=submitted_invoices, description="Invoices rejected by validation or the API in this run"
)
def invoices_rejected_this_run(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        return rejected_rows_check(conn, context.run.run_id, ["invoice", "invoice_row"], "invoice(s)")


@dg.asset_check(
    asset=submitted_invoices,
    description="Invoices left in_flight (outcome unknown) or failed past their attempt budget",
)
def invoices_stuck(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from confirma_pipeline.warehouse.submission_ledger import stuck

    with warehouse.connect() as conn:
        rows = stuck(conn, PushSettings().max_attempts)
    return stuck_rows_check(
        [
            {"invoice_id": i, "creditor_id": c, "number": n, "state": s, "attempts": a, "reason": e}
            for i, c, n, s, a, e in rows
        ],
        "rows",
    )


@dg.asset_check(
    asset=submitted_invoices,
    description="Invoices whose source rows changed after they were submitted (not resent; decide by hand)",
)
def invoices_changed_after_submission(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from confirma_pipeline.mapping.actions import action_for_change
    from confirma_pipeline.warehouse.action_ledger import changed_invoices_with_case

    with warehouse.connect() as conn:
        rows = changed_invoices_with_case(conn, warehouse.relations().invoices)
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        description="never resent; the action column says which invoice action would carry the change",
        metadata={
            "changed": dg.MetadataValue.int(len(rows)),
            "invoices": markdown_table(
                [
                    {
                        "invoice_id": i,
                        "creditor_id": c,
                        "number": n,
                        "action": action_for_change(k, sd, cd, st),
                    }
                    for i, c, n, k, sd, cd, st in rows
                ]
            ),
        },
    )


submitted_invoices_contract_drift = contract_drift_check(submitted_invoices)
distribution_contract_drift = contract_drift_check(distribution)
