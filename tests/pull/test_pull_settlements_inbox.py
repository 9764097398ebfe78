"""Settlements fetched with unfetchedOnly=true are fetched once and never lost, even when the write fails after
the fetch (the API has already marked them fetched): the raw answer waits in confirma.api_inbox, the gap check
fails meanwhile, and the next run writes it. The date-range mode recovers any settlement."""

from __future__ import annotations

from datetime import date

import dagster as dg
import psycopg
import pytest
from pull_world import materialize, metadata_value

import confirma_pipeline.pull.settlements as settlements_module
from confirma_pipeline.defs.lib.partitions import daily_partitions
from confirma_pipeline.defs.receivables.assets import SettlementsConfig, settlements
from confirma_pipeline.defs.receivables.checks import settlements_not_lost
from confirma_pipeline.pull.errors import PullIncompleteError


def _run_latest(world) -> dg.MaterializeResult:
    context = dg.build_asset_context(
        partition_key=daily_partitions.get_last_partition_key(), resources=world.resources()
    )
    return settlements(context, config=SettlementsConfig())  # mode auto -> unfetched for the latest day


def _gap_check(world) -> dg.AssetCheckResult:
    return settlements_not_lost(warehouse=world.resources()["warehouse"])


def test_unfetched_settlements_survive_a_failed_write_and_are_fetched_once(world, monkeypatch):
    state = world.sandbox_state()
    expected = {s["settlementId"] for s in state.settlements}
    assert expected and all(s["apiFetchDate"] is None for s in state.settlements)

    real_upsert = settlements_module.upsert_frame
    # The write of one client's answer fails (alone, or in a batch with the others' answers, which are then
    # written one by one).
    victim = next(c for c, i in world.client_ids.items() if i == state.settlements[0]["clientIdentifier"])

    def upsert_failing_for_one_client(conn, frame, *args, **kwargs):
        if victim in set(frame["creditor_id"]):
            raise psycopg.OperationalError("simulated: server closed the connection during the write")
        return real_upsert(conn, frame, *args, **kwargs)

    monkeypatch.setattr(settlements_module, "upsert_frame", upsert_failing_for_one_client)
    with pytest.raises(PullIncompleteError, match="1 client"):
        _run_latest(world)
    monkeypatch.setattr(settlements_module, "upsert_frame", real_upsert)

    # The API has marked everything fetched: asking again returns nothing, for every client.
    assert all(s["apiFetchDate"] for s in state.settlements)
    for token in world.tokens.values():
        assert world.api.get_settlements(token, unfetched_only=True).settlements == []
    # One client's answer was not written: it waits in the inbox (with the error), and the gap check fails.
    assert world.scalar("SELECT count(*) FROM confirma.api_inbox WHERE processed_at IS NULL") == 1
    assert "OperationalError" in world.scalar(
        "SELECT last_error FROM confirma.api_inbox WHERE processed_at IS NULL"
    )
    written_first = world.scalar("SELECT count(*) FROM confirma.settlements")
    assert written_first < len(expected)
    gap = _gap_check(world)
    assert not gap.passed and gap.severity == dg.AssetCheckSeverity.ERROR

    # The next run writes the leftover first; nothing is fetched twice.
    result = _run_latest(world)
    assert result.metadata["mode"].value == "unfetched"
    assert result.metadata["inbox_recovered"].value == 1
    assert result.metadata["records_received"].value == len(expected) - written_first  # the recovered ones
    stored = {
        r[0] for r in world.connect().execute("SELECT settlement_id FROM confirma.settlements").fetchall()
    }
    assert stored == expected
    assert _gap_check(world).passed
    with world.connect() as conn:
        per_settlement = conn.execute(
            """SELECT e->>'settlementId', count(*) FROM confirma.api_inbox,
                      jsonb_array_elements(payload->'settlements') AS e GROUP BY 1"""
        ).fetchall()
    assert {int(sid) for sid, _ in per_settlement} == expected
    assert all(n == 1 for _, n in per_settlement), "a settlement was fetched twice"

    # A third nightly run finds nothing new and changes no row.
    before = world.snapshot()
    assert _run_latest(world).metadata["records_received"].value == 0
    assert world.snapshot() == before
    assert world.scalar("SELECT count(*) FROM confirma.api_inbox") == 2


def test_range_mode_recovers_a_settlement_missing_from_the_warehouse(world):
    first = materialize(world, [settlements], partition_key=daily_partitions.get_last_partition_key())
    assert first.success and metadata_value(first, "settlements", "mode") == "unfetched"
    before = world.snapshot()
    settlement_id, day = (
        world.connect()
        .execute(
            "SELECT settlement_id, settlement_date FROM confirma.settlements ORDER BY settlement_id LIMIT 1"
        )
        .fetchone()
    )
    with world.connect() as conn:
        conn.execute("DELETE FROM confirma.settlements WHERE settlement_id = %s", (settlement_id,))
    # The nightly mode cannot bring it back (already fetched); the range mode for its day does.
    assert materialize(world, [settlements], partition_key=daily_partitions.get_last_partition_key()).success
    assert (
        world.scalar("SELECT count(*) FROM confirma.settlements WHERE settlement_id = %s", (settlement_id,))
        == 0
    )
    assert isinstance(day, date)
    rerun = materialize(world, [settlements], partition_key=day.isoformat())
    assert rerun.success and metadata_value(rerun, "settlements", "mode") == "range"
    after = world.snapshot()
    # Same rows as before the loss, except fetched_at of the re-inserted settlement (it was written again).
    strip = {"confirma.settlements": lambda r: r[:-1]}
    for table, rows in before.items():
        cut = strip.get(table, lambda r: r)
        assert [cut(r) for r in after[table]] == [cut(r) for r in rows], table


def test_range_repull_of_unchanged_settlements_writes_nothing_and_keeps_the_first_fetch_date(world):
    """An API whose range mode does not mark settlements fetched answers apiFetchDate null again, with a later
    createdAt: the re-pull must neither rewrite the rows nor replace the first fetch date."""
    first = materialize(world, [settlements], partition_key=daily_partitions.get_last_partition_key())
    assert first.success
    query = "SELECT settlement_id, settlement_date, api_fetch_date, xmin::text FROM confirma.settlements ORDER BY 1"
    before = world.connect().execute(query).fetchall()
    assert before
    state = world.sandbox_state()
    with state.lock:
        for s in state.settlements:
            s["apiFetchDate"] = None  # as if the first (range) fetch had not marked them
    state_days = sorted({row[1] for row in before})

    for day in state_days:
        rerun = materialize(world, [settlements], partition_key=day.isoformat())
        assert rerun.success and metadata_value(rerun, "settlements", "mode") == "range"

    assert world.connect().execute(query).fetchall() == before  # same dates, same row versions
