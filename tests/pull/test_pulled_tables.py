"""Each pulled table is written once: its pandera model (validation/pulled.py) and its DDL (sql/migrations) say
the same thing. Read from the migrated warehouse itself (information_schema), not from the SQL text."""

from __future__ import annotations

import psycopg
import pytest

from confirma_pipeline.validation.pulled import PULLED_MODELS, columns

# information_schema data types -> the model dtypes that store them
DTYPES = {
    "text": {"string[pyarrow]", "str"},
    "bigint": {"int64", "Int64"},
    "integer": {"int64", "Int64"},
    "numeric": {"float64"},
    "date": {"datetime64[us]"},
    "timestamp with time zone": {"datetime64[us, UTC]"},
    "boolean": {"boolean", "bool"},
}


def _columns(dsn: str, table: str) -> list[tuple]:
    schema, name = table.split(".")
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            """
            SELECT c.column_name, c.data_type, c.is_nullable = 'YES', c.column_default IS NOT NULL,
                   t.table_type = 'VIEW'
            FROM information_schema.columns c
            JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE c.table_schema = %s AND c.table_name = %s
            ORDER BY c.ordinal_position
            """,
            (schema, name),
        ).fetchall()


@pytest.mark.parametrize("table", list(PULLED_MODELS))
def test_model_and_ddl_agree(warehouse_dsn: str, table: str):
    model = PULLED_MODELS[table]
    schema = model.to_schema().columns
    found = _columns(warehouse_dsn, table)
    assert [name for name, *_ in found] == list(columns(model)), "same columns, same order"
    for name, data_type, nullable, has_default, is_view in found:
        column = schema[name]
        assert str(column.dtype) in DTYPES[data_type], (name, data_type, column.dtype)
        if not column.required:  # a frame may leave it out: the database must fill it
            assert has_default or is_view, f"{name}: optional in the model, but no default in the table"
        elif not is_view:  # a view's columns all read as nullable
            assert column.nullable == nullable, name
