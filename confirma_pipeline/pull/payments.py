"""Pull payments: one `GET /payments?fromDate&toDate` per active client for the whole window.

Payments can still change until they are settled, so each client's window is *replaced*
(`bulk.replace_window`, keyed by client and payment_day): rows that vanished or changed are deleted, new ones
inserted, unchanged ones not touched. Every row of an answer must lie inside the window asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd

from confirma_pipeline.api.concurrency import run_bounded
from confirma_pipeline.mapping.responses import payments_frame_from_columns
from confirma_pipeline.pull.common import (
    active_clients,
    log,
    record_client_error,
    validate_frames,
)
from confirma_pipeline.pull.errors import PullValidationError, answer_invalid
from confirma_pipeline.pull.report import PullReport
from confirma_pipeline.pull.window import Window
from confirma_pipeline.validation.writeback import PaymentModel
from confirma_pipeline.vault import load_tokens
from confirma_pipeline.warehouse.bulk import replace_window
from confirma_pipeline.warehouse.connection import connect

TABLE = "confirma.payments"
FLUSH_ROWS = 100_000


def pull_payments(
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
    """Replace the payments of `window` (plus `lookback_days` before it) for each active client."""
    logger = logger or log
    fetch_window = window.extended_back(lookback_days)
    report = PullReport("payments", window=window, fetch_window=fetch_window)
    report.start_calls(client)
    with connect(dsn, autocommit=True) as conn:
        clients = active_clients(conn, creditor_ids)
        tokens = load_tokens(conn, vault, clients)
        report.clients = len(clients)
        pending: dict[str, pd.DataFrame] = {}

        def flush() -> None:
            if not pending:
                return
            frame, batch, invalid = validate_frames(PaymentModel, pending, "payments")
            for creditor_id in batch:
                report.count(creditor_id, "payments", len(pending[creditor_id]))
            pending.clear()
            for creditor_id, exc in invalid.items():
                record_client_error(conn, report, creditor_id, exc, logger)
            if not batch:
                return
            try:
                result = replace_window(
                    conn, frame, TABLE, scope_column="creditor_id", scopes=batch, date_column="payment_day",
                    date_from=fetch_window.start, date_to=fetch_window.end,
                )  # fmt: skip
            except Exception as exc:
                for creditor_id in batch:
                    record_client_error(conn, report, creditor_id, exc, logger)
                return
            report.wrote(TABLE, result)
            report.clients_pulled += len(batch)

        def fetch(creditor_id: str):
            return client.get_payment_columns(tokens[creditor_id], fetch_window.start, fetch_window.end)

        for creditor_id, outcome in run_bounded(fetch, [c for c in clients if c in tokens], concurrency):
            try:
                if isinstance(outcome, BaseException):
                    raise outcome
                report.records += outcome.num_rows
                frame = payments_frame_from_columns(creditor_id, outcome)  # validated per batch in flush()
                _check_inside(frame, fetch_window, creditor_id)
            except Exception as exc:
                record_client_error(conn, report, creditor_id, exc, logger)
                continue
            pending[creditor_id] = frame
            if sum(len(f) for f in pending.values()) >= FLUSH_ROWS:
                flush()
        flush()
    report.finish(client)
    logger.info(report.summary_line())
    report.raise_for_failures()
    return report


def _check_inside(frame: pd.DataFrame, window: Window, creditor_id: str) -> None:
    days = frame["payment_day"]
    outside = int(((days < pd.Timestamp(window.start)) | (days > pd.Timestamp(window.end))).sum())
    if outside:
        raise PullValidationError(
            answer_invalid(
                "payments",
                creditor_id,
                f"paymentDate: {outside} row(s) outside the requested window {window}",
            )
        )
