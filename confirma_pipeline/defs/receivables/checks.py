"""Checks on the receivables tables: settlement sums, allocations without an invoice, the settlements gap,
and freshness of payments and settlements."""

from __future__ import annotations

import dagster as dg

from confirma_pipeline.defs.lib.metadata import markdown_table
from confirma_pipeline.defs.lib.partitions import TIMEZONE
from confirma_pipeline.defs.receivables.assets import payments, settlements
from confirma_pipeline.defs.resources import WarehouseResource

# The nightly run starts at 02:00 Helsinki; yesterday's partition should be in by 06:00.
FRESHNESS_DEADLINE_CRON = "0 6 * * *"


def _finding_result(finding, *, severity, ok: str, bad: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=finding.passed,
        severity=severity,
        description=ok if finding.passed else bad.format(count=finding.count),
        metadata={"failing": dg.MetadataValue.int(finding.count), "sample": markdown_table(finding.sample)},
    )


@dg.asset_check(
    asset=settlements,
    blocking=True,
    description="Every allocation's breakdown items (CAPITAL, INTEREST, FEES) add up to its allocated total",
)
def settlement_breakdowns_sum_to_allocations(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from confirma_pipeline.pull.checks import breakdown_mismatches

    with warehouse.connect() as conn:
        finding = breakdown_mismatches(conn)
    return _finding_result(
        finding,
        severity=dg.AssetCheckSeverity.ERROR,
        ok="breakdowns add up",
        bad="{count} allocation(s) whose breakdown does not add up to the allocated total",
    )


@dg.asset_check(
    asset=settlements,
    blocking=True,
    description="Every settlement's allocations add up to the settlement amount",
)
def settlement_allocations_sum_to_amount(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from confirma_pipeline.pull.checks import settlement_amount_mismatches

    with warehouse.connect() as conn:
        finding = settlement_amount_mismatches(conn)
    return _finding_result(
        finding,
        severity=dg.AssetCheckSeverity.ERROR,
        ok="allocations add up",
        bad="{count} settlement(s) whose allocations do not add up to the settlement amount",
    )


@dg.asset_check(
    asset=settlements,
    description="Allocations whose original invoice number matches no invoice submitted by the same client",
)
def settlement_allocations_match_invoices(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from confirma_pipeline.pull.checks import unmatched_allocations

    with warehouse.connect() as conn:
        finding = unmatched_allocations(conn)
    numbers = sorted({str(r["original_invoice_number"]) for r in finding.sample})
    result = _finding_result(
        finding,
        severity=dg.AssetCheckSeverity.WARN,
        ok="every allocation matches a submitted invoice",
        bad="{count} allocation(s) match no submitted invoice of their client",
    )
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=result.severity,
        description=result.description,
        metadata={
            **result.metadata,
            "invoice_numbers_sample": dg.MetadataValue.text(", ".join(numbers) or "-"),
        },
    )


@dg.asset_check(
    asset=settlements,
    description=(
        "No settlements answer is fetched but unwritten: the API marks settlements fetched on read, so an "
        "unprocessed confirma.api_inbox row is a gap until the next run writes it"
    ),
)
def settlements_not_lost(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from confirma_pipeline.pull.checks import unprocessed_settlement_answers

    with warehouse.connect() as conn:
        finding = unprocessed_settlement_answers(conn)
    return _finding_result(
        finding,
        severity=dg.AssetCheckSeverity.ERROR,
        ok="every fetched settlements answer is written",
        bad="{count} fetched settlements answer(s) not written yet (kept in confirma.api_inbox; the next run "
        "writes them, or run settlements with mode=range for the days concerned)",
    )


freshness_checks = dg.build_time_partition_freshness_checks(
    assets=[payments, settlements],
    deadline_cron=FRESHNESS_DEADLINE_CRON,
    timezone=TIMEZONE,
    severity=dg.AssetCheckSeverity.WARN,
)
freshness_checks_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=freshness_checks, name="receivables_freshness_checks_sensor"
)
