"""Several writers (`PullSpec.writers`): batches written at once on connections of their own store exactly what
one writer stores, and a batch whose write fails costs only its own clients."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pull_world import LAST_DAY, SANDBOX_START

from confirma_pipeline.pull import PullValidationError
from confirma_pipeline.pull.engine import pull
from confirma_pipeline.pull.payments import PAYMENTS
from confirma_pipeline.pull.window import Window
from confirma_pipeline.run.context import RunContext

WINDOW = Window(SANDBOX_START, LAST_DAY)
COLUMNS = "creditor_id, payment_key, payment_day, amount"


def _stored(world) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(
            f"SELECT {COLUMNS} FROM confirma.payments ORDER BY creditor_id, payment_key"
        ).fetchall()


def _pull(world, spec):
    return pull(spec, RunContext(world.dsn, world.api, world.vault), WINDOW)


def test_two_writers_store_what_one_writer_stores(world):
    # flush_rows=1: every client is a batch of its own, so the two writers really write at once
    one = _pull(world, replace(PAYMENTS, writers=1, flush_rows=1))
    stored = _stored(world)
    assert stored and one.written["confirma.payments"]["inserted"] == len(stored)
    with world.connect() as conn:
        conn.execute("DELETE FROM confirma.payments")
    two = _pull(world, replace(PAYMENTS, writers=2, flush_rows=1))
    assert _stored(world) == stored
    assert two.written == one.written and two.clients_pulled == one.clients_pulled == len(world.client_ids)
    again = _pull(world, replace(PAYMENTS, writers=2, flush_rows=1))  # an unchanged re-pull writes nothing
    assert [again.written["confirma.payments"].get(k, 0) for k in ("inserted", "updated", "deleted")] == [
        0,
        0,
        0,
    ]


@pytest.mark.parametrize("writers", [1, 2])
def test_a_failed_write_costs_only_its_own_clients(world, writers):
    failing = sorted(world.client_ids)[0]

    def write(conn, frame, table, items, run):
        if any(item.creditor_id == failing for item in items):
            raise ValueError("this batch cannot be written")
        return PAYMENTS.write(conn, frame, table, items, run)

    with pytest.raises(PullValidationError) as failed:  # after every client was tried
        _pull(world, replace(PAYMENTS, writers=writers, flush_rows=1, write=write))
    assert f"client {failing}" in str(failed.value) and "this batch cannot be written" in str(failed.value)
    stored = {row[0] for row in _stored(world)}
    assert stored == set(world.client_ids) - {failing}
