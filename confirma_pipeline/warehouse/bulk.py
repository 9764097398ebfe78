"""Bulk, idempotent writes of DataFrames into the tables the pipeline owns, and chunked reads.

Writes: the frame is streamed as CSV (pyarrow's writer, `chunk_rows` at a time, see
`copy_format.py`) by COPY into a TEMP staging table with the target's column types, then merged
with one `INSERT ... SELECT ... ON CONFLICT` statement. Everything runs inside
`conn.transaction()`: a transaction of its own on an idle connection, a savepoint when the caller
is already in one (the caller's COMMIT then decides). A failure leaves the target as it was.

Change detection (`upsert_frame`, `replace_window`): an existing row is updated only when one of
its compared columns `IS DISTINCT FROM` the new value, so an unchanged re-sync writes no row
versions. "Touch" columns (default `fetched_at`) are bookkeeping, not content: they are left out
of the comparison and are updated only together with a real change. A row that did not change
keeps the `fetched_at` of the run that last changed it (or inserted it): re-running a sync leaves
the table byte-for-byte identical, and `fetched_at` reads as "content last seen changed".

The longer statements live in `sql/upserts/*.sql`, one-line ones where they run; only identifier lists
are composed here, always with `psycopg.sql.Identifier` (a `schema.table` name is split on its dot).

Reads: `stream_query_frames` streams a query with `COPY (query) TO STDOUT` and yields DataFrames
of `chunk_rows` rows parsed by pyarrow, so memory does not grow with the table.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from confirma_pipeline.paths import load_sql
from confirma_pipeline.warehouse.copy_format import (
    READ_SESSION_SETTINGS,
    UTC_SESSION_SETTINGS,
    PgColumn,
    ResultColumn,
    empty_frame,
    read_csv_frames,
    write_csv_chunks,
)

DEFAULT_CHUNK_ROWS = 200_000
DEFAULT_TOUCH_COLUMNS: tuple[str, ...] = ("fetched_at",)
#: work_mem for the merge and window statements (raised to this for their transaction, never
#: lowered, then set back): the stage-to-target hash join of a million-row merge then stays in
#: memory and keeps the stage's order (server memory, about 200 MB per million rows at most).
MERGE_WORK_MEM = "256MB"
#: Planner settings for the window delete (`window_delete_missing.sql`), so that its plan does not depend
#: on the target's statistics. That anti join reads both sides whole anyway (every stored row of the window
#: is checked against the stage), so a hash (or merge) anti join is always right. A nested loop is picked
#: only when the target has no or stale statistics and the window looks empty (a table just loaded and not
#: yet analyzed, or a client added since the last ANALYZE), and it then rescans the unindexed stage once
#: per stored row: n squared (PostgreSQL 15, 10k rows: 10.7 s instead of 0.4 s; 100k rows: over 10 min).
#: The merge is left to the planner: its only join is on the target's primary key, whose size the planner
#: reads from the table's current pages, and a per-row index probe there is no cliff.
LOOP_FREE_SETTINGS: dict[str, str] = {"enable_nestloop": "off"}

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "DEFAULT_TOUCH_COLUMNS",
    "ReplaceResult",
    "UpsertResult",
    "copy_frame",
    "replace_window",
    "stream_query_frames",
    "table_identifier",
    "upsert_frame",
]


@dataclass(frozen=True)
class UpsertResult:
    rows_in: int
    inserted: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class ReplaceResult:
    """Outcome of `replace_window`.

    strategy 'merge': `deleted` = rows of the window whose key is not in the new set; the new set is
    split into `inserted` (new keys), `updated` (changed rows) and `unchanged`.
    strategy 'delete_insert': `deleted` = every row that was in the window, `inserted` = rows_in.
    """

    rows_in: int
    deleted: int
    inserted: int
    updated: int = 0
    unchanged: int = 0


# --------------------------------------------------------------------------- helpers


@cache
def _sql_text(name: str) -> str:
    return load_sql(f"upserts/{name}.sql").strip()


def _template(name: str) -> sql.SQL:
    return sql.SQL(_sql_text(name))


def table_identifier(table: str) -> sql.Identifier:
    """`"schema.table"` or `"table"` as a (schema-qualified) identifier."""
    parts = table.split(".")
    if not 1 <= len(parts) <= 2 or not all(parts):
        raise ValueError(f"table name must be 'table' or 'schema.table', got {table!r}")
    return sql.Identifier(*parts)


def _idents(names: Sequence[str], prefix: str | None = None) -> sql.Composed:
    if prefix is None:
        return sql.SQL(", ").join(sql.Identifier(n) for n in names)
    return sql.SQL(", ").join(sql.Identifier(prefix, n) for n in names)


def _describe(conn: psycopg.Connection, table: str, target: sql.Identifier) -> dict[str, PgColumn]:
    rows = conn.execute(_sql_text("table_columns"), {"table": target.as_string(conn)}).fetchall()
    if not rows:
        raise ValueError(f"table {table!r} does not exist (or has no columns)")
    return {
        name: PgColumn(name, type_name, sql_type, category) for name, type_name, sql_type, category in rows
    }


def _primary_key(conn: psycopg.Connection, table: str, target: sql.Identifier) -> list[str]:
    rows = conn.execute(_sql_text("primary_key"), {"table": target.as_string(conn)}).fetchall()
    if not rows:
        raise ValueError(f"table {table!r} has no primary key; pass key_columns")
    return [r[0] for r in rows]


def _frame_columns(df: pd.DataFrame, table: str, pg_columns: Mapping[str, PgColumn]) -> list[str]:
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        raise ValueError("the frame has duplicate column names")
    unknown = [n for n in names if n not in pg_columns]
    if unknown:
        raise ValueError(f"columns not in {table}: {', '.join(unknown)}")
    return names


def _check_keys(keys: Sequence[str], frame_columns: Sequence[str], table: str) -> list[str]:
    keys = list(keys)
    if not keys:
        raise ValueError("key_columns must not be empty")
    missing = [k for k in keys if k not in frame_columns]
    if missing:
        raise ValueError(f"key columns missing from the frame for {table}: {', '.join(missing)}")
    return keys


def _check_unique_keys(df: pd.DataFrame, keys: Sequence[str], table: str, chunk_rows: int) -> None:
    """Each key once: ON CONFLICT would otherwise fail only sometimes (a key inserted twice), or
    silently pick one of two different rows. Hashes the keys slice by slice (8 bytes per row kept,
    about 0.4 s per million rows) and compares exactly only when two hashes collide."""
    hashes = np.empty(len(df), dtype=np.uint64)
    for start in range(0, len(df), chunk_rows):
        part = df.iloc[start : start + chunk_rows][list(keys)]
        hashes[start : start + len(part)] = pd.util.hash_pandas_object(part, index=False).to_numpy()
    hashes.sort()
    if not (hashes[1:] == hashes[:-1]).any():
        return
    duplicated = df.duplicated(subset=list(keys))
    if duplicated.any():
        first = df.loc[duplicated, list(keys)].iloc[0].tolist()
        raise ValueError(
            f"the frame for {table} has {int(duplicated.sum())} duplicate keys ({', '.join(keys)}), "
            f"e.g. {first}; each key may appear once"
        )


# Change one setting until the end of the transaction (or until set back); returns its old value.
_SET_LOCAL = "SELECT current_setting(%(name)s) AS previous, set_config(%(name)s, %(value)s, true) AS current"


@contextlib.contextmanager
def _local_setting(conn: psycopg.Connection, name: str, value: str) -> Iterator[None]:
    """`name = value` inside the current transaction, set back afterwards (on an error the
    enclosing savepoint's rollback sets it back)."""
    previous = conn.execute(_SET_LOCAL, {"name": name, "value": value}).fetchone()[0]
    yield
    conn.execute(_SET_LOCAL, {"name": name, "value": previous})


@contextlib.contextmanager
def _merge_work_mem(conn: psycopg.Connection) -> Iterator[None]:
    below = "SELECT pg_size_bytes(current_setting('work_mem')) < pg_size_bytes(%(value)s)"
    if conn.execute(below, {"value": MERGE_WORK_MEM}).fetchone()[0]:
        with _local_setting(conn, "work_mem", MERGE_WORK_MEM):
            yield
    else:
        yield


def _delete_missing(
    conn: psycopg.Connection, statement: sql.Composable, params: Mapping[str, Any], *, explain: bool = False
) -> int | str:
    """Run the window delete with `LOOP_FREE_SETTINGS` (and the merge work_mem); returns the rows deleted,
    or with `explain` the plan it would use (for tests that check the plan, never a time)."""
    with contextlib.ExitStack() as settings:
        for name, value in LOOP_FREE_SETTINGS.items():
            settings.enter_context(_local_setting(conn, name, value))
        settings.enter_context(_merge_work_mem(conn))
        if explain:
            plan = conn.execute(sql.SQL("EXPLAIN {}").format(statement), params).fetchall()
            return "\n".join(row[0] for row in plan)
        return conn.execute(statement, params).rowcount


def _rows_outside(
    df: pd.DataFrame,
    pg_columns: Mapping[str, PgColumn],
    scope_column: str,
    scopes: Sequence[Any],
    date_column: str | None,
    date_from: Any,
    date_to: Any,
) -> int | None:
    """Rows of `df` outside the window, counted in the frame as the stage check counts them in SQL (a NULL is
    outside); None where the frame's values would not compare as PostgreSQL compares them (the stage path then
    checks). Handled: a text scope column holding strings, and a `date` window column held as datetime64."""
    if scope_column not in df.columns or (date_column is not None and date_column not in df.columns):
        return None
    scope = df[scope_column]
    if pg_columns[scope_column].category != "S" or not all(isinstance(s, str) for s in scopes):
        return None
    if not (pd.api.types.is_string_dtype(scope) or pd.api.types.is_object_dtype(scope)):
        return None
    inside = np.array(scope.isin(scopes), dtype=bool)
    if date_column is not None and (date_from is not None or date_to is not None):
        days = df[date_column]
        bounds = [_day(bound) for bound in (date_from, date_to) if bound is not None]
        if pg_columns[date_column].type_name != "date" or not pd.api.types.is_datetime64_any_dtype(days):
            return None
        if any(bound is None for bound in bounds):
            return None
        if getattr(days.dt, "tz", None) is not None:
            days = days.dt.tz_localize(None)  # its wall-clock date, as copy_format writes it
        days = days.dt.floor("D")  # (NaT compares false: outside, as NULL is in SQL)
        if date_from is not None:
            inside &= np.array(days >= _day(date_from), dtype=bool)
        if date_to is not None:
            inside &= np.array(days <= _day(date_to), dtype=bool)
    return int((~inside).sum())


def _day(bound: Any) -> pd.Timestamp | None:
    """A window bound as a day, where it reads the same to pandas and PostgreSQL (a date, or ISO text)."""
    if isinstance(bound, dt.datetime):
        return None  # a time of day: PostgreSQL's cast to date would decide
    if isinstance(bound, dt.date):
        return pd.Timestamp(bound)
    if isinstance(bound, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", bound):
        return pd.Timestamp(bound)
    return None


def _insert_into_empty_window(
    conn: psycopg.Connection,
    df: pd.DataFrame,
    table: str,
    target: sql.Identifier,
    columns: Sequence[str],
    pg_columns: Mapping[str, PgColumn],
    chunk_rows: int,
    window: sql.Composable,
    params: Mapping[str, Any],
    scope_column: str,
    scopes: Sequence[Any],
    date_column: str | None,
    date_from: Any,
    date_to: Any,
) -> int | None:
    """`replace_window`'s merge when the window holds no row yet (a first load): nothing can be deleted,
    updated or unchanged, so the frame is copied straight into the target (no stage, no ANALYZE, no anti join,
    no merge). Returns the rows inserted, or None to take the stage path: the window is not empty, the frame
    cannot be checked here, or a key of the frame is already stored (outside the window, or just committed by
    a concurrent run: the unique violation rolls the savepoint back and the merge then decides as before)."""
    outside = _rows_outside(df, pg_columns, scope_column, scopes, date_column, date_from, date_to)
    if outside is None:
        return None
    if outside:
        raise ValueError(f"{outside} of {len(df)} rows of the frame lie outside the window of {table}")
    # Through the window's index whatever the statistics say (a table just loaded and not analyzed looks
    # empty to the planner, and a sequential scan of it would read every client's rows).
    probe = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} AS t WHERE {})").format(target, window)
    with _local_setting(conn, "enable_seqscan", "off"):
        if conn.execute(probe, params).fetchone()[0]:
            return None
    try:
        with conn.transaction():
            return _copy_into(conn, df, target, columns, pg_columns, chunk_rows)
    except psycopg.errors.UniqueViolation:
        return None


def _load_stage(
    conn: psycopg.Connection,
    df: pd.DataFrame,
    target: sql.Identifier,
    columns: Sequence[str],
    pg_columns: Mapping[str, PgColumn],
    chunk_rows: int,
) -> sql.Identifier:
    """CREATE the TEMP stage with the frame's columns and COPY the frame into it."""
    stage = sql.Identifier(f"_bulk_stage_{uuid.uuid4().hex[:16]}")
    cols = _idents(columns)
    conn.execute(_template("stage_create").format(stage=stage, columns=cols, target=target))
    _copy_into(conn, df, stage, columns, pg_columns, chunk_rows)
    # Statistics for the planner: join order and hash-vs-index for the merge and window delete.
    conn.execute(sql.SQL("ANALYZE {}").format(stage))
    return stage


def _copy_into(
    conn: psycopg.Connection,
    df: pd.DataFrame,
    table: sql.Identifier,
    columns: Sequence[str],
    pg_columns: Mapping[str, PgColumn],
    chunk_rows: int,
) -> int:
    # CSV written by copy_format.py: unquoted empty field = NULL, quoted "" = empty string.
    statement = sql.SQL(
        "COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER false, NULL '', ENCODING 'UTF8')"
    ).format(table=table, columns=_idents(columns))
    (name, value), *_ = UTC_SESSION_SETTINGS.items()
    with _local_setting(conn, name, value), conn.cursor() as cur:
        with cur.copy(statement) as copy:
            write_csv_chunks(df, copy, columns=pg_columns, chunk_rows=chunk_rows)
        return cur.rowcount


def _drop_stage(conn: psycopg.Connection, stage: sql.Identifier) -> None:
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage))


def _compared(column: str, pg_columns: Mapping[str, PgColumn], prefix: str) -> sql.Composable:
    ident = sql.Identifier(prefix, column)
    # json has no equality operator; compare it as jsonb.
    return sql.SQL("{}::jsonb").format(ident) if pg_columns[column].type_name == "json" else ident


def _merge(
    conn: psycopg.Connection,
    table: str,
    target: sql.Identifier,
    stage: sql.Identifier,
    columns: Sequence[str],
    keys: Sequence[str],
    update: Sequence[str],
    compare: Sequence[str],
    pg_columns: Mapping[str, PgColumn],
    keep: Sequence[str] = (),
) -> tuple[int, int]:
    """INSERT ... ON CONFLICT from the stage; returns (inserted, updated)."""
    parts: dict[str, Any] = {
        "target": target,
        "stage": stage,
        "columns": _idents(columns),
        "stage_columns": _idents(columns, "s"),
        "keys": _idents(keys),
    }
    if compare:

        def values(prefix: str) -> sql.Composed:
            return sql.SQL(", ").join(_compared(c, pg_columns, prefix) for c in compare)

        parts |= {
            "stored_keys": _idents(keys, "o"),
            "stage_keys": _idents(keys, "s"),
            "stored_first_key": sql.Identifier("o", keys[0]),
            "stored_values": values("o"),
            "stage_values": values("s"),
            "assignments": sql.SQL(", ").join(_assignment(c, keep) for c in update),
            "target_values": values("t"),
            "new_values": values("excluded"),
        }
        statement = _template("merge_update").format(**parts)
    else:
        statement = _template("merge_insert_only").format(**parts)
    try:
        with _merge_work_mem(conn):
            inserted, updated = conn.execute(statement).fetchone()
    except psycopg.errors.CardinalityViolation as exc:
        raise ValueError(
            f"the frame for {table} has duplicate keys ({', '.join(keys)}); each key may appear once"
        ) from exc
    return inserted, updated


def _assignment(column: str, keep: Sequence[str]) -> sql.Composed:
    """`col = excluded.col`, or for a keep column `col = coalesce(t.col, excluded.col)` (first value wins)."""
    new = sql.Identifier("excluded", column)
    if column in keep:
        new = sql.SQL("coalesce({}, {})").format(sql.Identifier("t", column), new)
    return sql.SQL("{} = {}").format(sql.Identifier(column), new)


def _split_update_columns(
    columns: Sequence[str],
    keys: Sequence[str],
    update_columns: Sequence[str] | None,
    touch_columns: Sequence[str],
    table: str,
    keep_columns: Sequence[str] = (),
) -> tuple[list[str], list[str]]:
    if update_columns is None:
        update = [c for c in columns if c not in keys]
    else:
        update = list(update_columns)
        bad = [c for c in update if c not in columns or c in keys]
        if bad:
            raise ValueError(
                f"update_columns must be non-key columns of the frame for {table}: {', '.join(bad)}"
            )
    bad = [c for c in keep_columns if c not in update]
    if bad:
        raise ValueError(f"keep_columns must be updated columns of the frame for {table}: {', '.join(bad)}")
    not_compared = set(touch_columns) | set(keep_columns)
    return update, [c for c in update if c not in not_compared]


# --------------------------------------------------------------------------- public API


def upsert_frame(
    conn: psycopg.Connection,
    df: pd.DataFrame,
    table: str,
    key_columns: Sequence[str],
    *,
    update_columns: Sequence[str] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    touch_columns: Sequence[str] = DEFAULT_TOUCH_COLUMNS,
    keep_columns: Sequence[str] = (),
) -> UpsertResult:
    """Insert new rows of `df` into `table` and update changed ones, in one transaction/savepoint.

    `key_columns` must match a primary key or unique index of `table`; each key may occur once in
    `df`. `update_columns` (default: every non-key column of `df`) are set on a conflict when one of
    them, apart from `touch_columns`, differs from the stored row; touch columns are updated only
    along with such a change. Columns of `table` missing from `df` keep their value on update and get
    their default on insert. `keep_columns` hold a first value (e.g. a first-fetch date): written on
    insert, never compared, and on update kept unless still null. Returns counts; `unchanged` =
    rows_in - inserted - updated.
    """
    target = table_identifier(table)
    with conn.transaction():
        pg_columns = _describe(conn, table, target)
        columns = _frame_columns(df, table, pg_columns)
        keys = _check_keys(key_columns, columns, table)
        update, compare = _split_update_columns(
            columns, keys, update_columns, touch_columns, table, keep_columns
        )
        if df.empty:
            return UpsertResult(0, 0, 0, 0)
        _check_unique_keys(df, keys, table, chunk_rows)
        stage = _load_stage(conn, df, target, columns, pg_columns, chunk_rows)
        inserted, updated = _merge(
            conn, table, target, stage, columns, keys, update, compare, pg_columns, keep_columns
        )
        _drop_stage(conn, stage)
    rows_in = len(df)
    return UpsertResult(rows_in, inserted, updated, rows_in - inserted - updated)


def replace_window(
    conn: psycopg.Connection,
    df: pd.DataFrame,
    table: str,
    *,
    scope_column: str,
    scopes: Sequence[Any],
    date_column: str | None = None,
    date_from: Any = None,
    date_to: Any = None,
    key_columns: Sequence[str] | None = None,
    strategy: Literal["merge", "delete_insert"] = "merge",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    touch_columns: Sequence[str] = DEFAULT_TOUCH_COLUMNS,
) -> ReplaceResult:
    """Make the window `scope_column IN scopes AND date_from <= date_column <= date_to` of `table`
    hold exactly the rows of `df`, in one transaction/savepoint (bounds inclusive; a bound left
    None is open; without `date_column` the window is the whole scope).

    Every row of `df` must lie inside the window (checked server-side, ValueError otherwise).

    strategy 'merge' (default): delete the window's rows whose key (default: the table's primary
    key) is not in `df`, then upsert `df` like `upsert_frame` (compare all but `touch_columns`). An
    unchanged re-sync deletes and writes nothing. A key of `df` stored *outside* the window (its
    date moved) is updated and so moves into the window.
    strategy 'delete_insert': delete the whole window, then insert `df` (every row rewritten; a key
    stored outside the window is a unique violation). Same end state, except that touch columns
    missing from `df` get their default again.
    """
    if strategy not in ("merge", "delete_insert"):
        raise ValueError(f"strategy must be 'merge' or 'delete_insert', got {strategy!r}")
    if date_column is None and (date_from is not None or date_to is not None):
        raise ValueError("date_from/date_to need a date_column")
    target = table_identifier(table)
    in_window = [sql.SQL("t.{} = ANY(%(scopes)s)").format(sql.Identifier(scope_column))]
    if date_column is not None and date_from is not None:
        in_window.append(sql.SQL("t.{} >= %(date_from)s").format(sql.Identifier(date_column)))
    if date_column is not None and date_to is not None:
        in_window.append(sql.SQL("t.{} <= %(date_to)s").format(sql.Identifier(date_column)))
    window = sql.SQL(" AND ").join(in_window)
    # numpy scalars (e.g. from Series.unique()) as Python values, which psycopg can adapt.
    scope_values = [s.item() if isinstance(s, np.generic) else s for s in scopes]
    params = {"scopes": scope_values, "date_from": date_from, "date_to": date_to}

    with conn.transaction():
        pg_columns = _describe(conn, table, target)
        columns = _frame_columns(df, table, pg_columns)
        for name in (scope_column, date_column):
            if name is not None and name not in pg_columns:
                raise ValueError(f"window column {name!r} is not a column of {table}")
        rows_in = len(df)

        stage = None
        if rows_in:  # (an empty frame, with or without columns, empties the window)
            keys = _check_keys(key_columns or _primary_key(conn, table, target), columns, table)
            update, compare = _split_update_columns(columns, keys, None, touch_columns, table)
            _check_unique_keys(df, keys, table, chunk_rows)
            if (
                strategy == "merge"
                and (
                    inserted := _insert_into_empty_window(
                        conn,
                        df,
                        table,
                        target,
                        columns,
                        pg_columns,
                        chunk_rows,
                        window,
                        params,
                        scope_column,
                        scope_values,
                        date_column,
                        date_from,
                        date_to,
                    )  # fmt: skip
                )
                is not None
            ):
                return ReplaceResult(rows_in, 0, inserted)
            stage = _load_stage(conn, df, target, columns, pg_columns, chunk_rows)
            outside = conn.execute(
                # stage rows outside the window being replaced (must be none)
                sql.SQL("SELECT count(*) FROM {} AS t WHERE ({}) IS NOT TRUE").format(stage, window),
                params,
            ).fetchone()[0]
            if outside:
                raise ValueError(
                    f"{outside} of {rows_in} rows of the frame lie outside the window of {table}"
                )

        if strategy == "delete_insert" or stage is None:
            deleted = conn.execute(
                sql.SQL("DELETE FROM {} AS t WHERE {}").format(target, window), params
            ).rowcount
            inserted = 0
            if stage is not None:
                # a key that still exists after the window delete is an error, not an update
                inserted = conn.execute(
                    sql.SQL("INSERT INTO {target} ({columns}) SELECT {columns} FROM {stage}").format(
                        target=target, stage=stage, columns=_idents(columns)
                    )
                ).rowcount
                _drop_stage(conn, stage)
            return ReplaceResult(rows_in, deleted, inserted)

        delete_missing = _template("window_delete_missing").format(
            target=target,
            stage=stage,
            in_window=window,
            stage_keys=_idents(keys, "s"),
            target_keys=_idents(keys, "t"),
        )
        deleted = _delete_missing(conn, delete_missing, params)
        inserted, updated = _merge(conn, table, target, stage, columns, keys, update, compare, pg_columns)
        _drop_stage(conn, stage)
    return ReplaceResult(rows_in, deleted, inserted, updated, rows_in - inserted - updated)


def copy_frame(
    conn: psycopg.Connection, df: pd.DataFrame, table: str, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> int:
    """Plain COPY of `df` into `table` (no staging, no conflict handling), in one
    transaction/savepoint. Returns the number of rows copied."""
    target = table_identifier(table)
    with conn.transaction():
        pg_columns = _describe(conn, table, target)
        columns = _frame_columns(df, table, pg_columns)
        if df.empty:
            return 0
        return _copy_into(conn, df, target, columns, pg_columns, chunk_rows)


def stream_query_frames(
    conn: psycopg.Connection,
    query: str | sql.Composable,
    params: Sequence[Any] | Mapping[str, Any] | None = None,
    chunk_rows: int = 100_000,
) -> Iterator[pd.DataFrame]:
    """Yield the result of `query` as DataFrames of `chunk_rows` rows (the last one shorter),
    streamed with `COPY (query) TO STDOUT` and parsed by pyarrow, so client memory stays at about
    one chunk whatever the table size.

    Always yields at least one frame (empty, with the query's columns, when there are no rows).
    Dtypes: integers -> Int64, bool -> boolean, numeric -> Decimal, date -> datetime.date,
    timestamptz -> datetime64[us, UTC], timestamp -> datetime64[us], text -> str, other types ->
    their PostgreSQL text form. `params` are bound client-side (COPY takes no server parameters).
    Runs in `conn.transaction()` (a savepoint inside the caller's transaction); do not use the
    connection for anything else while iterating. Stopping early cancels the COPY.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    statement = sql.SQL(query) if isinstance(query, str) else query
    with conn.transaction():
        with conn.cursor() as cur:
            # the result columns (names and types), without running the query
            cur.execute(sql.SQL("SELECT * FROM ({}) AS q LIMIT 0").format(statement), params)
            columns = [ResultColumn(d.name, d.type_code, d.precision, d.scale) for d in cur.description or ()]
        yielded = False
        with contextlib.ExitStack() as settings:
            for name, value in READ_SESSION_SETTINGS.items():
                settings.enter_context(_local_setting(conn, name, value))
            with (
                conn.cursor() as cur,
                cur.copy(
                    sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER false)").format(statement), params
                ) as copy,
            ):
                for frame in read_csv_frames(copy, columns, chunk_rows):
                    yielded = True
                    yield frame
        if not yielded:
            yield empty_frame(columns)
