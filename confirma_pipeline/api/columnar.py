"""The payments answer straight to columns (issue 16 goal 2): no pydantic object per row on the hot path.

The payments endpoint answers one bare JSON array per client (no pagination, SEEN), tens of thousands of flat
records. Parsing it into one `PaymentRecord` per row, then reading each attribute back, cost more than the
rest of the pull together. Here the array is parsed once (pydantic-core's JSON parser, the one the models use)
and each field becomes one pyarrow column.

A *validated* fast path: every column must already have the JSON type `PaymentRecord` states (caseId an
integer, the text fields strings, bookingDate/paymentDate ISO 8601 strings `YYYY-MM-DDTHH:MM:SS[.ffffff]` with
an optional `Z` or `+HH:MM`, amount a finite number below 1e12, no snake_case field names). Anything else,
which pydantic might coerce (lax mode) or refuse, raises `NotColumnar`, and the caller parses the answer with
the model (`columns_from_records`): the values and the error messages are then the model's own. So the fast
path never accepts what the model refuses, and what it accepts holds the values the model would give.

Drift (api/drift.py) is counted here from the columns, the same observations `drift.walk` makes row by row.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pydantic_core

from confirma_pipeline.api import models as m
from confirma_pipeline.api.drift import json_type

# JSON name, column name, kind; in PaymentRecord's order.
PAYMENT_FIELDS: tuple[tuple[str, str, str], ...] = tuple(
    (field.alias or name, name, kind)
    for (name, field), kind in zip(
        m.PaymentRecord.model_fields.items(),
        ("int", "str", "str", "str", "str", "datetime", "datetime", "money", "str"),
        strict=True,
    )
)
_REQUIRED = {f.alias or n for n, f in m.PaymentRecord.model_fields.items() if f.is_required()}
_SNAKE_NAMES = {name for json_name, name, _ in PAYMENT_FIELDS if name != json_name}
_ISO_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$"
_MAX_AMOUNT = 1e12  # cents stay exact in a float below this
_ABSENT = object()
UTC_US = pd.DatetimeTZDtype("us", "UTC")


class NotColumnar(ValueError):
    """The answer needs the model's own parsing (lax coercion, or it is invalid)."""


def decode_payments(content: bytes) -> tuple[pa.Table, set[tuple[str, str, str]]]:
    """(columns, drift observations) of a payments answer; `NotColumnar` when the model must parse it.

    Columns: case_id int64, the text fields string, booking_date/payment_date timestamp[us, UTC], amount
    float64 (as `float(Decimal)` of the model's value), currency string.

    One answer at a time per process: the parsed objects (about 1 KB per record, for a moment) are the
    peak of a pull's memory, and decoding is bound to one core by the GIL anyway, so threads fetching
    in parallel decode one after the other."""
    with _DECODING:
        return _decode_payments(content)


_DECODING = threading.Lock()


def _decode_payments(content: bytes) -> tuple[pa.Table, set[tuple[str, str, str]]]:
    try:
        data = pydantic_core.from_json(content) if content else None
    except ValueError:
        raise NotColumnar("not JSON") from None
    if not isinstance(data, list) or not all(type(r) is dict for r in data):
        raise NotColumnar("not an array of objects")
    keys: set[str] = set().union(*data) if data else set()
    if keys & _SNAKE_NAMES:
        raise NotColumnar("field names the model accepts by name")
    drift: set[tuple[str, str, str]] = set()
    columns: dict[str, pa.Array] = {}
    # Every record has every key of the union (the usual answer): no field is missing from any record but
    # those missing from all, and a C-level getter reads a column.
    complete = sum(map(len, data)) == len(data) * len(keys)
    for json_name, name, kind in PAYMENT_FIELDS:
        if complete and json_name in keys:
            values = list(map(itemgetter(json_name), data))
        else:
            values = [r.get(json_name, _ABSENT) for r in data]
        if data and (json_name not in keys or not complete) and _ABSENT in values:
            if json_name in _REQUIRED:
                raise NotColumnar(f"{json_name} missing")
            drift.add((f"[].{json_name}", "missing", "absent"))
            values = [None if v is _ABSENT else v for v in values]
        columns[name] = _column(values, kind, json_name)
    for key in sorted(keys - {j for j, _, _ in PAYMENT_FIELDS}):
        drift |= {(f"[].{key}", "unknown", json_type(r[key])) for r in data if key in r}
    return pa.table(columns), drift


def _column(values: list[Any], kind: str, json_name: str) -> pa.Array:
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        raise NotColumnar(f"{json_name}: mixed JSON types") from None
    if array.null_count and kind == "money":
        raise NotColumnar(f"{json_name}: null")
    if pa.types.is_null(array.type):
        return pa.nulls(len(values), _ARROW_TYPES[kind])
    if kind == "int" and pa.types.is_int64(array.type):
        return array
    if kind == "str" and pa.types.is_string(array.type):
        return array
    if kind == "datetime" and pa.types.is_string(array.type):
        return _timestamps(array, json_name)
    if kind == "money" and (pa.types.is_int64(array.type) or pa.types.is_float64(array.type)):
        amounts = array.to_numpy(zero_copy_only=False).astype(np.float64)
        if not np.isfinite(amounts).all() or (np.abs(amounts) >= _MAX_AMOUNT).any():
            raise NotColumnar(f"{json_name}: out of the exact range")
        if (np.signbit(amounts) & (np.round(amounts * 100) == 0)).any():
            raise NotColumnar(f"{json_name}: negative zero")  # the model keeps its sign in the content hash
        return pa.array(amounts)
    raise NotColumnar(f"{json_name}: {array.type} where the model wants {kind}")


_ARROW_TYPES = {
    "int": pa.int64(),
    "str": pa.string(),
    "datetime": pa.timestamp("us", "UTC"),
    "money": pa.float64(),
}


def _timestamps(array: pa.Array, json_name: str) -> pa.Array:
    """ISO 8601 strings -> timestamp[us, UTC]; a string without an offset is UTC (as `_utc` reads it)."""
    matches = pc.match_substring_regex(array, _ISO_DATETIME)
    if pc.any(pc.invert(matches)).as_py():
        raise NotColumnar(f"{json_name}: not the plain ISO 8601 form")
    try:
        parsed = pd.to_datetime(pd.Series(array.to_pandas()), utc=True, format="ISO8601")
    except (ValueError, OverflowError):
        raise NotColumnar(f"{json_name}: not a valid date-time") from None
    return pa.array(parsed.astype(UTC_US))


def columns_from_records(records: Sequence[m.PaymentRecord]) -> pa.Table:
    """The same columns from parsed records (the model's path, for an answer the fast path declined)."""

    def moments(attr: str) -> pa.Array:
        values = pd.Series([getattr(r, attr) for r in records], dtype=object)
        return pa.array(pd.to_datetime(values, utc=True).astype(UTC_US), type=_ARROW_TYPES["datetime"])

    columns = {}
    for _, name, kind in PAYMENT_FIELDS:
        if kind == "datetime":
            columns[name] = moments(name)
        elif kind == "money":
            columns[name] = pa.array([float(getattr(r, name)) for r in records], pa.float64())
        else:
            columns[name] = pa.array([getattr(r, name) for r in records], _ARROW_TYPES[kind])
    return pa.table(columns)
