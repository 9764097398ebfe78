"""Pull case details: `GET /invoice/case?caseId=` for every submitted invoice whose case is still open, or whose
details were never fetched (case ids come from the distribution records, via `invoice_ledger.case_id`).
A closed case is final and not asked for again. Upserted by case id.

A 404 (a case id the API does not know for this client) is counted and skipped, not a failure: the next
distribution pull may correct the id.
"""

from __future__ import annotations

from functools import partial

import psycopg

from confirma_pipeline.mapping.responses import FetchedCase, cases_frame
from confirma_pipeline.pull.engine import pull
from confirma_pipeline.pull.spec import PerKey, PullRun, PullSpec, Upsert, WorkItem
from confirma_pipeline.validation.pulled import CaseModel
from confirma_pipeline.warehouse import receivables


def _cases_to_fetch(conn: psycopg.Connection, creditor_ids: list[str], run: PullRun) -> list[WorkItem]:
    """One item per open (or never fetched) case id, with its invoice number from the ledger."""
    rows = receivables.cases_to_fetch(conn, creditor_ids)
    return [WorkItem(creditor_id, case_id, number) for creditor_id, case_id, number in rows]


CASES = PullSpec(
    model=CaseModel,
    work=_cases_to_fetch,
    fetch=PerKey("get_case"),
    skip_statuses={404: "cases_not_found"},
    frames=lambda item, answer: [cases_frame([FetchedCase(item.creditor_id, item.detail, answer.case)])],
    write=Upsert("case_id"),
)

#: `pull_cases(ctx)` fetches and upserts the details of every open (or never fetched) case of the active clients.
pull_cases = partial(pull, CASES)
