"""Pull payments: one `GET /payments?fromDate&toDate` per active client for the whole window.

Payments can still change until they are settled, so each client's window is *replaced*
(`bulk.replace_window`, keyed by client and payment_day): rows that vanished or changed are deleted, new ones
inserted, unchanged ones not touched. Every row of an answer must lie inside the window asked for.
"""

from __future__ import annotations

from functools import partial

import pandas as pd

from confirma_pipeline.mapping.responses import payments_frame_from_columns
from confirma_pipeline.pull.engine import pull
from confirma_pipeline.pull.spec import PerWindow, PullRun, PullSpec, ReplaceScopes
from confirma_pipeline.validation.pulled import PaymentModel


def _outside_window(frame: pd.DataFrame, run: PullRun) -> str | None:
    window = run.fetch_window
    days = frame["payment_day"]
    outside = int(((days < pd.Timestamp(window.start)) | (days > pd.Timestamp(window.end))).sum())
    return f"paymentDate: {outside} row(s) outside the requested window {window}" if outside else None


PAYMENTS = PullSpec(
    model=PaymentModel,
    fetch=PerWindow("get_payment_columns"),  # the answer decoded straight to columns (api/columnar.py)
    frames=lambda item, answer: [payments_frame_from_columns(item.creditor_id, answer)],
    check_frame=_outside_window,
    write=ReplaceScopes("creditor_id", date_column="payment_day"),
    # Written every 25k rows, so the writer starts while the other clients are still being fetched; the
    # answers waiting for it are bounded by rows (a client's answer may be 50k rows): writing is slower than
    # fetching, so more waiting would only cost memory.
    flush_rows=25_000,
    max_waiting_rows=50_000,
    # Inserting is most of a first load (COPY, primary key, day index, foreign key: ~18 us a row): two
    # batches written at once keep both of the database's cores busy. Batches hold disjoint clients' windows.
    writers=2,
)

#: `pull_payments(ctx, window, lookback_days=...)` replaces the payments of `window` (plus `lookback_days`
#: before it) for each active client.
pull_payments = partial(pull, PAYMENTS)
