"""The run log for Dagster steps: `step_sync_run` opens warehouse/sync_runs.py's hook with the step's run
id, job name and partition range, so each push or pull asset records itself in confirma.sync_runs."""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext

from dagster._core.errors import DagsterInvalidPropertyError

from confirma_pipeline.warehouse.sync_runs import SyncRun, sync_run


def step_sync_run(context, warehouse, *, entity: str, direction: str):
    try:
        run = context.run
    except DagsterInvalidPropertyError:  # an asset invoked directly (a unit test): no run to log
        return nullcontext(SyncRun("", "", entity, direction))
    window = None
    if getattr(context, "has_partition_key_range", False):
        keys = context.partition_key_range
        window = (dt.date.fromisoformat(keys.start), dt.date.fromisoformat(keys.end))
    return sync_run(
        warehouse.dsn,
        run_id=run.run_id,
        job=run.job_name,
        entity=entity,
        direction=direction,
        window=window,
    )
