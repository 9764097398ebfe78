"""Pull distribution (delivery) records: one `GET /invoice/distribution?fromInvDate&toInvDate` per active client
for the whole window (invoice dates), upserted by (client, invoice number). Each record's case id is then
copied onto the invoice's row of the submission ledger (`confirma.invoice_ledger.case_id`), in the same
transaction, which is what the cases pull reads.

The API reports `metaData.totalCount`; an answer with fewer records than that (a page we cannot ask for, the
docs show no pagination) is treated as invalid rather than silently written incomplete.
"""

from __future__ import annotations

from functools import partial

import psycopg

from confirma_pipeline.mapping.responses import distribution_frame
from confirma_pipeline.pull.engine import pull
from confirma_pipeline.pull.spec import PerWindow, PullRun, PullSpec, Upsert
from confirma_pipeline.validation.pulled import DistributionModel
from confirma_pipeline.warehouse import submission_ledger


def _incomplete(answer, run: PullRun) -> str | None:
    total, came = answer.meta_data.total_count, len(answer.distributions)
    if total and total != came:
        return f"metaData.totalCount is {total} but {came} record(s) came (incomplete answer)"
    return None


def _link_case_ids(conn: psycopg.Connection, creditor_ids: list[str]) -> dict[str, int]:
    return {"ledger_case_ids_set": submission_ledger.link_case_ids(conn, creditor_ids)}


DISTRIBUTION = PullSpec(
    model=DistributionModel,
    fetch=PerWindow("get_distribution"),
    check_answer=_incomplete,
    frames=lambda item, answer: [distribution_frame(item.creditor_id, answer.distributions)],
    write=Upsert("creditor_id", "invoice_number"),
    after_write=_link_case_ids,
)

#: `pull_distribution(ctx, window, lookback_days=...)` upserts the distribution records of invoices dated in
#: `window` (plus `lookback_days` before it).
pull_distribution = partial(pull, DISTRIBUTION)
