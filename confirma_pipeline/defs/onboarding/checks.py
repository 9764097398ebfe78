"""Checks on onboarding: rows quarantined this run, and clients an operator must settle."""

from confirma_pipeline.defs.lib.checks import max_attempts, rejected_this_run_check, stuck_rows_check

ASSET = "onboarded_clients"


def _stuck_clients(conn, warehouse) -> list[dict]:
    from confirma_pipeline.warehouse.registry import stuck_clients

    return [
        {"creditor_id": c, "state": s, "attempts": a} for c, s, a, _ in stuck_clients(conn, max_attempts())
    ]


creditors_rejected_this_run = rejected_this_run_check(
    ASSET,
    "creditors_rejected_this_run",
    "Creditors rejected by validation or the API in this run",
    ["creditor"],
    "creditor(s)",
)

clients_stuck = stuck_rows_check(
    ASSET,
    "clients_stuck",
    "Clients whose creation outcome is unknown (in_flight) or that failed past their attempt budget. "
    "Settle with `confirma-pipeline clients resolve --creditor-id ID --client-identifier N | --not-created`.",
    _stuck_clients,
    "clients",
)
