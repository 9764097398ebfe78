"""A pull described as data: what to ask, how to ask it, how to check and map the answer, how to write it.

Payments, distribution, cases and e-invoice addresses share one shape (per work item: one API call with the
token of the client the item belongs to; the answer checked, mapped to a frame of a pulled table, validated
against its pandera model and written by upsert or by replacing the item's scope). Each is one `PullSpec`;
`pull/engine.py` runs any of them. Adding a pulled entity of that shape is one spec, one model
(`validation/pulled.py`) and one migration.

Settlements and client tokens are not specs: settlements keep every raw answer in an inbox before parsing
(the API marks them fetched on read), and the client-token refresh renews and stores tokens instead of writing
an answer (see their modules). Both still name their `PulledTable`, which the Dagster factory reads.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
import pandera.pandas as pa
import psycopg

from confirma_pipeline.pull.window import Window
from confirma_pipeline.validation.pulled import table_of
from confirma_pipeline.warehouse.bulk import replace_window, upsert_frame

if TYPE_CHECKING:
    from confirma_pipeline.run.context import RunContext


@dataclass(frozen=True)
class PulledTable:
    """Where a pull writes: its main table and that table's model, plus tables it writes alongside (their row
    counts are shown with the asset)."""

    table: str
    model: type[pa.DataFrameModel]
    also_written: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkItem:
    """One API call of a pull. `creditor_id` is the client whose token asks, and the one marked when the
    call is refused (401) or its answer is invalid; `key` is what is asked (the client itself, a case id, a
    business id) and the scope a `ReplaceScopes` write replaces; `detail` is what the frame needs besides the
    answer (a case's invoice number from the ledger)."""

    creditor_id: str
    key: Hashable
    detail: Any = None


@dataclass(frozen=True)
class PullRun:
    """One run of a spec: the run's collaborators and the spec's own arguments."""

    ctx: RunContext
    window: Window | None = None  # the partition window (None: not partitioned)
    fetch_window: Window | None = None  # what is asked of the API: the window plus any look-back


@dataclass(frozen=True)
class PerWindow:
    """Fetch: `client.<method>(token, first day, last day)`, once per item for the run's whole fetch window."""

    method: str
    windowed = True  # the run needs a window

    def __call__(self, client, token: str, item: WorkItem, run: PullRun):
        return getattr(client, self.method)(token, run.fetch_window.start, run.fetch_window.end)


@dataclass(frozen=True)
class PerKey:
    """Fetch: `client.<method>(token, item key)` (a case id, a business id)."""

    method: str
    windowed = False

    def __call__(self, client, token: str, item: WorkItem, run: PullRun):
        return getattr(client, self.method)(token, item.key)


@dataclass(frozen=True)
class Upsert:
    """Insert new rows and update changed ones by `keys` (data that is only ever added to or corrected)."""

    keys: tuple[str, ...]

    def __init__(self, *keys: str) -> None:
        object.__setattr__(self, "keys", keys)

    def __call__(self, conn: psycopg.Connection, frame: pd.DataFrame, table: str, items, run: PullRun):
        return upsert_frame(conn, frame, table, list(self.keys))


@dataclass(frozen=True)
class ReplaceScopes:
    """Make each work item's scope (`scope_column` = the item's key, within the run's fetch window on
    `date_column` when given) hold exactly the rows of its answer: vanished rows deleted, new ones inserted,
    changed ones updated, unchanged ones untouched (data that can still change or disappear)."""

    scope_column: str
    date_column: str | None = None

    def __call__(self, conn: psycopg.Connection, frame: pd.DataFrame, table: str, items, run: PullRun):
        window = run.fetch_window if self.date_column else None
        return replace_window(
            conn, frame, table, scope_column=self.scope_column, scopes=[item.key for item in items],
            date_column=self.date_column, date_from=window and window.start, date_to=window and window.end,
        )  # fmt: skip


def per_client(conn: psycopg.Connection, creditor_ids: list[str], run: PullRun) -> list[WorkItem]:
    """The usual work: one item per active client holding a token."""
    return [WorkItem(creditor_id, creditor_id) for creditor_id in creditor_ids]


@dataclass(frozen=True)
class PullSpec:
    """One pulled entity, named after its table (whose model is `model`). The callables are plain functions so
    that each part can be replaced on its own (e.g. a fetch that streams its answer in chunks: `frames` may
    yield several frames for one answer; all frames of one item are written together, so a replaced scope is
    never written half). `engine.pull(spec, ctx, window)` runs it; each module names that call too
    (`pull_payments = partial(pull, PAYMENTS)`)."""

    model: type[pa.DataFrameModel]
    #: The API call of one item: (client, token, item, run) -> answer (`PerWindow`, `PerKey` or any callable;
    #: one with `windowed = True` makes the run take a window).
    fetch: Callable[[Any, str, WorkItem, PullRun], Any]
    #: The answer as frames of the table, not yet typed: (item, answer) -> frames.
    frames: Callable[[WorkItem, Any], Iterable[pd.DataFrame]]
    write: Upsert | ReplaceScopes
    #: The items of a run: (conn, creditor ids holding a token, run) -> items. Default: one per client.
    work: Callable[[psycopg.Connection, list[str], PullRun], Iterable[WorkItem]] = per_client
    #: Whether the answer is whole, before mapping: (answer, run) -> why not, or None.
    check_answer: Callable[[Any, PullRun], str | None] | None = None
    #: Whether a client's whole mapped frame is what was asked for: (frame, run) -> why not, or None.
    check_frame: Callable[[pd.DataFrame, PullRun], str | None] | None = None
    #: API statuses that skip one item (counted under the name given) instead of failing its client.
    skip_statuses: Mapping[int, str] = field(default_factory=dict)
    #: Runs in the write's transaction: (conn, creditor ids written) -> counts for the report.
    after_write: Callable[[psycopg.Connection, list[str]], Mapping[str, int]] | None = None
    items_counted: str | None = None  # name of the count of work items, where items are not clients
    flush_rows: int = 100_000  # rows held before a write (at an item boundary: an item is never split)
    #: Where answers vary enough in size that the mapped answers waiting for the writer must be bounded by
    #: rows rather than by their number (`run_bounded`'s size-aware option): that bound. None: by number.
    max_waiting_rows: int | None = None
    #: Writes in flight at once, each in its own transaction on its own connection. Above 1 only where two
    #: batches can never touch the same rows (each client's rows are in one batch, and the table is keyed by
    #: client): the database then works on both while the next batch is validated.
    writers: int = 1

    @property
    def table(self) -> str:
        return table_of(self.model)

    @property
    def entity(self) -> str:
        """The report's, the log's and the asset's name: the table's."""
        return self.table.split(".")[-1]

    @property
    def target(self) -> PulledTable:
        return PulledTable(self.table, self.model)

    @property
    def windowed(self) -> bool:
        return bool(getattr(self.fetch, "windowed", False))
