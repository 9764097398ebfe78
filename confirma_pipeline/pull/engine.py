"""The one engine of the pulls that share a shape (`pull/spec.py`): work items fetched with bounded concurrency,
each client's answers checked, mapped, validated and written, one client's failure never stopping the others.

Per run:
1. the active clients holding a token, and the spec's work items for them;
2. each item fetched on a worker thread with its client's token (a client whose token was refused is not
   asked again in this run); an answer with a status of `skip_statuses` is counted and skipped;
3. each answer checked (`check_answer`) and mapped (`frames`) by the worker that fetched it, and held per
   client by the writer's thread (a spec with `max_waiting_rows` bounds the answers waiting by rows);
4. once all of a client's items are done, its answer is checked whole (`check_frame`) and waits;
5. write, once `flush_rows` rows wait and at the end: the waiting clients' frames validated against the model
   in one call (coerced to its dtypes; `common.validate_frames` names an invalid client), then written
   together in one transaction (`write`, then `after_write`): on the run's connection, or for a spec with
   `writers` > 1 on one of that many connections of their own, up to that many batches at once (the next
   batch is validated meanwhile). A client whose answer is invalid, or whose token was refused, has none of
   its answers written;
6. what failed is accounted for by `common.record_client_error` (401: that token marked invalid; invalid
   answer: the run fails for an operator; transient: the step is retried), after every client was tried.
"""

from __future__ import annotations

import contextlib
import queue
from collections import Counter, defaultdict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd
import psycopg

from confirma_pipeline.api.concurrency import run_bounded
from confirma_pipeline.api.errors import RejectedError, UnauthorizedError
from confirma_pipeline.pull.common import active_clients, record_client_error, validate_frames
from confirma_pipeline.pull.errors import PullValidationError, answer_invalid
from confirma_pipeline.pull.memory import arrow_on_c_heap, give_back_memory
from confirma_pipeline.pull.report import PullReport
from confirma_pipeline.pull.spec import PullRun, PullSpec, WorkItem
from confirma_pipeline.pull.window import Window
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.validation.pulled import columns
from confirma_pipeline.warehouse.client_tokens import load_tokens

_SKIPPED = object()  # an item of a client whose token was refused earlier in this run


def pull(
    spec: PullSpec,
    ctx: RunContext,
    window: Window | None = None,
    *,
    lookback_days: int = 0,
    concurrency: int = 8,
) -> PullReport:
    """Pull `spec` for the clients of `ctx` (of `window` plus `lookback_days` before it, for a spec whose fetch
    is windowed; none for the others)."""
    if spec.windowed != (window is not None):
        raise ValueError(f"{spec.entity}: a window is {'needed' if spec.windowed else 'not taken'}")
    fetch_window = window.extended_back(lookback_days) if window is not None else None
    return run_pull(spec, PullRun(ctx, window, fetch_window), concurrency=concurrency)


def run_pull(spec: PullSpec, run: PullRun, *, concurrency: int = 8) -> PullReport:
    """Run `spec` for the clients of `run.ctx`; returns the report, or raises once every client was tried
    (`PullReport.raise_for_failures`)."""
    ctx = run.ctx
    report = PullReport(spec.entity, window=run.window, fetch_window=run.fetch_window)
    report.start_calls(ctx.client)
    with arrow_on_c_heap(), ctx.connect(autocommit=True) as conn, _Writer(spec, run, conn, report) as writer:
        clients = active_clients(conn, ctx.creditor_ids)
        tokens = load_tokens(conn, ctx.vault, clients)
        report.clients = len(clients)
        items = list(spec.work(conn, [c for c in clients if c in tokens], run))
        if spec.items_counted:
            report.extra[spec.items_counted] = len(items)
        held = _Held(spec, run, conn, report, writer, Counter(item.creditor_id for item in items))
        refused: set[str] = set()

        def fetch(item: WorkItem):
            """On a worker thread: the call, then its answer checked and mapped (so the writer's thread only
            validates and writes); an error is handed to the writer's thread as the outcome."""
            if item.creditor_id in refused:
                return _SKIPPED
            try:
                answer = spec.fetch(ctx.client, tokens[item.creditor_id], item, run)
            except UnauthorizedError:
                refused.add(item.creditor_id)
                raise
            except RejectedError as exc:
                if exc.status in spec.skip_statuses:
                    return _Skip(exc.status)
                raise
            if spec.check_answer is not None and (problem := spec.check_answer(answer, run)):
                raise _invalid(spec, item.creditor_id, problem)
            return _Mapped(list(spec.frames(item, answer)))

        for item, outcome in run_bounded(fetch, items, concurrency, **_size_bound(spec)):
            held.done(item, _taken(spec, run, conn, report, item, outcome))
        held.write(final=True)
        writer.finish()
        report.clients_pulled = sum(1 for c in tokens if not _failed(report, c))
    report.finish(ctx.client)
    ctx.logger.info(report.summary_line())
    report.raise_for_failures()
    return report


@dataclass(frozen=True)
class _Mapped:
    """An answer checked and mapped to frames of the table, on the worker that fetched it."""

    frames: list[pd.DataFrame]

    @property
    def rows(self) -> int:
        return sum(len(f) for f in self.frames)


@dataclass(frozen=True)
class _Skip:
    """An answer with one of the spec's `skip_statuses`."""

    status: int


def _size_bound(spec: PullSpec) -> dict:
    """`run_bounded`'s size-aware bound, for a spec that sets `max_waiting_rows`: the mapped answers waiting for
    the writer are bounded by rows, not by count (one client's payments may be 50k rows, another's 50)."""
    if spec.max_waiting_rows is None:
        return {}
    return {
        "size": lambda outcome: outcome.rows if isinstance(outcome, _Mapped) else 0,
        "max_waiting_size": spec.max_waiting_rows,
    }


def _failed(report: PullReport, creditor_id: str) -> bool:
    return creditor_id in report.unauthorized or creditor_id in report.invalid or creditor_id in report.failed


def _invalid(spec: PullSpec, creditor_id: str, detail: str) -> PullValidationError:
    return PullValidationError(answer_invalid(spec.entity, creditor_id, detail))


def _taken(spec: PullSpec, run: PullRun, conn, report: PullReport, item: WorkItem, outcome):
    """The frames of one item's answer (checked and mapped by the worker); None when there is nothing to hold
    (skipped, or its client failed: the failure is accounted for here, on the writer's thread)."""
    creditor_id = item.creditor_id
    if outcome is _SKIPPED or _failed(report, creditor_id):
        return None
    if isinstance(outcome, _Skip):
        report.extra[spec.skip_statuses[outcome.status]] += 1
        run.ctx.logger.warning(
            f"{spec.entity}: the API answered {outcome.status} for {item.key!r} (client {creditor_id}); skipped"
        )
        return None
    if isinstance(outcome, BaseException):
        if not isinstance(outcome, Exception):
            raise outcome
        record_client_error(conn, report, creditor_id, outcome, run.ctx.logger)
        return None
    return outcome.frames


@dataclass
class _Held:
    """Answers mapped but not written yet, per client; checked once all of a client's items are done, validated
    in one call per write."""

    spec: PullSpec
    run: PullRun
    conn: psycopg.Connection
    report: PullReport
    writer: _Writer
    remaining: Counter  # items not done yet, per client
    frames: dict[str, list[pd.DataFrame]] = field(default_factory=lambda: defaultdict(list))
    items: dict[str, list[WorkItem]] = field(default_factory=lambda: defaultdict(list))
    ready: list[tuple[str, pd.DataFrame]] = field(default_factory=list)  # validated, per client
    ready_rows: int = 0

    def done(self, item: WorkItem, frames: list[pd.DataFrame] | None) -> None:
        creditor_id = item.creditor_id
        if frames is not None:
            self.report.records += sum(len(f) for f in frames)
            self.items[creditor_id].append(item)
            self.frames[creditor_id].extend(frames)
        self.remaining[creditor_id] -= 1
        if self.remaining[creditor_id] == 0:
            self._validate(creditor_id)
            if self.ready_rows >= self.spec.flush_rows:
                self.write()

    def _validate(self, creditor_id: str) -> None:
        """Check the client's whole answer (`check_frame`); the model validates it at the write."""
        spec, frames = self.spec, self.frames.pop(creditor_id, [])
        if creditor_id not in self.items or _failed(self.report, creditor_id):
            return
        try:
            if len(frames) == 1:  # (no copy of the usual single frame)
                whole = frames[0].reset_index(drop=True)
            elif frames:
                whole = pd.concat(frames, ignore_index=True)
            else:
                whole = pd.DataFrame(columns=columns(spec.model))
            if spec.check_frame is not None and (problem := spec.check_frame(whole, self.run)):
                raise _invalid(spec, creditor_id, problem)
        except Exception as exc:
            record_client_error(self.conn, self.report, creditor_id, exc, self.run.ctx.logger)
            return
        self.ready.append((creditor_id, whole))
        self.ready_rows += len(whole)

    def write(self, final: bool = False) -> None:
        """Write every validated client's frames in one transaction (`write`, then `after_write`), through the
        run's `_Writer`."""
        spec, conn, report = self.spec, self.conn, self.report
        for creditor_id in list(self.frames) if final else ():  # none expected: every item comes back
            self._validate(creditor_id)
        ready = {c: f for c, f in self.ready if not _failed(report, c)}
        self.ready, self.ready_rows = [], 0
        if not ready:
            return
        # One model validation for the whole batch (its cost is mostly per call); an invalid client is found
        # and named by `validate_frames`, the others are written.
        frame, written, invalid = validate_frames(spec.model, ready, spec.entity)
        for creditor_id, exc in invalid.items():
            record_client_error(conn, report, creditor_id, exc, self.run.ctx.logger)
        for creditor_id in written:
            report.count(creditor_id, spec.entity, len(ready[creditor_id]))
        items = [item for c in written for item in self.items.pop(c, [])]
        del ready  # (the mapped frames: only their validated copy is written)
        if not written:
            return
        self.writer.write(frame, written, items)


class _Writer:
    """Writes validated batches, each in one transaction: inline on the run's connection, or (a spec with
    `writers` > 1) on a pool of that many threads and connections of their own, so the database inserts one
    batch while the next is validated and another is inserted. Outcomes are accounted for on the caller's
    thread (the report and the run's connection are not shared with the writers)."""

    def __init__(self, spec: PullSpec, run: PullRun, conn: psycopg.Connection, report: PullReport) -> None:
        self.spec, self.run, self.conn, self.report = spec, run, conn, report
        self._stack = contextlib.ExitStack()
        self._pool: ThreadPoolExecutor | None = None
        self._connections: queue.SimpleQueue[psycopg.Connection] = queue.SimpleQueue()
        self._pending: deque[tuple[list[str], Future]] = deque()

    def __enter__(self) -> _Writer:
        if self.spec.writers > 1:
            # The connections are closed after the pool has stopped (the stack unwinds in reverse).
            for _ in range(self.spec.writers):
                self._connections.put(self._stack.enter_context(self.run.ctx.connect(autocommit=True)))
            self._pool = self._stack.enter_context(
                ThreadPoolExecutor(self.spec.writers, thread_name_prefix="confirma-pull-write")
            )
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()  # waits for writes still running: each commits or rolls back whole

    def write(self, frame: pd.DataFrame, written: list[str], items: list[WorkItem]) -> None:
        if self._pool is None:
            self._settle(written, lambda: self._write_on(self.conn, frame, written, items))
            return
        while len(self._pending) >= self.spec.writers:
            self._settle_oldest()
        self._pending.append((written, self._pool.submit(self._write_pooled, frame, written, items)))

    def finish(self) -> None:
        while self._pending:
            self._settle_oldest()

    def _settle_oldest(self) -> None:
        written, future = self._pending.popleft()
        self._settle(written, future.result)

    def _write_pooled(self, frame: pd.DataFrame, written: list[str], items: list[WorkItem]):
        conn = self._connections.get()
        try:
            return self._write_on(conn, frame, written, items)
        finally:
            self._connections.put(conn)

    def _write_on(
        self, conn: psycopg.Connection, frame: pd.DataFrame, written: list[str], items: list[WorkItem]
    ):
        spec = self.spec
        with conn.transaction():
            result = spec.write(conn, frame, spec.table, items, self.run)
            counts = spec.after_write(conn, written) if spec.after_write else {}
        return result, counts

    def _settle(self, written: list[str], outcome) -> None:
        """The write's outcome (`outcome()`: its result, or its error) accounted for on this thread."""
        try:
            result, counts = outcome()
        except Exception as exc:
            for creditor_id in written:
                record_client_error(self.conn, self.report, creditor_id, exc, self.run.ctx.logger)
            return
        self.report.wrote(self.spec.table, result)
        self.report.extra.update(counts)
        give_back_memory()
