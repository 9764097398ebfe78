"""Partitions of the pulled data: one partition per Finnish calendar day.

A date-range backfill runs as ONE run (`BackfillPolicy.single_run()`): the asset reads the whole
window with as few API calls per client as the API allows (one payments call, one settlements
date-range call, one distribution call), instead of one run and one call per day.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from confirma_pipeline.pull.window import Window

TIMEZONE = "Europe/Helsinki"
START_DATE = "2020-01-01"

daily_partitions = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone=TIMEZONE)
single_run_backfill = dg.BackfillPolicy.single_run()


def partition_window(context: dg.AssetExecutionContext) -> Window:
    """The run's partition window as inclusive Helsinki calendar days (one day, or a whole range)."""
    time_window = context.partition_time_window
    return Window(time_window.start.date(), (time_window.end - timedelta(days=1)).date())


def covers_latest_partition_only(context: dg.AssetExecutionContext) -> bool:
    """True when the run materializes exactly one partition and it is the latest one (the nightly run)."""
    keys = context.partition_keys
    return len(keys) == 1 and keys[0] == daily_partitions.get_last_partition_key()
