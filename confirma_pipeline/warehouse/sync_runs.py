"""The run log (`confirma.sync_runs`): one row per push or pull step, from the CLI and from Dagster.

`sync_run(...)` is the one hook: callers wrap a push or a pull in it and hand it the report's totals; the
row is written when the block ends, `failed` (with the redacted error line) when it raises. Writing the row
never breaks the sync it describes: a failure to write is logged and the sync's own outcome stands.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from psycopg.types.json import Jsonb

_log = logging.getLogger(__name__)


def cli_run_id() -> str:
    return f"cli-{uuid.uuid4().hex[:12]}"


@dataclass
class SyncRun:
    run_id: str
    job: str
    entity: str
    direction: str  # push | pull
    window_start: dt.date | None = None
    window_end: dt.date | None = None
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    status: str = "succeeded"
    counts: dict[str, int] = field(default_factory=dict)
    api_calls: int = 0
    error: str | None = None
    _t0: float = field(default_factory=time.monotonic, repr=False)

    def outcome(self, counts: Mapping[str, int], api_calls: int, left_for_later: int) -> None:
        """The step's totals (a report's `sync_outcome()`); rows left for later (failed, unknown,
        rejected, waiting) make it partial."""
        self.counts = {k: int(v) for k, v in counts.items()}
        self.api_calls = int(api_calls)
        self.status = "partial" if left_for_later else "succeeded"


@contextmanager
def sync_run(
    dsn: str | None,
    *,
    run_id: str,
    job: str,
    entity: str,
    direction: str,
    window: tuple[dt.date, dt.date] | None = None,
) -> Iterator[SyncRun]:
    run = SyncRun(run_id, job, entity, direction, *(window or (None, None)))
    try:
        yield run
    except BaseException as exc:
        from confirma_pipeline.errors import redact

        run.status = "failed"
        run.error = redact((str(exc).strip().splitlines() or [type(exc).__name__])[0])[:500]
        _write(dsn, run)
        raise
    _write(dsn, run)


def _write(dsn: str | None, run: SyncRun) -> None:
    from confirma_pipeline.warehouse.connection import connect

    duration = time.monotonic() - run._t0
    try:
        with connect(dsn, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO confirma.sync_runs (run_id, job, entity, direction, window_start, window_end, "
                "started_at, finished_at, status, counts, api_calls, duration_s, error) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    run.run_id,
                    run.job,
                    run.entity,
                    run.direction,
                    run.window_start,
                    run.window_end,
                    run.started_at,
                    run.started_at + dt.timedelta(seconds=duration),
                    run.status,
                    Jsonb(run.counts),
                    run.api_calls,
                    round(duration, 3),
                    run.error,
                ),
            )
    except Exception as exc:  # the run log must never turn a good sync into a failed one
        from confirma_pipeline.errors import redact

        _log.warning(
            "could not write confirma.sync_runs for %s %s: %s", run.entity, run.run_id, redact(str(exc))
        )
