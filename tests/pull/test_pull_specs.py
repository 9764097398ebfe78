"""One table, every `PullSpec` (pull.SPECS): against the sandbox over loopback and the embedded warehouse, each
spec writes its rows, a rerun writes nothing new, a refused token (401) marks only that client, and an answer
failing the model is not written (and fails the run naming the client and the column)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pull_world import LAST_DAY, SANDBOX_START

from confirma_pipeline.pull import SPECS, PullValidationError
from confirma_pipeline.pull.distribution import DISTRIBUTION
from confirma_pipeline.pull.engine import pull
from confirma_pipeline.pull.spec import PullRun, PullSpec, ReplaceScopes
from confirma_pipeline.pull.window import Window
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.validation.pulled import columns

WINDOW = Window(SANDBOX_START, LAST_DAY)
# What must be in the warehouse before a spec has work: cases read the case ids distribution wrote.
PREPARE = {"cases": lambda ctx: pull(DISTRIBUTION, ctx, WINDOW)}

pytestmark = pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.entity)


def _ctx(world) -> RunContext:
    return RunContext(world.dsn, world.api, world.vault)


def _pull(world, spec: PullSpec):
    ctx = _ctx(world)
    return pull(spec, ctx, WINDOW) if spec.windowed else pull(spec, ctx)


def _prepared(world, spec: PullSpec):
    """The spec's work items once its prerequisites are in the warehouse."""
    ctx = _ctx(world)
    if spec.entity in PREPARE:
        PREPARE[spec.entity](ctx)
    with world.connect() as conn:
        items = list(spec.work(conn, sorted(world.client_ids), PullRun(ctx)))
    assert items, f"the test world gives {spec.entity} no work"
    return items


def _rows(world, spec: PullSpec) -> list:
    with world.connect() as conn:
        return sorted(conn.execute(f"SELECT * FROM {spec.table}").fetchall(), key=repr)


def _rows_of(world, spec: PullSpec, items, creditor_id: str) -> int:
    """Rows written for one client's work items (by client, or by the scopes it asked for)."""
    if "creditor_id" in columns(spec.model):
        column, values = "creditor_id", [creditor_id]
    else:
        assert isinstance(spec.write, ReplaceScopes)
        column, values = spec.write.scope_column, [i.key for i in items if i.creditor_id == creditor_id]
    return world.scalar(f"SELECT count(*) FROM {spec.table} WHERE {column} = ANY(%s)", (values,))


def test_writes_its_rows_and_a_rerun_writes_nothing_new(world, spec):
    _prepared(world, spec)
    report = _pull(world, spec)
    assert not (report.unauthorized or report.invalid or report.failed)
    assert report.clients_pulled == report.clients == len(world.client_ids)
    rows = _rows(world, spec)
    assert rows and report.written[spec.table]["inserted"] == len(rows) == report.records

    again = _pull(world, spec)
    written = again.written.get(spec.table, {})
    assert [written.get(k, 0) for k in ("inserted", "updated", "deleted")] == [0, 0, 0]
    assert _rows(world, spec) == rows  # content and fetched_at alike


def test_a_refused_token_marks_only_that_client(world, spec):
    items = _prepared(world, spec)
    refused = items[0].creditor_id
    world.store_bad_token(refused)
    report = _pull(world, spec)  # no exception: a 401 alone does not fail the run
    assert report.unauthorized == [refused] and not report.invalid and not report.failed
    assert report.clients_pulled == len(world.client_ids) - 1
    assert _rows_of(world, spec, items, refused) == 0
    assert report.written.get(spec.table, {}).get("inserted", 0) == len(_rows(world, spec))
    with world.connect() as conn:
        statuses = dict(conn.execute("SELECT creditor_id, status FROM confirma.client_tokens").fetchall())
    assert statuses == {c: "invalid" if c == refused else "valid" for c in world.client_ids}


def _client_with_rows(world, spec: PullSpec, items) -> str:
    """A client whose answer has rows (asked directly, nothing written)."""
    run = PullRun(_ctx(world), WINDOW, WINDOW)
    for item in items:
        answer = spec.fetch(world.api, world.tokens[item.creditor_id], item, run)
        if any(len(frame) for frame in spec.frames(item, answer)):
            return item.creditor_id
    raise AssertionError(f"no client has {spec.entity} in the test world")


def test_an_answer_failing_the_model_is_not_written(world, spec):
    items = _prepared(world, spec)
    bad = _client_with_rows(world, spec, items)
    schema = spec.model.to_schema().columns
    required = next(name for name, c in schema.items() if c.required and not c.nullable)

    def frames_missing_a_required_value(item, answer):
        frames = list(spec.frames(item, answer))
        return [f.assign(**{required: None}) if item.creditor_id == bad else f for f in frames]

    broken = replace(spec, frames=frames_missing_a_required_value)
    with pytest.raises(PullValidationError) as failure:
        _pull(world, broken)
    assert f"client {bad}" in str(failure.value) and required in str(failure.value)
    assert _rows_of(world, spec, items, bad) == 0
    others = [c for c in world.client_ids if c != bad]
    written = sum(_rows_of(world, spec, items, c) for c in others)
    assert written == len(_rows(world, spec))  # the others' answers were written
