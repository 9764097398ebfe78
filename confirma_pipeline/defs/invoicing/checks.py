"""Checks on invoice submission: quarantined rows, stuck rows, invoices changed after sending, and the
contract drift seen by the submission and distribution steps."""

import dagster as dg

from confirma_pipeline.defs.contract_drift import contract_drift_check
from confirma_pipeline.defs.lib.checks import (
    max_attempts,
    rejected_this_run_check,
    rows_check,
    stuck_rows_check,
)

ASSET = "submitted_invoices"


def _stuck_invoices(conn, warehouse) -> list[dict]:
    from confirma_pipeline.warehouse.submission_ledger import stuck

    return [
        {"invoice_id": i, "creditor_id": c, "number": n, "state": s, "attempts": a, "reason": e}
        for i, c, n, s, a, e in stuck(conn, max_attempts())
    ]


def _changed_invoices(conn, warehouse) -> list[dict]:
    from confirma_pipeline.mapping.actions import action_for_change
    from confirma_pipeline.warehouse.action_ledger import changed_invoices_with_case

    return [
        {"invoice_id": i, "creditor_id": c, "number": n, "action": action_for_change(k, sd, cd, st)}
        for i, c, n, k, sd, cd, st in changed_invoices_with_case(conn, warehouse.relations().invoices)
    ]


invoices_rejected_this_run = rejected_this_run_check(
    ASSET,
    "invoices_rejected_this_run",
    "Invoices rejected by validation or the API in this run",
    ["invoice", "invoice_row"],
    "invoice(s)",
)

invoices_stuck = stuck_rows_check(
    ASSET,
    "invoices_stuck",
    "Invoices left in_flight (outcome unknown) or failed past their attempt budget",
    _stuck_invoices,
    "rows",
)

invoices_changed_after_submission = rows_check(
    ASSET,
    "invoices_changed_after_submission",
    "Invoices whose source rows changed after they were submitted (not resent; decide by hand)",
    _changed_invoices,
    severity=dg.AssetCheckSeverity.WARN,
    count_key="changed",
    rows_key="invoices",
    summary=lambda _: "never resent; the action column says which invoice action would carry the change",
)

submitted_invoices_contract_drift = contract_drift_check(ASSET)
distribution_contract_drift = contract_drift_check("distribution")
