"""Bring a frame to the dtype contract before validation, so a user's relation never costs a good row.

A user's own table or view yields whatever dtypes its NULLs imply: a NOT NULL boolean column with one NULL
arrives as pandas `boolean`, an integer one as `Int64`, text may be `object` or `string[python]`. Judging
dtypes column by column would reject every row of the chunk for one row's NULL. Instead:

- a column whose values CAN be read as the contract's dtype is converted (nullable boolean -> bool, Int64 ->
  int64, object/`string` -> str, other datetime units -> us ...);
- a NULL in a column the contract says is NOT NULL rejects that row only: "<column> is null (fails
  not_null)". In a boolean or integer column (dtypes that cannot hold a NULL) the row leaves the frame
  before the model's checks run, so no placeholder value produces a second, misleading reason; in text,
  money and date columns the NULL is representable and pandera reports it with the row's other failures;
- a column that is missing, or whose values cannot be read as the contract's dtype at all (text in a
  boolean column), concerns the whole relation: `RelationError`, one line naming the column. It is never
  turned into a per-row reason.

The clean case (every dtype already right, no NULL where none is allowed) costs one `isna` per
non-nullable column and no copy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.engines import pandas_engine

from confirma_pipeline.errors import ConfigError
from confirma_pipeline.validation.input_contract import DATE_DTYPE, STR_DTYPE, TIMESTAMPTZ_DTYPE

NOT_NULL_CHECK = "not_null"


class RelationError(ConfigError):
    """A failure of a whole input relation (missing column, unreadable dtype). `entity` is the model's name
    (invoice, invoice_row, creditor); callers that know the configured relation name re-raise with it."""

    def __init__(self, entity: str, column: str, detail: str) -> None:
        self.entity, self.column, self.detail = entity, column, detail
        super().__init__(f"{entity} input: column {column} {detail}")

    def naming(self, relation: str) -> ConfigError:
        """The same failure, naming the configured relation (e.g. a user's view)."""
        return ConfigError(f"relation {relation}: column {self.column} {self.detail}")


_NUMBER_KINDS = frozenset({"integer", "floating", "decimal", "mixed-integer-float", "empty"})


def _kind(series: pd.Series) -> str:
    """pandas' inferred kind of the values (NULLs skipped): 'integer', 'floating', 'string', 'boolean'..."""
    return pd.api.types.infer_dtype(series, skipna=True)


def _is_bool_like(values: pd.Series) -> bool:
    return bool(values.map(lambda v: isinstance(v, bool | np.bool_)).all())


def _convert(series: pd.Series, target: str) -> pd.Series:
    """`series` (nulls already known) as the contract dtype `target`; ValueError/TypeError when it cannot."""
    nulls = series.isna()
    if target == "bool":
        present = series[~nulls]
        if series.dtype == object and not _is_bool_like(present):
            raise ValueError("non-boolean values")
        if series.dtype != object and not pd.api.types.is_bool_dtype(series.dtype):
            raise TypeError("not boolean")
        return series.astype(object).where(~nulls, False).astype(bool)
    if target in ("int64", "Int64"):
        if _kind(series) not in _NUMBER_KINDS:
            raise TypeError("not an integer")
        numeric = pd.to_numeric(series, errors="raise")
        if target == "Int64":
            return numeric.astype("Int64")
        return numeric.astype("Float64").fillna(1).astype("int64")
    if target == "float64":
        if _kind(series) not in _NUMBER_KINDS:
            raise TypeError("not a number")
        return pd.to_numeric(series, errors="raise").astype("float64")
    if target == "str":
        present = series[~nulls]
        if not bool(present.map(lambda v: isinstance(v, str)).all()):
            raise ValueError("non-text values")
        return series.astype(STR_DTYPE)
    if target == str(DATE_DTYPE):
        if not pd.api.types.is_datetime64_any_dtype(series.dtype):
            raise TypeError("not a date")
        if getattr(series.dtype, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        return series.astype(DATE_DTYPE)
    if target == str(TIMESTAMPTZ_DTYPE):
        if (
            not pd.api.types.is_datetime64_any_dtype(series.dtype)
            or getattr(series.dtype, "tz", None) is None
        ):
            raise TypeError("not a timestamp with time zone")
        return series.dt.tz_convert("UTC").astype(TIMESTAMPTZ_DTYPE)
    raise TypeError(f"no conversion to {target}")


def _kind_of(dtype) -> str:
    """The contract kind of a pandera dtype: 'str' for every string flavour (pandas 3 reports the model's
    `str` as string[pyarrow], pandas 2.3 as str), else the dtype's name."""
    name = str(dtype)
    return "str" if name in ("str", "string") or name.startswith("string[") else name


def _same_dtype(expected, actual) -> bool:
    """Exactly the contract's dtype; for text, pandera's own dtype-level verdict (no data scanned; it knows
    which string flavours stand for `str`). pandera would also call Int64 int64: that is not enough here."""
    if _kind_of(expected) != "str":
        return str(expected) == str(actual)
    try:
        return bool(expected.check(pandas_engine.Engine.dtype(actual)))
    except TypeError:
        return False


#: dtypes that cannot hold a NULL: a row with a NULL there leaves the frame before the checks. Elsewhere
#: (text, money, dates) a NULL is representable and pandera reports it per row with the row's other failures.
_NO_NULL_DTYPES = frozenset({"bool", "int64"})


def conform(schema: pa.DataFrameSchema, df: pd.DataFrame, entity: str) -> tuple[pd.DataFrame, np.ndarray]:
    """(frame with the schema's dtypes, boolean mask of rows holding a NULL where none is allowed).

    Raises `RelationError` for a missing column or one whose values cannot be read as its dtype."""
    converted: dict[str, pd.Series] = {}
    null_rows = np.zeros(len(df), dtype=bool)
    for name, column in schema.columns.items():
        if name not in df.columns:
            raise RelationError(entity, name, "is missing")
        series = df[name]
        target = _kind_of(column.dtype)
        if not column.nullable and target in _NO_NULL_DTYPES:
            nulls = series.isna().to_numpy(dtype=bool)
            if nulls.any():
                null_rows |= nulls
        if _same_dtype(column.dtype, series.dtype):
            continue
        try:
            converted[name] = _convert(series, target)
        except (ValueError, TypeError, OverflowError) as exc:
            raise RelationError(
                entity, name, f"has dtype {series.dtype} that cannot be read as {target} ({exc})"
            ) from None
    if converted:
        df = df.assign(**converted)
    return df, null_rows


def null_columns(
    schema: pa.DataFrameSchema, df: pd.DataFrame, positions: np.ndarray
) -> list[tuple[str, np.ndarray]]:
    """(column, the `positions` where it is null) for each NOT NULL column null somewhere among `positions`;
    columns in the order a row-by-row reading meets them (by first such position, then schema order), so
    each row's reasons list its null columns in schema order."""
    names = [
        n
        for n, c in schema.columns.items()
        if not c.nullable and str(c.dtype) in _NO_NULL_DTYPES and n in df.columns
    ]
    sub = df.iloc[positions]
    found = []
    for order, name in enumerate(names):
        null = sub[name].isna().to_numpy(dtype=bool)
        if null.any():
            found.append((int(np.argmax(null)), order, name, positions[null]))
    return [(name, at) for _, _, name, at in sorted(found)]
