"""Checks on the receivables tables: settlement sums, allocations without an invoice, the settlements gap,
and freshness of payments and settlements."""

from __future__ import annotations

import dagster as dg

from confirma_pipeline.defs.lib.partitions import TIMEZONE
from confirma_pipeline.defs.lib.pulled import failing_and_sample, finding_check
from confirma_pipeline.warehouse import findings as checks

# The nightly run starts at 02:00 Helsinki; yesterday's partition should be in by 06:00.
FRESHNESS_DEADLINE_CRON = "0 6 * * *"

settlement_breakdowns_sum_to_allocations = finding_check(
    "settlement_breakdowns_sum_to_allocations",
    "settlements",
    checks.breakdown_mismatches,
    blocking=True,
    description="Every allocation's breakdown items (CAPITAL, INTEREST, FEES) add up to its allocated total",
    ok="breakdowns add up",
    bad="{count} allocation(s) whose breakdown does not add up to the allocated total",
)
settlement_allocations_sum_to_amount = finding_check(
    "settlement_allocations_sum_to_amount",
    "settlements",
    checks.settlement_amount_mismatches,
    blocking=True,
    description="Every settlement's allocations add up to the settlement amount",
    ok="allocations add up",
    bad="{count} settlement(s) whose allocations do not add up to the settlement amount",
)
settlement_allocations_match_invoices = finding_check(
    "settlement_allocations_match_invoices",
    "settlements",
    checks.unmatched_allocations,
    severity=dg.AssetCheckSeverity.WARN,
    description="Allocations whose original invoice number matches no invoice submitted by the same client",
    ok="every allocation matches a submitted invoice",
    bad="{count} allocation(s) match no submitted invoice of their client",
    metadata=lambda finding: {
        **failing_and_sample(finding),
        "invoice_numbers_sample": dg.MetadataValue.text(
            ", ".join(sorted({str(r["original_invoice_number"]) for r in finding.sample})) or "-"
        ),
    },
)
settlements_not_lost = finding_check(
    "settlements_not_lost",
    "settlements",
    checks.unprocessed_settlement_answers,
    description=(
        "No settlements answer is fetched but unwritten: the API marks settlements fetched on read, so an "
        "unprocessed confirma.api_inbox row is a gap until the next run writes it"
    ),
    ok="every fetched settlements answer is written",
    bad="{count} fetched settlements answer(s) not written yet (kept in confirma.api_inbox; the next run "
    "writes them, or run settlements with mode=range for the days concerned)",
)

freshness_checks = dg.build_time_partition_freshness_checks(
    assets=[dg.AssetKey("payments"), dg.AssetKey("settlements")],
    deadline_cron=FRESHNESS_DEADLINE_CRON,
    timezone=TIMEZONE,
    severity=dg.AssetCheckSeverity.WARN,
)
freshness_checks_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=freshness_checks, name="receivables_freshness_checks_sensor"
)
