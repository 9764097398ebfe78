"""Stable hashes of source rows: `confirma.rejected_rows.content_hash`, so a rejected creditor, invoice or
action "changed since it was rejected" is a new rejection, and an unchanged one is not written twice.

sha256 hex digests of a canonical text, the same in every process, on every machine and across pandas /
Python versions (unlike `hash()` or `pd.util.hash_pandas_object`, which are seeded or implementation-defined).
Canonical row text: per value a type tag and, for text, its length, so no separator or value can be confused
with another:
    null -> `N`;  text -> `s<len>:<text>`;  bool -> `b:t` / `b:f`;
    numbers -> `n:<int>` when integral (5 and 5.0 hash alike), else `n:<repr(float)>`;
    dates / timestamps -> `d:<ISO 8601, microseconds>` (tz-aware values converted to UTC and suffixed `Z`).
The column names (in order) are hashed first, so the same values under other columns hash differently.

Here in validation/ (moved from mapping/hashing.py) because validation's reasons hash the rows they reject and
validation must not import mapping (issue #12); the body hashes (`payload_hash`) stay in mapping/hashing.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_SEP = "\x1f"


def _canon_number(x: float) -> str:
    if math.isnan(x):
        return "N"
    if x.is_integer() and abs(x) < 2**53:
        return f"n:{int(x)}"
    return f"n:{x!r}"


def _canon_timestamp(ts: pd.Timestamp) -> str:
    if ts.tz is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
        return f"d:{np.datetime_as_string(ts.to_datetime64().astype('datetime64[us]'), unit='us')}Z"
    return f"d:{np.datetime_as_string(ts.to_datetime64().astype('datetime64[us]'), unit='us')}"


def canonical_value(value) -> str:
    """The canonical text of one value (see the module docstring)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "N"
    if isinstance(value, bool | np.bool_):
        return "b:t" if value else "b:f"
    if isinstance(value, int | np.integer):
        return f"n:{int(value)}"
    if isinstance(value, float | np.floating):
        return _canon_number(float(value))
    if isinstance(value, Decimal):
        return "N" if value.is_nan() else _canon_number(float(value))
    if isinstance(value, pd.Timestamp | np.datetime64 | dt.datetime | dt.date):
        ts = pd.Timestamp(value)
        return "N" if ts is pd.NaT else _canon_timestamp(ts)
    text = str(value)
    return f"s{len(text)}:{text}"


#: Non-integral floats in this magnitude range print the same in Arrow's float -> string cast as in Python's
#: `repr` (both shortest round-trip digits, positional notation); outside it Arrow switches to exponents
#: earlier, so those few values go through `repr`. Checked on 8 million values (2 and 4 decimals, uniform,
#: random bit patterns); tests/validation/test_check_masks.py holds it.
ARROW_REPR_RANGE = (1e-4, 1e9)
_LARGE = pa.large_string()


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, _LARGE)


def _integral(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(x) & (np.floor(x) == x) & (np.abs(x) < 2**53)


def _short_decimals(x: np.ndarray) -> tuple[np.ndarray, pa.Array, pa.Array, np.ndarray]:
    """For the values with at most four decimals below 1e9 in magnitude (money, percentages, quantities):
    (mask, their signed whole part as text, '.' and their decimals without trailing zeros ('' for none),
    mask of no decimals). Such a value is the double nearest to k / 10^4 for an integer k of at most 13
    digits, and no shorter decimal rounds to the same double, so these digits ARE its shortest round-trip
    repr; integer formatting is much cheaper than printing floats."""
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.rint(x * 1e4)
        short = (np.abs(x) < 1e9) & (scaled / 1e4 == x) & ~((x == 0) & np.signbit(x))  # repr(-0.0): '-0.0'
    k = np.where(short, scaled, 0).astype(np.int64)
    magnitude = np.abs(k)
    units = pc.cast(pa.array(magnitude // 10_000), _LARGE)
    if (k < 0).any():
        units = pc.if_else(pa.array(k < 0), pc.binary_join_element_wise(_text("-"), units, _text("")), units)
    rest = magnitude % 10_000
    # 10000 + rest prints as 1dddd: trailing zeros off, the leading 1 becomes the point ('1' alone: '.')
    fraction = pc.utf8_replace_slice(pc.utf8_rtrim(pc.cast(pa.array(rest + 10_000), _LARGE), "0"), 0, 1, ".")
    return short, units, fraction, rest == 0


def _reprs_of_others(x: np.ndarray) -> pa.Array:
    """`repr` of values `_short_decimals` does not cover: integral ones as `<int>.0`, others in
    ARROW_REPR_RANGE through Arrow's cast; only the rest (negative zero, tiny, huge, infinite) in Python."""
    integral = _integral(x)
    with np.errstate(invalid="ignore"):
        magnitude = np.abs(x)
        in_range = ~integral & (magnitude >= ARROW_REPR_RANGE[0]) & (magnitude < ARROW_REPR_RANGE[1])
        as_int = integral & (magnitude < 1e16) & ~((x == 0) & np.signbit(x))  # repr(-0.0) is '-0.0'
    whole = pc.binary_join_element_wise(
        pc.cast(pa.array(np.where(as_int, x, 0).astype(np.int64)), _LARGE), _text(".0"), _text("")
    )
    text = pc.if_else(pa.array(as_int), whole, pc.cast(pa.array(np.where(in_range, x, 0.5)), _LARGE))
    rest = ~as_int & ~in_range
    if rest.any():
        text = pc.replace_with_mask(
            text, pa.array(rest), pa.array([repr(v) for v in x[rest].tolist()], _LARGE)
        )
    return text


def float_reprs(x: np.ndarray) -> pa.Array:
    """`repr(float(v))` of each value as an Arrow string array ('nan' for NaN), in Arrow kernels (see
    `_short_decimals` and `_reprs_of_others`)."""
    short, units, decimals, whole = _short_decimals(x)
    text = pc.binary_join_element_wise(units, pc.if_else(pa.array(whole), _text(".0"), decimals), _text(""))
    if not short.all():
        others = x[~short]
        nan = np.isnan(others)
        others_text = pc.if_else(pa.array(nan), _text("nan"), _reprs_of_others(np.where(nan, 0.5, others)))
        text = pc.replace_with_mask(text, pa.array(~short), others_text)
    return text


def _float_pieces(x: np.ndarray) -> list:
    """`_canon_number` of each value as pieces to concatenate: `n:` + whole part + (`.` + decimals), or for
    values `_short_decimals` does not cover (NaN, huge, tiny) the whole text in the first piece."""
    if np.isnan(x).all():  # a column nobody filled in (a discount, say)
        return [_text("N")]
    short, units, decimals, whole = _short_decimals(x)
    if short.all():
        if whole.all():
            return [_text("n:"), units]
        return [_text("n:"), units, pc.if_else(pa.array(whole), _text(""), decimals)]
    others = x[~short]
    integral = _integral(others)
    text = pc.if_else(
        pa.array(integral),
        pc.cast(pa.array(np.where(integral, others, 0).astype(np.int64)), _LARGE),
        _reprs_of_others(np.where(np.isnan(others), 0.5, others)),
    )
    text = pc.binary_join_element_wise(_text("n:"), text, _text(""))
    text = pc.if_else(pa.array(np.isnan(others)), _text("N"), text)
    mask = pa.array(~short)
    prefix = pc.replace_with_mask(pa.repeat(_text("n:"), len(x)), mask, text)
    nothing = pa.repeat(_text(""), int((~short).sum()))
    decimals = pc.if_else(pa.array(whole), _text(""), decimals)
    return [prefix, *(pc.replace_with_mask(piece, mask, nothing) for piece in (units, decimals))]


def _canon_pieces(s: pd.Series) -> list:
    """Vectorised `canonical_value` over a column (same text, value by value), as Arrow text pieces whose
    element-wise concatenation is the text (one concatenation of every column's pieces per frame: Arrow
    copies each byte once instead of once per intermediate string)."""
    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return [pa.array(np.where(s.to_numpy(), "b:t", "b:f")).cast(_LARGE)]
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return [_text("n:"), pc.cast(pa.array(s.to_numpy()), _LARGE)]
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return _float_pieces(s.to_numpy())
    if isinstance(dtype, pd.DatetimeTZDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "M"):
        values = s
        suffix = ""
        if isinstance(dtype, pd.DatetimeTZDtype):
            values = s.dt.tz_convert("UTC").dt.tz_localize(None)
            suffix = "Z"
        arr = values.to_numpy().astype("datetime64[us]")
        text = np.char.add(np.char.add("d:", np.datetime_as_string(arr, unit="us")), suffix)
        return [pa.array(np.where(np.isnat(arr), "N", text)).cast(_LARGE)]
    if isinstance(dtype, pd.StringDtype):
        arr = pa.array(s)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        arr = arr.cast(_LARGE)
        lengths = pc.utf8_length(arr).cast(_LARGE)
        if not arr.null_count:
            return [_text("s"), lengths, _text(":"), arr]
        null = pc.is_null(arr)
        return [
            pc.if_else(null, _text("N"), _text("s")),
            pc.fill_null(lengths, _text("")),
            pc.if_else(null, _text(""), _text(":")),
            pc.fill_null(arr, _text("")),
        ]
    return [pa.array([canonical_value(v) for v in s.to_numpy(dtype=object, na_value=None).tolist()], _LARGE)]


def _canon_column(s: pd.Series) -> pa.Array:
    """Vectorised `canonical_value` over a column, as one Arrow string array."""
    pieces = _canon_pieces(s)
    if all(isinstance(p, pa.Scalar) for p in pieces):
        return pa.repeat(_text("".join(p.as_py() for p in pieces)), len(s)).cast(_LARGE)
    if len(pieces) == 1:
        return pieces[0]
    return pc.binary_join_element_wise(*pieces, _text(""))


def _header_hasher(columns: Sequence[str]):
    h = hashlib.sha256()
    h.update(_SEP.join(f"s{len(c)}:{c}" for c in columns).encode("utf-8"))
    h.update(b"\x1e")
    return h


def row_hashes(df: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.Series:
    """sha256 hex per row over `columns` (default: all, in frame order), aligned on `df.index`."""
    columns = list(df.columns if columns is None else columns)
    base = _header_hasher(columns)
    if not columns:
        return pd.Series([base.hexdigest()] * len(df), index=df.index, dtype="str")
    pieces: list = []
    for c in columns:
        for piece in [*([_text(_SEP)] if pieces else []), *_canon_pieces(df[c])]:
            if isinstance(piece, pa.Scalar) and pieces and isinstance(pieces[-1], pa.Scalar):
                piece = _text(pieces.pop().as_py() + piece.as_py())  # one piece: Arrow copies per piece
            pieces.append(piece)
    if len(df) == 0:
        return pd.Series([], index=df.index, dtype="str")
    joined = pc.binary_join_element_wise(*pieces, _text("")) if len(pieces) > 1 else pieces[0]
    if isinstance(joined, pa.Scalar):  # every piece a constant
        joined = pa.repeat(joined, len(df))
    digests = []
    copy = base.copy
    for data in joined.cast(pa.large_binary()).to_pylist():  # UTF-8 bytes, no encode per row
        h = copy()
        h.update(data)
        digests.append(h.hexdigest())
    return pd.Series(digests, index=df.index, dtype="str")


def content_hash(row: Mapping | pd.Series, columns: Sequence[str] | None = None) -> str:
    """The hash of one row (a mapping column -> value); equals `row_hashes` of the same row in a frame."""
    columns = list(row.keys() if columns is None else columns)
    h = _header_hasher(columns)
    h.update(_SEP.join(canonical_value(row[c]) for c in columns).encode("utf-8"))
    return h.hexdigest()


def invoice_content_hashes(invoices: pd.DataFrame, rows: pd.DataFrame) -> pd.Series:
    """Per invoice (aligned on `invoices.index`): sha256 over the invoice row's hash and the hashes of its rows
    in row_number order, so a change to the header or to any row gives a new hash."""
    header = row_hashes(invoices)
    row_part: dict[object, str] = {}
    if len(rows) and "invoice_id" in rows.columns:
        ordered = rows.sort_values(["invoice_id", "row_number"], kind="stable")
        hashes = row_hashes(ordered).tolist()
        for invoice_id, digest in zip(ordered["invoice_id"].tolist(), hashes, strict=True):
            row_part[invoice_id] = row_part.get(invoice_id, "") + digest
    out = [
        hashlib.sha256(f"{h}:{row_part.get(invoice_id, '')}".encode("ascii")).hexdigest()
        for h, invoice_id in zip(header.tolist(), invoices["invoice_id"].tolist(), strict=True)
    ]
    return pd.Series(out, index=invoices.index, dtype="str")
