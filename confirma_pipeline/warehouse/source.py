"""Reading the input contract (schema `confirma_source`) as typed pandas frames.

The dtype contract (`CREDITORS_CONTRACT`, `INVOICES_CONTRACT`, `INVOICE_ROWS_CONTRACT`: each column's kind and
nullability, and the pandas dtype of each kind) is declared in `confirma_pipeline.validation.input_contract`;
this module reads the tables into frames of exactly those dtypes.

How it is read
--------------
`COPY (SELECT ...) TO STDOUT WITH (FORMAT csv, HEADER)` streamed from the server and parsed by
`pyarrow.csv.read_csv` with explicit column types, then converted column by column. In PostgreSQL's CSV output
NULL is an *unquoted* empty field and an empty string is a *quoted* `""`; the parser is told exactly that
(`null_values=[""]`, `quoted_strings_can_be_null=False`), so the two stay distinct. Dates and timestamps are
rendered by `to_char` in the SELECT (UTC, ISO 8601), so the session's DateStyle and TimeZone do not matter.

Relation names are configurable (a user can point at their own tables or views): `"schema.table"` is split on
dots and every part quoted with `psycopg.sql.Identifier` (names that themselves contain a dot are not
supported). A view must expose the contract's column names; missing relations or columns become one-line
`ConfigError`s naming the relation.

Non-null guarantees: the input tables declare NOT NULL where the contract says `nullable=False`. A user's view
that returns NULL in a NOT NULL column yields NaN / NaT, or in an integer or boolean column the nullable
variant of the dtype (`Int64`, `boolean`); the validation (`validation.conform`) reads those as the contract's
dtype and rejects only the rows holding the NULL, as `not_null`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

from confirma_pipeline.errors import ConfigError
from confirma_pipeline.validation.input_contract import (
    CREDITORS_CONTRACT,
    INVOICE_ROWS_CONTRACT,
    INVOICES_CONTRACT,
    STR_DTYPE,
    ColumnSpec,
)

# --- reading the dtype contract -------------------------------------------------------------------------

_ARROW_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "int64": pa.int64(),
    "Int64": pa.int64(),
    "float64": pa.float64(),
    "date": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "bool": pa.bool_(),
}


DEFAULT_CREDITORS = "confirma_source.creditors"
DEFAULT_INVOICES = "confirma_source.invoices"
DEFAULT_INVOICE_ROWS = "confirma_source.invoice_rows"


@dataclass(frozen=True)
class Relations:
    """The three relations the push reads (the defaults, or a user's own tables or views)."""

    creditors: str = DEFAULT_CREDITORS
    invoices: str = DEFAULT_INVOICES
    invoice_rows: str = DEFAULT_INVOICE_ROWS


def empty_frame(contract: Mapping[str, ColumnSpec]) -> pd.DataFrame:
    """A zero-row frame with the contract's columns and dtypes."""
    return pd.DataFrame({name: pd.Series([], dtype=spec.dtype) for name, spec in contract.items()})


# --- SQL building ---------------------------------------------------------------------------------------


def relation_identifier(relation: str) -> sql.Composed:
    """`"schema.table"` -> `"schema"."table"`, each dotted part quoted as an identifier."""
    parts = relation.split(".") if isinstance(relation, str) else []
    if not 1 <= len(parts) <= 2 or any(not p.strip() for p in parts):
        raise ConfigError(f"relation name {relation!r} is not of the form schema.table")
    return sql.SQL(".").join(sql.Identifier(p.strip()) for p in parts)


def count_rows(conn: psycopg.Connection, relation: str) -> int:
    """Rows in a table or a user's relation (the `dagster/row_count` of an asset)."""
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(relation_identifier(relation))).fetchone()[
        0
    ]


def _select_expr(alias: str, column: str, spec: ColumnSpec) -> sql.Composable:
    ref = sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(column))
    if spec.kind == "date":
        expr = sql.SQL("to_char({}, 'YYYY-MM-DD')").format(ref)
    elif spec.kind == "timestamptz":
        expr = sql.SQL("""to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""").format(ref)
    elif spec.kind == "str":
        expr = sql.SQL("{}::text").format(ref)
    else:
        expr = ref
    return sql.SQL("{} AS {}").format(expr, sql.Identifier(column))


def select_list(alias: str, contract: Mapping[str, ColumnSpec]) -> sql.Composed:
    return sql.SQL(", ").join(_select_expr(alias, c, s) for c, s in contract.items())


# --- COPY -> arrow -> pandas ----------------------------------------------------------------------------


def _convert_options(contract: Mapping[str, ColumnSpec]) -> pacsv.ConvertOptions:
    return pacsv.ConvertOptions(
        column_types={c: _ARROW_TYPES[s.kind] for c, s in contract.items()},
        include_columns=list(contract),
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        true_values=["t"],
        false_values=["f"],
    )


def arrow_to_frame(table: pa.Table, contract: Mapping[str, ColumnSpec]) -> pd.DataFrame:
    """Convert an arrow table to a pandas frame with the contract's dtypes (column by column)."""
    columns: dict[str, pd.Series] = {}
    for name, spec in contract.items():
        col = table.column(name)
        if spec.kind == "Int64" or (spec.kind == "int64" and col.null_count):
            series = col.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
        elif spec.kind == "bool" and col.null_count:
            series = col.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)
        else:
            series = col.to_pandas()
            if spec.kind == "str" and series.dtype != STR_DTYPE:
                series = series.astype(STR_DTYPE)
        columns[name] = series
    return pd.DataFrame(columns)


def copy_query_to_frame(
    conn: psycopg.Connection,
    query: sql.Composable,
    contract: Mapping[str, ColumnSpec],
    *,
    what: str = "query",
) -> pd.DataFrame:
    """Run `COPY (query) TO STDOUT (FORMAT csv, HEADER)` and parse it into a contract-typed frame.

    `query` must select exactly the contract's columns under their names (see `select_list`)."""
    statement = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)").format(query)
    buf = io.BytesIO()
    try:
        with conn.cursor() as cur, cur.copy(statement) as copy:
            for data in copy:
                buf.write(data)
    except _CONFIG_ERRORS as exc:
        _rollback_quietly(conn)
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ConfigError(
            f"cannot read {what}: {first} (check the configured relation and its columns)"
        ) from None
    buf.seek(0)
    try:
        table = pacsv.read_csv(
            buf,
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=_convert_options(contract),
        )
    except pa.ArrowInvalid as exc:
        raise ConfigError(f"cannot read {what}: {_unreadable_column(str(exc), contract)}") from None
    return arrow_to_frame(table, contract)


def _unreadable_column(arrow_message: str, contract: Mapping[str, ColumnSpec]) -> str:
    """Arrow's "In CSV column #N: CSV conversion error to bool: invalid value 'x'" as "column <name> cannot
    be read as bool": the column by name, without the value (it may be personal data)."""
    found = re.search(r"column #(\d+): CSV conversion error to (\w+)", arrow_message)
    if found and int(found.group(1)) < len(contract):
        name = list(contract)[int(found.group(1))]
        return (
            f"column {name} has a value that cannot be read as {found.group(2)} (the input contract's type)"
        )
    first = (arrow_message.strip().splitlines() or [""])[0][:200]
    return f"a column does not fit the input contract: {first}"


# SQL errors that mean "the configured relation does not honour the contract" (not a bug, not transient).
_CONFIG_ERRORS = (
    psycopg.errors.UndefinedTable,
    psycopg.errors.UndefinedColumn,
    psycopg.errors.InvalidSchemaName,
    psycopg.errors.UndefinedFunction,
    psycopg.errors.DatatypeMismatch,
    psycopg.errors.InsufficientPrivilege,
)


def _rollback_quietly(conn: psycopg.Connection) -> None:
    if not conn.autocommit:
        with contextlib.suppress(psycopg.Error):
            conn.rollback()


def _ids_literal(ids: Iterable[str]) -> sql.Composable:
    return sql.SQL("{}::text[]").format(sql.Literal([str(i) for i in ids]))


# --- public readers -------------------------------------------------------------------------------------


def creditor_exists(conn: psycopg.Connection, relation: str, creditor_id: str) -> bool:
    """Whether the creditors relation holds this creditor (a backfill request names one)."""
    query = sql.SQL("SELECT 1 FROM {} WHERE creditor_id = %s").format(relation_identifier(relation))
    return conn.execute(query, (creditor_id,)).fetchone() is not None


def creditor_business_code(conn: psycopg.Connection, relation: str, creditor_id: str) -> str | None:
    """The creditor's business code (None when the creditor is not there)."""
    query = sql.SQL("SELECT business_code FROM {} WHERE creditor_id = %s").format(
        relation_identifier(relation)
    )
    row = conn.execute(query, (creditor_id,)).fetchone()
    return row[0] if row else None


def read_creditors(
    conn: psycopg.Connection,
    relation: str = DEFAULT_CREDITORS,
    creditor_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """All creditors (or those in `creditor_ids`), ordered by creditor_id, typed per `CREDITORS_CONTRACT`."""
    where = sql.SQL("TRUE")
    if creditor_ids is not None:
        where = sql.SQL("c.creditor_id = ANY({})").format(_ids_literal(creditor_ids))
    query = sql.SQL("SELECT {cols} FROM {rel} AS c WHERE {where} ORDER BY c.creditor_id").format(
        cols=select_list("c", CREDITORS_CONTRACT), rel=relation_identifier(relation), where=where
    )
    return copy_query_to_frame(conn, query, CREDITORS_CONTRACT, what=relation)


def iter_invoices(
    conn: psycopg.Connection,
    relation: str = DEFAULT_INVOICES,
    rows_relation: str = DEFAULT_INVOICE_ROWS,
    creditor_ids: Sequence[str] | None = None,
    exclude_invoice_ids_sql: sql.Composable | str | None = None,
    chunk_size: int = 50_000,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Yield `(invoices, rows)` chunks of at most `chunk_size` invoices, in invoice_id order.

    `rows` holds exactly the rows of that chunk's invoices (ordered by invoice_id, row_number), so memory is
    bounded by the chunk, not the table. Filters: `creditor_ids`; `date_from` / `date_to` (inclusive, on
    invoice_date); `exclude_invoice_ids_sql`, a trusted SQL query (string or `psycopg.sql.Composable`) whose
    first column lists invoice ids to skip, e.g. those already in the submission ledger. Pagination is by
    keyset (`invoice_id > last`), so each chunk is an index range scan on the default tables.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    rel, rows_rel = relation_identifier(relation), relation_identifier(rows_relation)
    filters: list[sql.Composable] = []
    if creditor_ids is not None:
        filters.append(sql.SQL("i.creditor_id = ANY({})").format(_ids_literal(creditor_ids)))
    if date_from is not None:
        filters.append(sql.SQL("i.invoice_date >= {}").format(sql.Literal(date_from)))
    if date_to is not None:
        filters.append(sql.SQL("i.invoice_date <= {}").format(sql.Literal(date_to)))
    if exclude_invoice_ids_sql is not None:
        excl = (
            sql.SQL(exclude_invoice_ids_sql)
            if isinstance(exclude_invoice_ids_sql, str)
            else exclude_invoice_ids_sql
        )
        filters.append(
            sql.SQL(
                "NOT EXISTS (SELECT 1 FROM ({}) AS x(invoice_id) WHERE x.invoice_id = i.invoice_id)"
            ).format(excl)
        )
    last: str | None = None
    while True:
        conds = list(filters)
        if last is not None:
            conds.append(sql.SQL("i.invoice_id > {}").format(sql.Literal(last)))
        where = sql.SQL(" AND ").join(conds) if conds else sql.SQL("TRUE")
        query = sql.SQL("SELECT {cols} FROM {rel} AS i WHERE {where} ORDER BY i.invoice_id LIMIT {n}").format(
            cols=select_list("i", INVOICES_CONTRACT), rel=rel, where=where, n=sql.Literal(int(chunk_size))
        )
        invoices = copy_query_to_frame(conn, query, INVOICES_CONTRACT, what=relation)
        if invoices.empty:
            return
        ids = invoices["invoice_id"].tolist()
        rows_query = sql.SQL(
            "SELECT {cols} FROM {rel} AS r WHERE r.invoice_id = ANY({ids}) ORDER BY r.invoice_id, r.row_number"
        ).format(cols=select_list("r", INVOICE_ROWS_CONTRACT), rel=rows_rel, ids=_ids_literal(ids))
        rows = copy_query_to_frame(conn, rows_query, INVOICE_ROWS_CONTRACT, what=rows_relation)
        yield invoices, rows
        if len(invoices) < chunk_size:
            return
        last = ids[-1]


def read_invoices(conn: psycopg.Connection, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All matching invoices and their rows in one pair of frames (small reads; tests, demo, one client)."""
    pairs = list(iter_invoices(conn, **kwargs))
    if not pairs:
        return empty_frame(INVOICES_CONTRACT), empty_frame(INVOICE_ROWS_CONTRACT)
    if len(pairs) == 1:
        return pairs[0]
    return (
        pd.concat([p[0] for p in pairs], ignore_index=True),
        pd.concat([p[1] for p in pairs], ignore_index=True),
    )
