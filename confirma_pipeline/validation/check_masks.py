"""Run a pandera model's checks as boolean masks: one pass, one mask per check, no failure-case frames.

The models (`CreditorModel`, `InvoiceModel`, `InvoiceRowModel` ...) stay the declaration of every rule. This
module reads that declaration and evaluates it the way pandera's `validate(lazy=True)` does, check for check:

- a column's NOT NULL (`nullable=False`), its uniqueness (`unique=True`), its dtype, then its checks in order,
  each on the column's non-null values (pandera's `ignore_na`: a NULL passes every check of its column except
  NOT NULL);
- the model's key uniqueness (`Config.unique`, every duplicate reported, as `report_duplicates="all"`), then
  its dataframe-level (row) checks on the whole frame (a row whose every value is NULL passes them, as in
  pandera).

What differs is the cost. pandera builds a failure-case frame per failing check (and copies each column
before checking it), which made a 10 %-bad chunk ~15 x slower than a clean one; here a failing check costs
the `flatnonzero` of its mask, and `reasons.py` formats only the failing rows.

Anything this module does not reproduce exactly (groupby or scalar-valued checks, parsers, coercion, an index
schema, a check that raises) raises `Unsupported`, and the caller
falls back to pandera's own `validate(lazy=True)`: same reasons, slower.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pyarrow_
import pyarrow.compute as pc
from pandera.config import ValidationDepth, get_config_context
from pandera.engines import pandas_engine

#: what a failure is about (see `Failed.kind`)
NULL, DUPLICATE, COLUMN_CHECK, DUPLICATE_KEY, ROW_CHECK = (
    "null",
    "duplicate",
    "column",
    "duplicate_key",
    "row",
)


class Unsupported(Exception):
    """The schema or one of its checks needs pandera's own validation (see the module docstring)."""


class DtypeMismatch(Exception):
    """A column's dtype is not the model's (after `conform`, a failure of the whole relation)."""

    def __init__(self, column: str, actual: str, expected: str) -> None:
        super().__init__(column)
        self.column, self.actual, self.expected = column, actual, expected


@dataclass(frozen=True)
class Failed:
    """The rows (sorted positions) failing one check. `kind`: NULL / DUPLICATE / COLUMN_CHECK (a column's
    `check` number `number`), DUPLICATE_KEY (`columns` = the key), ROW_CHECK (the model's check `number`)."""

    kind: str
    positions: np.ndarray
    column: str | None = None
    number: int | None = None
    columns: tuple[str, ...] = ()
    name: str | None = None  # a column check's name when it is not one of the model's (pandera fallback)


def _supported(schema: pa.DataFrameSchema) -> None:
    config = get_config_context()
    if not config.validation_enabled or config.validation_depth not in (
        None,
        ValidationDepth.SCHEMA_AND_DATA,
    ):
        raise Unsupported("pandera's validation depth is configured")
    if (
        schema.coerce
        or schema.parsers
        or schema.index is not None
        or schema.ordered
        or schema.dtype is not None
    ):
        raise Unsupported("schema options")
    for column in schema.columns.values():
        if column.coerce or column.parsers or column.regex or getattr(column, "default", None) is not None:
            raise Unsupported(f"column options of {column.name}")


def _apply(check: pa.Check, checked: pd.Series | pd.DataFrame):
    """The check's output on `checked`, computed as `Check.__call__` does (a built-in's function is looked up
    again; element-wise checks map), without pandera's post-processing into failure cases."""
    if check.groupby is not None:
        raise Unsupported(f"groupby check {check.name}")
    name = getattr(check._check_fn, "__name__", None)
    if name is not None and check.is_builtin_check(name):
        check._check_fn = check.get_builtin_check_fn(name)
    try:
        return check.get_backend(checked)(check).apply(checked)
    except Exception as exc:  # pandera reports it as a failure of the whole check: let it
        raise Unsupported(f"check {check.name} raised {type(exc).__name__}") from exc


def _failing(output, checked: pd.Series | pd.DataFrame) -> np.ndarray:
    """Labels (= positions: the frame has a RangeIndex) where a check's boolean Series output is False."""
    if not isinstance(output, pd.Series) or output.dtype != bool:
        raise Unsupported("check output is not a boolean Series")
    values = output.to_numpy()
    if output.index is checked.index or output.index.equals(checked.index):
        bad = np.flatnonzero(~values)
        index = checked.index
        # labels are positions only for a RangeIndex from 0 by 1: `dropna()` of a column whose NULLs lead
        # gives a RangeIndex that starts later (positions 0.. there would name the wrong rows)
        if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
            return bad
        return index.to_numpy()[bad]
    raise Unsupported("check output is not aligned with its input")


def _keep_of(report_duplicates: str) -> str | bool:
    return {"exclude_first": "first", "exclude_last": "last"}.get(report_duplicates, False)


def _codes(series: pd.Series) -> tuple[np.ndarray, int]:
    """(int64 code per row, number of codes): equal values (NULLs included) share a code. Text already in
    order (the source reader sorts by key) is coded by counting changes between neighbours; otherwise Arrow
    hashes it."""
    values = series.to_numpy() if isinstance(series.dtype, np.dtype) else None
    if values is not None and values.dtype.kind in "iub" and len(values):
        low = int(values.min())
        return values.astype(np.int64) - low, int(values.max()) - low + 1
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        arr = pyarrow_.array(series)
        if arr.null_count == 0 and len(arr) > 1:
            head, tail = arr[:-1], arr[1:]
            if not pc.any(pc.less(tail, head)).as_py():
                changes = pc.not_equal(tail, head).to_numpy(zero_copy_only=False)
                codes = np.concatenate(([0], np.cumsum(changes, dtype=np.int64)))
                return codes, int(codes[-1]) + 1
        encoded = pc.dictionary_encode(arr)
        if isinstance(encoded, pyarrow_.ChunkedArray):
            encoded = encoded.combine_chunks()
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64) + 1
        return codes, len(encoded.dictionary) + 1
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.int64) + 1, len(uniques) + 1


def duplicated(frame: pd.DataFrame, columns: list[str], keep: str | bool = False) -> np.ndarray:
    """`frame.duplicated(columns, keep=keep)` as a numpy mask, on one int64 key per row (the columns' codes
    combined) instead of pandas' per-column factorize; a frame already in key order (as the source reader
    returns it) is settled by one comparison of neighbours."""
    n = len(frame)
    if n < 2:
        return np.zeros(n, dtype=bool)
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for column in columns:
        codes, size = _codes(frame[column])
        if span * size >= 2**62:
            return frame.duplicated(subset=columns, keep=keep).to_numpy()
        key = key * size + codes
        span *= size
    if (key[1:] > key[:-1]).all():
        return np.zeros(n, dtype=bool)
    # a stable sort keeps equal keys in frame order (so "first" and "last" stay pandas'), and it is close to
    # linear on a frame that is nearly in key order (a few rows out of place), unlike hashing every key
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    same = ordered[1:] == ordered[:-1]
    dup = np.zeros(n, dtype=bool)
    if keep != "last":
        dup[1:] |= same
    if keep != "first":
        dup[:-1] |= same
    out = np.empty(n, dtype=bool)
    out[order] = dup
    return out


def _all_null_rows(frame: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
    return frame.iloc[positions].isna().all(axis="columns").to_numpy()


def failed_checks(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[Failed]:
    """Every check of `schema` that some row of `frame` fails, in pandera's order per column, then the key
    uniqueness and the row checks. `frame` has the contract's columns (see `conform`) and a RangeIndex."""
    _supported(schema)
    if not (isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1):
        raise Unsupported("index")
    out: list[Failed] = []
    for name, column in schema.columns.items():
        series = frame[name]
        has_nulls = series.hasnans
        if has_nulls and not column.nullable:
            out.append(Failed(NULL, np.flatnonzero(series.isna().to_numpy()), column=name))
        if column.unique and not series.is_unique:
            dups = series.duplicated(keep=_keep_of(column.report_duplicates)).to_numpy()
            out.append(Failed(DUPLICATE, np.flatnonzero(dups), column=name))
        if column.dtype is not None:
            verdict = column.dtype.check(pandas_engine.Engine.dtype(series.dtype), series)
            if not isinstance(verdict, bool | np.bool_):  # per element (pandera's text dtypes)
                verdict = bool(np.asarray(verdict, dtype=bool).all())
            if not verdict:
                raise DtypeMismatch(name, str(series.dtype), str(column.dtype))
        for number, check in enumerate(column.checks):
            checked = series.dropna() if has_nulls and check.ignore_na else series
            bad = _failing(_apply(check, checked), checked)
            if len(bad):
                out.append(Failed(COLUMN_CHECK, bad, column=name, number=number))
    if schema.unique:
        keys = [schema.unique] if all(isinstance(c, str) for c in schema.unique) else schema.unique
        for key in keys:
            subset = [c for c in key if c in frame.columns]
            if not subset:
                continue
            dups = duplicated(frame, subset, _keep_of(schema.report_duplicates))
            if dups.any():
                out.append(Failed(DUPLICATE_KEY, np.flatnonzero(dups), columns=tuple(subset)))
                break
    for number, check in enumerate(schema.checks):
        bad = _failing(_apply(check, frame), frame)
        if len(bad) and check.ignore_na:
            bad = bad[~_all_null_rows(frame, bad)]
        if len(bad):
            out.append(Failed(ROW_CHECK, bad, number=number))
    return out
