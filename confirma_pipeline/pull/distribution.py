"""Pull distribution (delivery) records: one `GET /invoice/distribution?fromInvDate&toInvDate` per active client
for the whole window (invoice dates), upserted by (client, invoice number). Each record's case id is then
copied onto the invoice's row of the submission ledger (`confirma.invoice_ledger.case_id`), which is what the
cases pull reads.

The API reports `metaData.totalCount`; an answer with fewer records than that (a page we cannot ask for, the
docs show no pagination) is treated as invalid rather than silently written incomplete.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd

from confirma_pipeline.api.concurrency import run_bounded
from confirma_pipeline.mapping.responses import distribution_frame
from confirma_pipeline.pull.common import (
    active_clients,
    log,
    pull_sql,
    record_client_error,
    validate_frame,
)
from confirma_pipeline.pull.errors import PullValidationError, answer_invalid
from confirma_pipeline.pull.report import PullReport
from confirma_pipeline.pull.window import Window
from confirma_pipeline.validation.writeback import DistributionModel
from confirma_pipeline.vault import load_tokens
from confirma_pipeline.warehouse.bulk import upsert_frame
from confirma_pipeline.warehouse.connection import connect

TABLE = "confirma.distribution"


def pull_distribution(
    dsn: str | None,
    client,
    vault,
    window: Window,
    creditor_ids: Sequence[str] | None = None,
    logger: logging.Logger | None = None,
    *,
    lookback_days: int = 0,
    concurrency: int = 8,
) -> PullReport:
    """Upsert the distribution records of invoices dated in `window` (plus `lookback_days` before it)."""
    logger = logger or log
    fetch_window = window.extended_back(lookback_days)
    report = PullReport("distribution", window=window, fetch_window=fetch_window)
    report.start_calls(client)
    with connect(dsn, autocommit=True) as conn:
        clients = active_clients(conn, creditor_ids)
        tokens = load_tokens(conn, vault, clients)
        report.clients = len(clients)
        frames: dict[str, pd.DataFrame] = {}

        def fetch(creditor_id: str):
            return client.get_distribution(tokens[creditor_id], fetch_window.start, fetch_window.end)

        for creditor_id, outcome in run_bounded(fetch, [c for c in clients if c in tokens], concurrency):
            try:
                if isinstance(outcome, BaseException):
                    raise outcome
                records = outcome.distributions
                report.records += len(records)
                total = outcome.meta_data.total_count
                if total and total != len(records):
                    raise PullValidationError(
                        answer_invalid(
                            "distribution", creditor_id,
                            f"metaData.totalCount is {total} but {len(records)} record(s) came (incomplete answer)",
                        )
                    )  # fmt: skip
                frame = distribution_frame(creditor_id, records)
                frames[creditor_id] = validate_frame(DistributionModel, frame, "distribution", creditor_id)
                report.count(creditor_id, "distribution_records", len(records))
            except Exception as exc:
                record_client_error(conn, report, creditor_id, exc, logger)

        if frames:
            batch = list(frames)
            try:
                with conn.transaction():
                    frame = pd.concat(frames.values(), ignore_index=True)
                    result = upsert_frame(conn, frame, TABLE, ["creditor_id", "invoice_number"])
                    linked = conn.execute(pull_sql("ledger_case_ids"), {"ids": batch}).rowcount
                report.wrote(TABLE, result)
                report.extra["ledger_case_ids_set"] += linked
                report.clients_pulled += len(batch)
            except Exception as exc:
                for creditor_id in batch:
                    record_client_error(conn, report, creditor_id, exc, logger)
    report.finish(client)
    logger.info(report.summary_line())
    report.raise_for_failures()
    return report
