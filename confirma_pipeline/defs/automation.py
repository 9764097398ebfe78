"""Jobs, the nightly schedule and the new-creditors sensor.

Schedules and sensors are defined STOPPED: a fresh laptop has no API to call, and a RUNNING
default would create failing runs there. Turn them on in the UI (Automation) or with
`dagster schedule start nightly_sync_schedule` / `dagster sensor start new_creditors_sensor`.
"""

import dagster as dg

from confirma_pipeline.defs.resources import WarehouseResource

nightly_sync = dg.define_asset_job(
    "nightly_sync",
    selection=dg.AssetSelection.groups(
        "onboarding", "invoicing", "receivables", "accounting"
    ).materializable(),
    description=(
        "The nightly sync: onboarding -> credentials -> invoice submission -> distribution and cases -> "
        "payments and settlements -> accounting vouchers and payments and their sync status, for one Helsinki "
        "day (or a range, as one run)."
    ),
)

# 02:00 Helsinki: the timezone comes from the partitions definition (a partitioned schedule must
# not set execution_timezone itself); each tick targets the day that just ended.
nightly_sync_schedule = dg.build_schedule_from_partitioned_job(
    nightly_sync,
    name="nightly_sync_schedule",
    hour_of_day=2,
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

onboard_new_creditors = dg.define_asset_job(
    "onboard_new_creditors",
    selection=dg.AssetSelection.assets("onboarded_clients"),
    description="Onboard creditors that appeared in the warehouse since the last run.",
)


@dg.sensor(
    job=onboard_new_creditors,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Requests onboarding when creditors without a Confirma client appear (a count and a max, no frames).",
)
def new_creditors_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    from confirma_pipeline.warehouse.watermarks import creditors_awaiting_onboarding

    with warehouse.connect() as conn:
        waiting, latest = creditors_awaiting_onboarding(conn, warehouse.creditors_relation)
    cursor = f"{waiting}|{latest}"
    if waiting == 0:
        return dg.SensorResult(skip_reason="no creditors awaiting onboarding", cursor=cursor)
    if cursor == context.cursor:
        return dg.SensorResult(
            skip_reason=f"{waiting} creditor(s) waiting, unchanged since the last request", cursor=cursor
        )
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=cursor)], cursor=cursor)
