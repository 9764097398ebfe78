"""Checks on onboarding: rows quarantined this run, and clients an operator must settle."""

import dagster as dg

from confirma_pipeline.defs.lib.checks import rejected_rows_check, stuck_rows_check
from confirma_pipeline.defs.onboarding.assets import onboarded_clients
from confirma_pipeline.defs.resources import WarehouseResource
from confirma_pipeline.push.settings import PushSettings


@dg.asset_check(
    asset=onboarded_clients, description="Creditors rejected by validation or the API in this run"
)
def creditors_rejected_this_run(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        return rejected_rows_check(conn, context.run.run_id, ["creditor"], "creditor(s)")


@dg.asset_check(
    asset=onboarded_clients,
    description=(
        "Clients whose creation outcome is unknown (in_flight) or that failed past their attempt budget. "
        "Settle with `confirma-pipeline clients resolve --creditor-id ID --client-identifier N | --not-created`."
    ),
)
def clients_stuck(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from confirma_pipeline.warehouse.registry import stuck_clients

    with warehouse.connect() as conn:
        stuck = stuck_clients(conn, PushSettings().max_attempts)
    return stuck_rows_check(
        [{"creditor_id": c, "state": s, "attempts": a} for c, s, a, _ in stuck], "clients"
    )
