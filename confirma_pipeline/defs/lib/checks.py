"""The check shapes of the push side, written once: each domain check is one call naming its asset (by key),
its name and description, and the rows to list.

Two shapes: "rows this run quarantined" (WARN, reads the run id) and "warehouse rows that need a person"
(stuck, unsettled, changed after sending, failed syncs, unknown API fields): the check passes when the query
returns no row and otherwise shows the count and a table of them.
"""

# No `from __future__ import annotations`: Dagster reads the resource annotation of the check functions.
from collections.abc import Callable, Sequence

import dagster as dg

from confirma_pipeline.defs.lib.metadata import markdown_table
from confirma_pipeline.defs.resources import WarehouseResource

# rows(conn, warehouse) -> the rows to show, one dict per row (columns in display order)
RowsQuery = Callable[..., list[dict]]


def rejected_this_run_check(
    asset: str, name: str, description: str, entities: Sequence[str], what: str
) -> dg.AssetChecksDefinition:
    """WARN when the run that materialized `asset` quarantined rows of these `entities`. The sample shows
    keys and failed checks only: reasons can quote values (names, e-mails), which stay in the warehouse table
    (confirma.rejected_rows), not in Dagster."""

    @dg.asset_check(asset=asset, name=name, description=description)
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        from confirma_pipeline.warehouse.rejections import rejections_in_run

        with warehouse.connect() as conn:
            count, sample = rejections_in_run(conn, context.run.run_id, entities)
        return dg.AssetCheckResult(
            passed=count == 0,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{count} {what} rejected in this run (reasons in confirma.rejected_rows)",
            metadata={
                "rejected_this_run": dg.MetadataValue.int(count),
                "sample": markdown_table(
                    [{"entity": e, "key": k, "checks": ", ".join(c)} for e, k, c, _ in sample]
                ),
            },
        )

    return _check


def rows_check(
    asset: str,
    name: str,
    description: str,
    rows: RowsQuery,
    *,
    severity: dg.AssetCheckSeverity,
    count_key: str,
    rows_key: str,
    summary: Callable[[int], str] | None = None,
) -> dg.AssetChecksDefinition:
    """A check that lists the warehouse rows `rows(conn, warehouse)` returns and passes when there are none:
    the count under `count_key`, the rows as a table under `rows_key`, `summary(count)` as its text."""

    @dg.asset_check(asset=asset, name=name, description=description)
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as conn:
            listed = rows(conn, warehouse)
        return dg.AssetCheckResult(
            passed=not listed,
            severity=severity,
            description=summary(len(listed)) if summary is not None else None,
            metadata={count_key: dg.MetadataValue.int(len(listed)), rows_key: markdown_table(listed)},
        )

    return _check


def stuck_rows_check(asset: str, name: str, description: str, rows: RowsQuery, rows_key: str):
    """ERROR while rows wait for an operator: outcome unknown (in flight, never resent) or attempts spent."""
    return rows_check(
        asset,
        name,
        description,
        rows,
        severity=dg.AssetCheckSeverity.ERROR,
        count_key="stuck",
        rows_key=rows_key,
    )


def max_attempts() -> int:
    """The attempt budget after which a row waits for an operator (push/settings.py)."""
    from confirma_pipeline.push.settings import PushSettings

    return PushSettings().max_attempts
