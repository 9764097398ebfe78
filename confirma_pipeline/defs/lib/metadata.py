"""Standard Dagster metadata for our tables: table name, column schema (from the pandera
models), row counts. Assets call these so every asset page reads the same way."""

from __future__ import annotations

import dagster as dg

OWNERS = ["team:finance-integrations"]


def column_schema(model) -> dg.TableSchema:
    from confirma_pipeline.validation.schema import column_schema as describe

    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c["name"],
                type=c["type"],
                description=c.get("description"),
                constraints=dg.TableColumnConstraints(nullable=c["nullable"], unique=c["unique"]),
            )
            for c in describe(model)
        ]
    )


def table_metadata(table: str, model=None, row_count: int | None = None) -> dict:
    metadata: dict = {"dagster/table_name": table}
    if model is not None:
        metadata["dagster/column_schema"] = column_schema(model)
    if row_count is not None:
        metadata["dagster/row_count"] = dg.MetadataValue.int(int(row_count))
    return metadata


def markdown_table(rows: list[dict], limit: int = 20) -> dg.MetadataValue:
    if not rows:
        return dg.MetadataValue.md("_none_")
    columns = list(dict.fromkeys(k for row in rows[:limit] for k in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"\n_{len(rows) - limit} more not shown_")
    return dg.MetadataValue.md("\n".join(lines))
