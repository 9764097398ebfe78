"""Checks of the accounting domain: quarantined items, items whose outcome is unknown, failed syncs, and
items the target system has not synced long after they were sent."""

import dagster as dg

from confirma_pipeline.defs.lib.checks import (
    max_attempts,
    rejected_this_run_check,
    rows_check,
    stuck_rows_check,
)
from confirma_pipeline.pull.accounting_sync import PENDING_ERROR_AFTER_DAYS
from confirma_pipeline.validation.accounting import PAYMENT_ENTITY, VOUCHER_ENTITY

SUBMISSIONS = "accounting_submissions"
SYNC = "accounting_sync_status"


def _stuck_items(conn, warehouse) -> list[dict]:
    from confirma_pipeline.warehouse.accounting_submissions import stuck

    return [
        {"kind": k, "creditor_id": c, "identifier": i, "state": s, "attempts": a}
        for k, c, i, s, a, _ in stuck(conn, max_attempts())
    ]


def _failed_syncs(conn, warehouse) -> list[dict]:
    from confirma_pipeline.warehouse.accounting_submissions import failed_syncs

    return [
        {"kind": k, "creditor_id": c, "identifier": i, "date": d, "status": t}
        for k, c, i, d, t in failed_syncs(conn)
    ]


def _pending_too_long(conn, warehouse) -> list[dict]:
    from confirma_pipeline.warehouse.accounting_submissions import pending_too_long

    return [
        {"kind": k, "creditor_id": c, "identifier": i, "submitted_at": str(t), "status": s}
        for k, c, i, t, s in pending_too_long(conn, PENDING_ERROR_AFTER_DAYS)
    ]


accounting_rejected_this_run = rejected_this_run_check(
    SUBMISSIONS,
    "accounting_rejected_this_run",
    "Vouchers and payments rejected in this run",
    [VOUCHER_ENTITY, PAYMENT_ENTITY],
    "accounting item(s)",
)

accounting_submissions_stuck = stuck_rows_check(
    SUBMISSIONS,
    "accounting_submissions_stuck",
    "Vouchers or payments whose outcome is unknown (in_flight) or failed past their attempt budget",
    _stuck_items,
    "items",
)

accounting_sync_failed = rows_check(
    SYNC,
    "accounting_sync_failed",
    "Items the accounting system refused (status 2, INFERRED) or reported with an unknown status",
    _failed_syncs,
    severity=dg.AssetCheckSeverity.WARN,
    count_key="failed",
    rows_key="items",
    summary=lambda n: f"{n} item(s) not synced by the accounting system" if n else "no failed syncs",
)

accounting_pending_too_long = rows_check(
    SYNC,
    "accounting_pending_too_long",
    f"Items still not synced {PENDING_ERROR_AFTER_DAYS} days after they were submitted",
    _pending_too_long,
    severity=dg.AssetCheckSeverity.ERROR,
    count_key="pending_too_long",
    rows_key="items",
)
