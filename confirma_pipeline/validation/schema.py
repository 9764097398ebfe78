"""Column schemas of the pandera models in a plain form, so the Dagster layer can build `dagster/column_schema`
(`TableSchema` / `TableColumn`) without touching pandera internals."""

from __future__ import annotations

import pandera.pandas as pa

from confirma_pipeline.validation.dtypes import DateUS


def _type_name(dtype) -> str:
    if dtype is None:
        return "any"
    if isinstance(dtype, DateUS):
        return str(dtype)
    text = str(dtype)
    if text in ("string[pyarrow]", "str", "string[python]", "string"):
        return "str"
    return text


def _schema(model: type[pa.DataFrameModel] | pa.DataFrameSchema) -> pa.DataFrameSchema:
    return model if isinstance(model, pa.DataFrameSchema) else model.to_schema()


def column_schema(model: type[pa.DataFrameModel] | pa.DataFrameSchema) -> list[dict]:
    """One dict per column, in model order: `name`, `type` (pandas dtype name: str, int64, Int64, float64, bool,
    datetime64[us], datetime64[us, UTC]), `description`, `nullable`, `unique` (the column alone is a key;
    compound keys are listed by `table_keys`)."""
    schema = _schema(model)
    return [
        {
            "name": name,
            "type": _type_name(col.dtype),
            "description": col.description or "",
            "nullable": bool(col.nullable),
            "unique": bool(col.unique),
        }
        for name, col in schema.columns.items()
    ]


def column_checks(model: type[pa.DataFrameModel] | pa.DataFrameSchema) -> dict[str, list[str]]:
    """Column -> names of the checks that judge it (column checks and row checks naming it as a subject)."""
    schema = _schema(model)
    out: dict[str, list[str]] = {name: [c.name for c in col.checks] for name, col in schema.columns.items()}
    for check in schema.checks:
        for name in (check.statistics or {}).get("columns", ()):
            if name in out and check.name not in out[name]:
                out[name].append(check.name)
    return out


def table_keys(model: type[pa.DataFrameModel] | pa.DataFrameSchema) -> list[list[str]]:
    """The unique keys: single unique columns and the compound `Config.unique`."""
    schema = _schema(model)
    keys = [[name] for name, col in schema.columns.items() if col.unique]
    if schema.unique:
        keys.append(list(schema.unique))
    return keys
