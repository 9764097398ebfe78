"""Checks of the accounting domain: quarantined items, items whose outcome is unknown, failed syncs, and
items the target system has not synced long after they were sent."""

import dagster as dg

from confirma_pipeline.defs.accounting.assets import accounting_submissions, accounting_sync_status
from confirma_pipeline.defs.lib.checks import rejected_rows_check
from confirma_pipeline.defs.lib.metadata import markdown_table
from confirma_pipeline.defs.resources import WarehouseResource
from confirma_pipeline.pull.accounting_sync import PENDING_ERROR_AFTER_DAYS
from confirma_pipeline.push.settings import PushSettings


@dg.asset_check(asset=accounting_submissions, description="Vouchers and payments rejected in this run")
def accounting_rejected_this_run(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    from confirma_pipeline.validation.accounting import PAYMENT_ENTITY, VOUCHER_ENTITY

    with warehouse.connect() as conn:
        return rejected_rows_check(
            conn, context.run.run_id, [VOUCHER_ENTITY, PAYMENT_ENTITY], "accounting item(s)"
        )


@dg.asset_check(
    asset=accounting_submissions,
    description="Vouchers or payments whose outcome is unknown (in_flight) or failed past their attempt budget",
)
def accounting_submissions_stuck(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from confirma_pipeline.warehouse.accounting_submissions import stuck

    with warehouse.connect() as conn:
        rows = stuck(conn, PushSettings().max_attempts)
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "stuck": dg.MetadataValue.int(len(rows)),
            "items": markdown_table(
                [
                    {"kind": k, "creditor_id": c, "identifier": i, "state": s, "attempts": a}
                    for k, c, i, s, a, _ in rows
                ]
            ),
        },
    )


@dg.asset_check(
    asset=accounting_sync_status,
    description="Items the accounting system refused (status 2, INFERRED) or reported with an unknown status",
)
def accounting_sync_failed(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from confirma_pipeline.warehouse.accounting_submissions import failed_syncs

    with warehouse.connect() as conn:
        rows = failed_syncs(conn)
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(rows)} item(s) not synced by the accounting system" if rows else "no failed syncs",
        metadata={
            "failed": dg.MetadataValue.int(len(rows)),
            "items": markdown_table(
                [
                    {"kind": k, "creditor_id": c, "identifier": i, "date": d, "status": t}
                    for k, c, i, d, t in rows
                ]
            ),
        },
    )


@dg.asset_check(
    asset=accounting_sync_status,
    description=f"Items still not synced {PENDING_ERROR_AFTER_DAYS} days after they were submitted",
)
def accounting_pending_too_long(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from confirma_pipeline.warehouse.accounting_submissions import pending_too_long

    with warehouse.connect() as conn:
        rows = pending_too_long(conn, PENDING_ERROR_AFTER_DAYS)
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "pending_too_long": dg.MetadataValue.int(len(rows)),
            "items": markdown_table(
                [
                    {"kind": k, "creditor_id": c, "identifier": i, "submitted_at": str(t), "status": s}
                    for k, c, i, t, s in rows
                ]
            ),
        },
    )
