"""The texts of reasons, built a column at a time in Arrow kernels rather than a row at a time in Python.

Why: a chunk with 10 % bad rows has 100,000 rejected rows per million, each with one or more fragments
("net_amount 12.5 fails amount_has_two_decimals") and one reason joining them. Formatting those with
f-strings and joining each row's fragments in a loop cost more than all the checks together. Here every
fragment of one failed check is one element-wise concatenation over the failing rows, and a row's fragments
are joined by one list join over all rows; Python runs per row only where Arrow cannot say the same
(`format_value` of an exotic dtype, a float outside the range Arrow prints like `repr`).

`format_value` is the rule (how one value reads in a reason); `value_texts` is the same over a column, and
tests/validation/test_check_masks.py holds them equal value by value.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import islice

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from confirma_pipeline.validation.row_hashes import float_reprs

TEXT = pa.large_string()
QUOTE_LIMIT = 80  # a longer text is cut to its first 77 characters and "..."


def lit(text: str) -> pa.Scalar:
    """A constant piece of a text (an Arrow scalar, broadcast by `concat`)."""
    return pa.scalar(text, TEXT)


def concat(parts: Sequence[pa.Array | pa.Scalar | str], length: int) -> pa.Array:
    """Element-wise concatenation of `parts` (arrays of `length`, or constants) into one text per row."""
    merged: list = []  # adjacent constants as one (Arrow's concatenation costs per part and row)
    for part in parts:
        if not isinstance(part, pa.Array):
            text = part if isinstance(part, str) else part.as_py()
            if merged and isinstance(merged[-1], str):
                text = merged.pop() + text
            merged.append(text)
        else:
            merged.append(part)
    if not any(isinstance(p, pa.Array) for p in merged):
        return pa.repeat(lit("".join(merged)), length).cast(TEXT)
    return pc.binary_join_element_wise(*(lit(p) if isinstance(p, str) else p for p in merged), lit(""))


def texts(values: Sequence[str]) -> pa.Array:
    return pa.array(values, TEXT)


# --- one value, and a column of values ------------------------------------------------------------------


def _quote(text: str) -> str:
    if len(text) > QUOTE_LIMIT:
        text = text[: QUOTE_LIMIT - 3] + "..."
    return "'" + text.replace("'", "\\'") + "'"


def format_value(value) -> str:
    """A value as it should read in a reason: strings quoted, null as `null`, dates as YYYY-MM-DD."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "null"
    if isinstance(value, float | np.floating):
        return "null" if math.isnan(value) else repr(float(value))
    if isinstance(value, pd.Timestamp | np.datetime64):
        ts = pd.Timestamp(value)
        if ts.tz is None and ts == ts.normalize():
            return ts.date().isoformat()
        return ts.isoformat()
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, np.integer | int):
        return str(int(value))
    return _quote(str(value))


def quoted(text: pa.Array) -> pa.Array:
    """`_quote` of each text, NULL as `null`."""
    text = text.cast(TEXT)
    cut = concat([pc.utf8_slice_codeunits(text, 0, QUOTE_LIMIT - 3), "..."], len(text))
    text = pc.if_else(pc.greater(pc.utf8_length(text), QUOTE_LIMIT), cut, text)
    text = concat(["'", pc.replace_substring(text, "'", "\\'"), "'"], len(text))
    return pc.fill_null(text, lit("null"))


def arrow_text(values: pd.Series) -> pa.Array:
    """A text column as one Arrow large_string array (no copy for the contract's pyarrow-backed `str`)."""
    arr = pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(TEXT)


def value_texts(values: pd.Series) -> pa.Array:
    """`format_value` of each value, one pass per column for the common dtypes (floats, integers, booleans,
    text); other dtypes value by value."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        x = values.to_numpy()
        nan = np.isnan(x)
        if nan.all():
            return pa.repeat(lit("null"), len(x)).cast(TEXT)
        return pc.if_else(pa.array(nan), lit("null"), float_reprs(x))
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return pc.cast(pa.array(values.to_numpy()), TEXT)
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return pa.array(np.where(values.to_numpy(), "true", "false")).cast(TEXT)
    if isinstance(dtype, pd.StringDtype):
        return quoted(arrow_text(values))
    return texts([format_value(v) for v in values.tolist()])


def column_pairs(work: pd.DataFrame, columns: Sequence[str], positions: np.ndarray) -> list:
    """The parts of "col1 v1, col2 v2" at `positions` over the `columns` present in `work` (for `concat`);
    [] when none is."""
    parts: list = []
    for column in columns:
        if column not in work.columns:
            continue
        parts += [f", {column} " if parts else f"{column} ", value_texts(work[column].iloc[positions])]
    return parts


def money_texts(cents: np.ndarray) -> pa.Array:
    """Whole cents as Decimal prints a quantized amount: '-12.30', '0.00' (a negative zero never comes here)."""
    magnitude = np.abs(cents)
    units = pc.cast(pa.array(magnitude // 100), TEXT)
    hundredths = pc.utf8_lpad(pc.cast(pa.array(magnitude % 100), TEXT), 2, "0")
    sign = pc.if_else(pa.array(cents < 0), lit("-"), lit(""))
    return concat([sign, units, ".", hundredths], len(cents))


# --- one reason per row -----------------------------------------------------------------------------------


def _first_of_equal(row: np.ndarray, key: np.ndarray | pa.Array) -> np.ndarray:
    """Mask of the entries that are the first with their (row, key) pair (`row` sorted)."""
    if isinstance(key, pa.Array):
        encoded = pc.dictionary_encode(key)
        key, size = encoded.indices.to_numpy(zero_copy_only=False), len(encoded.dictionary)
    else:
        size = int(key.max()) + 1 if len(key) else 1
    pair = row.astype(np.int64) * size + key.astype(np.int64)
    if (np.diff(pair) > 0).all():  # sorted and distinct: nothing repeats
        return np.ones(len(pair), dtype=bool)
    first = np.zeros(len(pair), dtype=bool)
    first[np.unique(pair, return_index=True)[1]] = True
    return first


def _repeated(row: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Mask of the entries whose (row, key) pair occurs more than once."""
    size = int(key.max()) + 1 if len(key) else 1
    _, which, counts = np.unique(row.astype(np.int64) * size + key, return_inverse=True, return_counts=True)
    return counts[which] > 1


def per_row(
    groups: Sequence[tuple[np.ndarray, str, pa.Array]],
) -> tuple[np.ndarray, list[list[str]], pa.Array, int]:
    """(rejected positions, sorted; each one's checks; each one's reason; number of failures) from the failed
    checks' (positions, check name, fragments). A row's checks and fragments keep the checks' order, each
    once, joined by '; '; a row never gets another row's fragment."""
    groups = [g for g in groups if len(g[0])]
    if not groups:
        return np.zeros(0, dtype=np.intp), [], texts([]), 0
    names = list(dict.fromkeys(g[1] for g in groups))
    positions = np.concatenate([g[0] for g in groups]).astype(np.int64)
    code = np.repeat([names.index(g[1]) for g in groups], [len(g[0]) for g in groups])
    fragments = pa.concat_arrays([g[2].cast(TEXT) for g in groups])
    order = np.argsort(positions, kind="stable")  # by row, and within a row in the checks' order
    row, code = positions[order], code[order]
    fragments = fragments.take(pa.array(order))
    rejected, starts, counts = np.unique(row, return_index=True, return_counts=True)
    if len(rejected) == len(row):  # one failure per row: nothing to join
        return rejected.astype(np.intp), _check_lists(names, code, starts, counts), fragments, len(row)
    shared = np.repeat(counts > 1, counts)  # entries of rows with several failures
    at = np.flatnonzero(shared)
    keep_fragment = np.ones(len(row), dtype=bool)
    # equal fragments of one row have equal lengths: compare texts only where a row repeats a length
    lengths = pc.binary_length(fragments).to_numpy()
    at = at[_repeated(row[at], lengths[at])]
    keep_fragment[at] = _first_of_equal(row[at], fragments.take(pa.array(at)))
    keep_check = np.ones(len(row), dtype=bool)
    keep_check[at] = _first_of_equal(row[at], code[at])
    offsets = np.concatenate(([0], np.cumsum(np.add.reduceat(keep_fragment, starts))))
    joined = pc.binary_join(
        pa.LargeListArray.from_arrays(
            pa.array(offsets, pa.int64()), fragments.filter(pa.array(keep_fragment))
        ),
        lit("; "),
    )
    check_counts = np.add.reduceat(keep_check, starts)
    check_starts = np.concatenate(([0], np.cumsum(check_counts)[:-1]))
    checks = _check_lists(names, code[keep_check], check_starts, check_counts)
    return rejected.astype(np.intp), checks, joined, len(row)


@contextmanager
def no_gc_pauses() -> Iterator[None]:
    """Build many small lists without the cyclic collector: a 10 %-bad million-row frame gives 100,000
    rows their own list of checks, and each 700 new containers trigger a collection that walks every
    young object (several times the building itself). Lists of strings form no cycles; the collector is
    back on (if it was) when the block ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_lists(
    names: list[str], code: np.ndarray, starts: np.ndarray, counts: np.ndarray
) -> list[list[str]]:
    """Each row's list of check names (`code` into `names`, `counts[i]` entries from `starts[i]`). Rows
    share a few patterns: each pattern's list is built once and copied per row (a row's list is its own)."""
    base = len(names) + 1
    if base ** int(counts.max()) >= 2**62:  # too many checks on one row to number the patterns
        flat = iter(np.array(names, dtype=object)[code].tolist())
        with no_gc_pauses():
            return [list(islice(flat, n)) for n in counts.tolist()]
    rank = np.arange(len(code)) - np.repeat(starts, counts)
    pattern = np.add.reduceat((code.astype(np.int64) + 1) * base**rank, starts)
    _, first, which = np.unique(pattern, return_index=True, return_inverse=True)
    lists = [[names[c] for c in code[starts[r] : starts[r] + counts[r]].tolist()] for r in first.tolist()]
    with no_gc_pauses():
        return list(map(list.copy, map(lists.__getitem__, which.tolist())))


def as_str_series(text: pa.Array, dtype) -> pd.Series:
    """An Arrow text array as a pandas Series of the contract's `str` dtype (no copy of the values)."""
    return pd.Series(pd.array(text, dtype=dtype))
