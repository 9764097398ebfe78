"""Receivables: payments and settlements, pulled per active client into the warehouse (daily partitions)."""

# No `from __future__ import annotations`: Dagster resolves Config annotations at definition time.
from typing import Literal

import dagster as dg

from confirma_pipeline.defs.lib.partitions import covers_latest_partition_only
from confirma_pipeline.defs.lib.pulled import pulled_asset
from confirma_pipeline.pull.payments import PAYMENTS
from confirma_pipeline.pull.settlements import TARGET as SETTLEMENTS_TABLES
from confirma_pipeline.pull.settlements import pull_settlements

GROUP = "receivables"
DEPS = ("submitted_invoices", "client_credentials")


class PaymentsConfig(dg.Config):
    """Run config of the payments pull."""

    creditor_ids: list[str] | None = None  # limit to these clients (a client backfill)
    lookback_days: int = 7  # also re-read this many days before the window: payments change until settled


class SettlementsConfig(dg.Config):
    """Run config of the settlements pull."""

    # unfetched: every settlement not fetched before (unfetchedOnly=true); range: every settlement of the
    # partition window (fromDate/toDate), fetched before or not; auto: unfetched when the run is the latest
    # partition alone (the nightly run), range otherwise (a backfill or a rerun of past days).
    mode: Literal["auto", "unfetched", "range"] = "auto"
    creditor_ids: list[str] | None = None


def _settlements_mode(context: dg.AssetExecutionContext, config: SettlementsConfig) -> dict:
    if config.mode != "auto":
        return {"mode": config.mode}
    return {"mode": "unfetched" if covers_latest_partition_only(context) else "range"}


payments = pulled_asset(
    PAYMENTS,
    group=GROUP,
    deps=DEPS,
    config=PaymentsConfig,
    description="""Payments received by the agency for each active client, by payment day (Europe/Helsinki partitions).

    One `GET /payments?fromDate&toDate` per client for the whole run window (a 10-day backfill is one run and
    one call per client), plus `lookback_days` before it, because payments can still change until they are
    settled. Each client's window is replaced (keyed by client and payment_day): vanished or changed payments
    are deleted, new ones inserted, unchanged ones left alone. payment_key is a content hash made unique per
    client by the ordinal among identical rows (the API gives no payment id). A client whose token is refused
    is marked invalid and skipped; an answer failing the payments model is not written and fails the run.""",
)

settlements = pulled_asset(
    pull_settlements,
    key="settlements",
    target=SETTLEMENTS_TABLES,
    partitioned=True,
    options=_settlements_mode,
    group=GROUP,
    deps=DEPS,
    config=SettlementsConfig,
    description="""Settlements (payouts) per active client, normalized into confirma.settlements, settlement_allocations
    and allocation_breakdown (the newer `breakdown` and the older `events` alike); upserted by settlement id,
    allocation id and (allocation_id, line_no).

    Mode (run config `mode`): the nightly run of the latest partition asks for every settlement not fetched
    before (`unfetchedOnly=true`, whatever its date); a backfill or a rerun of past days asks for the
    partition window (`fromDate/toDate`, one call per client for the whole range), which also recovers any
    settlement ever lost.

    Not lost although the API marks a settlement fetched when it hands it out: each raw answer is written to
    confirma.api_inbox in its own committed transaction right after the fetch (before parsing); then, in ONE
    transaction, it is normalized, validated (models plus breakdown = allocation total, allocations =
    settlement amount), upserted and the inbox row marked processed. Leftover unprocessed inbox rows are
    processed first by the next run (or the step retry). The `settlements_not_lost` check fails while any
    fetched answer is not written yet: that is the gap, visible until the next run closes it.""",
)
