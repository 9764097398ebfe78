"""The nightly schedule's cron and timezone, and the new-creditors sensor's cheap watermark."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import psycopg

from confirma_pipeline.defs.automation import new_creditors_sensor, nightly_sync, nightly_sync_schedule
from confirma_pipeline.defs.resources import WarehouseResource
from confirma_pipeline.local.sample_data import build_sample, seed_warehouse


def test_nightly_schedule_runs_at_two_helsinki_time_and_is_stopped_by_default():
    from confirma_pipeline.definitions import defs

    schedule = defs().resolve_schedule_def(nightly_sync_schedule.name)
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Helsinki"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.job_name == nightly_sync.name


def test_schedule_tick_targets_the_helsinki_day_that_just_ended():
    from confirma_pipeline.definitions import defs

    schedule = defs().resolve_schedule_def("nightly_sync_schedule")
    tick = dt.datetime(2026, 6, 15, 23, 0, tzinfo=dt.timezone.utc)  # 02:00 on the 16th in Helsinki (UTC+3)
    with dg.build_schedule_context(scheduled_execution_time=tick) as context:
        requests = list(schedule.evaluate_tick(context).run_requests)
    assert [r.partition_key for r in requests] == ["2026-06-15"]


def _evaluate(dsn: str, cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor, resources={"warehouse": WarehouseResource(dsn=dsn)})
    return new_creditors_sensor(context)


def test_sensor_requests_onboarding_only_for_new_creditors(warehouse_dsn):
    empty = _evaluate(warehouse_dsn, None)
    assert not empty.run_requests and empty.cursor.startswith("0|")

    sample = build_sample(3, 1, invalid_creditors=0, invalid_invoices_per_kind=0)
    with psycopg.connect(warehouse_dsn) as conn:
        seed_warehouse(conn, sample)
    first = _evaluate(warehouse_dsn, empty.cursor)
    assert len(first.run_requests) == 1 and first.cursor.startswith("3|")

    again = _evaluate(warehouse_dsn, first.cursor)  # nothing changed: no new request
    assert not again.run_requests and again.cursor == first.cursor

    with psycopg.connect(warehouse_dsn) as conn:  # two onboarded: the count moves, onboarding is requested
        conn.execute(
            "INSERT INTO confirma.clients (creditor_id, state) VALUES ('CRED-0001', 'created'), ('CRED-0002', 'created')"
        )
    moved = _evaluate(warehouse_dsn, again.cursor)
    assert len(moved.run_requests) == 1 and moved.cursor.startswith("1|")
    assert moved.run_requests[0].run_key != first.run_requests[0].run_key

    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute("INSERT INTO confirma.clients (creditor_id, state) VALUES ('CRED-0003', 'created')")
    done = _evaluate(warehouse_dsn, moved.cursor)
    assert not done.run_requests and done.cursor.startswith("0|")
