"""DataFrames <-> CSV for `COPY ... FROM STDIN` / `COPY ... TO STDOUT` (FORMAT csv), via pyarrow.

pandas' `to_csv` is the slow part of a COPY load (see performance-baselines.md, part B); pyarrow's
writer is about 5x faster and streams: `write_csv_chunks` slices the frame, converts one slice to
Arrow, lets pyarrow write it straight into the COPY in small pieces, and drops it, so memory grows
with `chunk_rows`, not with the frame.

NULL versus empty string. pyarrow writes a null as an empty *unquoted* field and quotes every
string value, so an empty string is written as `""`. PostgreSQL's CSV COPY (with `NULL ''`, the CSV
default) reads an unquoted empty field as NULL and a quoted one as the empty string. Missing values
of every pandas flavour (None, NaN, NaT, pd.NA) become NULL; "" stays "". The matching COPY
statement is in `bulk._copy_into`.

Conversions, guided by the target column's PostgreSQL type:
- datetime64 into `date`: must be midnight (a time of day raises rather than being truncated);
  tz-aware values are taken at their wall-clock date.
- datetime64 into `timestamptz` or `timestamp`: written as UTC wall-clock time without an offset
  (tz-aware values are converted to UTC first; naive values are taken as UTC). The COPY must run
  with the session setting `TimeZone = 'UTC'` (`UTC_SESSION_SETTINGS`), which `bulk` does, so a
  naive value is never read in some other session time zone.
- float64 into an integer column (pandas turns ints with NaN into floats): exact integers only.
- object columns: `Decimal` -> decimal128 (or its text when Arrow cannot hold it), `datetime.date`
  -> date32, bytes -> bytea hex (`\\x...`), dict/list into json/jsonb -> JSON text, list/tuple into
  an array column -> an array literal, anything else Arrow cannot type -> `str(value)`.
- float64 money into numeric(14,2): written in shortest round-trip form and rounded by PostgreSQL.
- all-null columns -> NULL whatever their dtype.

Reading (`read_csv_frames`) parses PostgreSQL's CSV output with pyarrow's streaming CSV reader,
typed from the query's result description: unquoted empty -> null, `""` -> "", int -> Int64,
bool -> boolean, numeric -> Decimal, date -> datetime.date, timestamptz -> datetime64[us, UTC]
(the COPY must run with TimeZone 'UTC' and DateStyle ISO: `READ_SESSION_SETTINGS`), other
types -> their text.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

#: Session settings the COPY of this module's CSV must run with.
UTC_SESSION_SETTINGS = {"TimeZone": "UTC"}
#: Session settings `COPY (query) TO STDOUT` must run with for `read_csv_frames`.
READ_SESSION_SETTINGS = {"TimeZone": "UTC", "DateStyle": "ISO, MDY"}

_INTEGER_TYPES = frozenset({"int2", "int4", "int8", "oid"})
_JSON_TYPES = frozenset({"json", "jsonb"})
# Rows per pyarrow CSV batch, i.e. per write into the COPY (about 1-2 MB of CSV for a payments row).
_CSV_BATCH_ROWS = 8192


@dataclass(frozen=True)
class PgColumn:
    """A target column as the catalog describes it (base type for domains)."""

    name: str
    type_name: str  # pg_type.typname, e.g. int8, numeric, text, date, timestamptz, _text
    sql_type: str  # format_type(), e.g. numeric(14,2)
    category: str  # pg_type.typcategory: N numeric, S string, D date/time, B bool, A array, U other


class Writable(Protocol):
    def write(self, data: Any) -> Any: ...


class _Sink:
    """The file-like object pyarrow writes to; forwards every piece to `target.write`."""

    def __init__(self, target: Writable) -> None:
        self._target = target
        self.closed = False
        self.bytes_written = 0

    def write(self, data: Any) -> int:
        self._target.write(data)
        n = len(data)
        self.bytes_written += n
        return n

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def close(self) -> None:  # pyarrow closes its wrapper, never our target
        pass


def frame_to_arrow(df: pd.DataFrame, columns: Mapping[str, PgColumn] | None = None) -> pa.Table:
    """The frame as an Arrow table ready for the CSV writer (see the module docstring)."""
    columns = columns or {}
    arrays = [_to_arrow(df[name], columns.get(name)) for name in df.columns]
    return pa.Table.from_arrays(arrays, names=[str(n) for n in df.columns])


def write_csv_chunks(
    df: pd.DataFrame,
    target: Writable,
    *,
    columns: Mapping[str, PgColumn] | None = None,
    chunk_rows: int = 200_000,
) -> int:
    """Write `df` as header-less CSV into `target` (e.g. a psycopg `Copy`), `chunk_rows` at a time.

    Returns the number of CSV bytes written.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    sink = _Sink(target)
    options = pacsv.WriteOptions(include_header=False, batch_size=_CSV_BATCH_ROWS)
    for start in range(0, len(df), chunk_rows):
        table = frame_to_arrow(df.iloc[start : start + chunk_rows], columns)
        pacsv.write_csv(table, sink, write_options=options)
        del table
    return sink.bytes_written


def _to_arrow(series: pd.Series, column: PgColumn | None) -> pa.Array | pa.ChunkedArray:
    type_name = column.type_name if column else None
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(dtype.categories.dtype)
        dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _datetime_to_arrow(series, type_name)
    if type_name in _INTEGER_TYPES and pd.api.types.is_float_dtype(dtype):
        series = _float_to_int(series)
    elif pd.api.types.is_object_dtype(dtype):
        return _object_to_arrow(series, column)
    array = pa.array(series, from_pandas=True)
    return array.cast(pa.string()) if pa.types.is_null(array.type) else array


def _datetime_to_arrow(series: pd.Series, type_name: str | None) -> pa.Array:
    tz = getattr(series.dtype, "tz", None)
    if type_name == "date":
        if tz is not None:
            series = series.dt.tz_localize(None)
        if (series.notna() & (series != series.dt.normalize())).any():
            raise ValueError(f"column {series.name!r}: values have a time of day but the target is a date")
        return pa.array(series, from_pandas=True).cast(pa.date32())
    if tz is not None:
        # The UTC wall-clock time without an offset: pyarrow formats zoned timestamps ~8x slower
        # than naive ones, and the COPY runs with TimeZone 'UTC' (see UTC_SESSION_SETTINGS).
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    array = pa.array(series, from_pandas=True)
    try:  # whole seconds format ~4x faster still; a lossy cast raises and keeps the original
        return array.cast(pa.timestamp("s"), safe=True)
    except pa.ArrowInvalid:
        return array


def _float_to_int(series: pd.Series) -> pd.Series:
    values = series.dropna()
    if not (values == values.round()).all():
        raise ValueError(f"column {series.name!r}: fractional values for an integer column")
    return series.astype("Int64")


def _object_to_arrow(series: pd.Series, column: PgColumn | None) -> pa.Array:
    present = series[series.notna()]
    if present.empty:
        return pa.nulls(len(series), pa.string())
    first = present.iloc[0]
    type_name = column.type_name if column else None
    if isinstance(first, bytes | bytearray | memoryview):
        series = series.map(lambda v: "\\x" + bytes(v).hex(), na_action="ignore")
    elif type_name in _JSON_TYPES and not isinstance(first, str):
        series = series.map(lambda v: json.dumps(v, ensure_ascii=False, default=str), na_action="ignore")
    elif column is not None and column.category == "A" and isinstance(first, list | tuple):
        series = series.map(_array_literal, na_action="ignore")
    elif isinstance(first, dt.date) and not isinstance(first, dt.datetime):
        try:
            return pa.array(series, type=pa.date32(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            series = series.map(str, na_action="ignore")
    try:
        array = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        array = pa.array(series.map(str, na_action="ignore"), from_pandas=True)
    if pa.types.is_null(array.type):
        return array.cast(pa.string())
    unwritable = pa.types.is_nested(array.type) or pa.types.is_binary(array.type)
    if unwritable or (isinstance(first, Decimal) and not pa.types.is_decimal(array.type)):
        # Values the CSV writer cannot format, or Decimals that did not become decimal128.
        array = pa.array(series.map(str, na_action="ignore"), from_pandas=True)
    return array


def _array_literal(values: Any) -> str:
    """A PostgreSQL array literal: `{"a","b",NULL}` (elements quoted, `\\` and `"` escaped)."""
    parts = []
    for value in values:
        if value is None or (isinstance(value, float) and value != value):
            parts.append("NULL")
        else:
            text = str(value).replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'"{text}"')
    return "{" + ",".join(parts) + "}"


# --------------------------------------------------------------------------- reading

_OID_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(),  # bool
    20: pa.int64(),  # int8
    21: pa.int64(),  # int2
    23: pa.int64(),  # int4
    26: pa.int64(),  # oid
    700: pa.float64(),  # float4
    701: pa.float64(),  # float8
    1082: pa.date32(),  # date
    1114: pa.timestamp("us"),  # timestamp
    1184: pa.timestamp("us", tz="UTC"),  # timestamptz
}
_NUMERIC_OID = 1700


@dataclass(frozen=True)
class ResultColumn:
    """A result column as psycopg describes it (`cursor.description`)."""

    name: str
    type_oid: int
    precision: int | None = None
    scale: int | None = None

    @property
    def arrow_type(self) -> pa.DataType:
        if self.type_oid == _NUMERIC_OID:
            if self.precision is not None and self.scale is not None and 0 < self.precision <= 38:
                return pa.decimal128(self.precision, self.scale)
            return pa.string()  # unconstrained numeric: parsed to Decimal from its text
        return _OID_TYPES.get(self.type_oid, pa.string())


class _CopyOutStream(io.RawIOBase):
    """A readable file over the blocks of a `COPY ... TO STDOUT` (any iterable of buffers)."""

    def __init__(self, blocks: Iterable[Any]) -> None:
        self._blocks = iter(blocks)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._pending = memoryview(block)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def read_csv_frames(
    blocks: Iterable[Any], columns: list[ResultColumn], chunk_rows: int, *, block_bytes: int = 4 << 20
) -> Iterator[pd.DataFrame]:
    """DataFrames of `chunk_rows` rows (the last one shorter) parsed from PostgreSQL CSV output."""
    names = [c.name for c in columns]
    types = {c.name: c.arrow_type for c in columns}
    stream = io.BufferedReader(_CopyOutStream(blocks), buffer_size=1 << 20)
    if not stream.peek(1):
        return  # no rows (pyarrow refuses an empty CSV)
    reader = pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(column_names=names, block_size=block_bytes, use_threads=False),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    for batch in reader:
        pending.append(batch)
        pending_rows += batch.num_rows
        while pending_rows >= chunk_rows:
            table = pa.Table.from_batches(pending)
            yield _to_pandas(table.slice(0, chunk_rows), columns)
            rest = table.slice(chunk_rows)
            pending, pending_rows = rest.to_batches(), rest.num_rows
    if pending_rows:
        yield _to_pandas(pa.Table.from_batches(pending), columns)


def empty_frame(columns: list[ResultColumn]) -> pd.DataFrame:
    """A frame with no rows and the dtypes `read_csv_frames` would give these columns."""
    schema = pa.schema([(c.name, c.arrow_type) for c in columns])
    return _to_pandas(schema.empty_table(), columns)


def _to_pandas(table: pa.Table, columns: list[ResultColumn]) -> pd.DataFrame:
    mapper = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get
    df = table.to_pandas(types_mapper=mapper)
    for column in columns:
        if column.type_oid == _NUMERIC_OID and column.arrow_type == pa.string():
            df[column.name] = df[column.name].astype(object).map(Decimal, na_action="ignore")
    return df
