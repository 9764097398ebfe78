"""Check bodies shared by the push domains (rejected rows of a run, rows an operator must settle)."""

from __future__ import annotations

import dagster as dg

from confirma_pipeline.defs.lib.metadata import markdown_table


def rejected_rows_check(conn, run_id: str, entities: list[str], what: str) -> dg.AssetCheckResult:
    """WARN when this run quarantined rows. The sample shows keys and failed checks only: reasons
    can quote values (names, e-mails), which stay in the warehouse table, not in Dagster."""
    from confirma_pipeline.warehouse.rejections import rejections_in_run

    count, sample = rejections_in_run(conn, run_id, entities)
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


def stuck_rows_check(rows: list[dict], what: str) -> dg.AssetCheckResult:
    """ERROR while rows wait for an operator: outcome unknown (in flight, never resent) or attempts spent."""
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"stuck": dg.MetadataValue.int(len(rows)), what: markdown_table(rows)},
    )
