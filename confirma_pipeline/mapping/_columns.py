"""Column -> Python list conversions shared by the mappers (vectorised; nulls become None, never NaN)."""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd


def texts(s: pd.Series) -> list[str | None]:
    """Text values; null -> None, '' stays ''."""
    out = s.to_numpy(dtype=object, na_value=None)
    if s.dtype == object:  # object columns may mix None / NaN / NA
        out = np.where(pd.isna(out), None, out)
    return out.tolist()


def texts_or_empty(s: pd.Series) -> list[str]:
    """Text values; null -> '' (the create-client body never sends null)."""
    out = s.to_numpy(dtype=object, na_value="")
    if s.dtype == object:
        out = np.where(pd.isna(out), "", out)
    return out.tolist()


def blank_to_none(values: list[str | None]) -> list[str | None]:
    return [v if v else None for v in values]


def ints(s: pd.Series) -> list[int | None]:
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu":
        return s.tolist()
    obj = s.to_numpy(dtype=object, na_value=None)
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v) for v in obj.tolist()]


def bools(s: pd.Series) -> list[bool | None]:
    if s.dtype == bool:
        return s.tolist()
    return [None if v is None else bool(v) for v in s.to_numpy(dtype=object, na_value=None).tolist()]


def records(keys: tuple[str, ...] | list[str], *columns: list) -> list[dict]:
    """Column lists -> one dict per position with `keys` (in order)."""
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]


def money(s: pd.Series) -> list[float | None]:
    """Amounts rounded to cents as JSON numbers (NaN -> None)."""
    values = np.round(s.to_numpy(dtype=float, na_value=np.nan), 2)
    return [None if math.isnan(v) else v for v in values.tolist()]


def numbers(s: pd.Series, decimals: int = 4) -> list[float | None]:
    values = np.round(s.to_numpy(dtype=float, na_value=np.nan), decimals)
    return [None if math.isnan(v) else v for v in values.tolist()]


def dates(s: pd.Series) -> list[str | None]:
    """Dates as ISO 8601 `YYYY-MM-DD` (the API's plain-date format); NaT -> None."""
    arr = s.to_numpy()
    if arr.dtype.kind != "M":
        arr = pd.to_datetime(s).to_numpy()
    text = np.datetime_as_string(arr, unit="D").tolist()
    return [None if t == "NaT" else t for t in text]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of small acyclic dicts (it would otherwise
    rescan them over and over; measured: half the mapping time). Restores the previous state."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
