"""Pull case details: `GET /invoice/case?caseId=` for every submitted invoice whose case is still open, or whose
details were never fetched (case ids come from the distribution records, via `invoice_ledger.case_id`).
A closed case is final and not asked for again. Upserted by case id.

A 404 (a case id the API does not know for this client) is counted and skipped, not a failure: the next
distribution pull may correct the id.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

import pandas as pd

from confirma_pipeline.api.concurrency import run_bounded
from confirma_pipeline.api.errors import RejectedError, UnauthorizedError
from confirma_pipeline.mapping.responses import FetchedCase, cases_frame
from confirma_pipeline.pull.common import (
    active_clients,
    log,
    pull_sql,
    record_client_error,
    validate_frame,
)
from confirma_pipeline.pull.report import PullReport
from confirma_pipeline.validation.writeback import CaseModel
from confirma_pipeline.vault import load_tokens
from confirma_pipeline.warehouse.bulk import upsert_frame
from confirma_pipeline.warehouse.connection import connect

TABLE = "confirma.cases"
_SKIPPED = object()


def pull_cases(
    dsn: str | None,
    client,
    vault,
    creditor_ids: Sequence[str] | None = None,
    logger: logging.Logger | None = None,
    *,
    concurrency: int = 8,
) -> PullReport:
    """Fetch and upsert the details of every open (or never fetched) case of the active clients."""
    logger = logger or log
    report = PullReport("cases")
    report.start_calls(client)
    with connect(dsn, autocommit=True) as conn:
        clients = active_clients(conn, creditor_ids)
        tokens = load_tokens(conn, vault, clients)
        report.clients = len(clients)
        wanted = conn.execute(pull_sql("cases_to_fetch"), {"ids": list(tokens)}).fetchall()
        seen: set[int] = set()
        todo = [
            (cid, case_id, number)
            for cid, case_id, number in wanted
            if not (case_id in seen or seen.add(case_id))
        ]
        refused: set[str] = set()

        def fetch(item):
            creditor_id, case_id, _ = item
            if creditor_id in refused:
                return _SKIPPED
            try:
                return client.get_case(tokens[creditor_id], case_id)
            except UnauthorizedError:
                refused.add(creditor_id)
                raise

        fetched: dict[str, list[FetchedCase]] = defaultdict(list)
        for (creditor_id, case_id, number), outcome in run_bounded(fetch, todo, concurrency):
            if outcome is _SKIPPED or creditor_id in report.invalid or creditor_id in report.failed:
                continue
            if isinstance(outcome, RejectedError) and outcome.status == 404:
                report.extra["cases_not_found"] += 1
                logger.warning(f"cases: case {case_id} of client {creditor_id} not found (404); skipped")
                continue
            if isinstance(outcome, BaseException):
                if not (isinstance(outcome, UnauthorizedError) and creditor_id in report.unauthorized):
                    record_client_error(conn, report, creditor_id, outcome, logger)
                continue
            report.records += 1
            fetched[creditor_id].append(FetchedCase(creditor_id, number, outcome.case))

        frames = []
        for creditor_id in sorted(fetched):
            if creditor_id in report.invalid or creditor_id in report.unauthorized:
                continue
            try:
                frames.append(
                    validate_frame(CaseModel, cases_frame(fetched[creditor_id]), "cases", creditor_id)
                )
                report.count(creditor_id, "cases", len(fetched[creditor_id]))
            except Exception as exc:
                record_client_error(conn, report, creditor_id, exc, logger)
        if frames:
            batch = sorted({cid for f in frames for cid in f["creditor_id"].unique()})
            try:
                report.wrote(
                    TABLE, upsert_frame(conn, pd.concat(frames, ignore_index=True), TABLE, ["case_id"])
                )
            except Exception as exc:
                for creditor_id in batch:
                    record_client_error(conn, report, creditor_id, exc, logger)
        report.clients_pulled = len(
            [
                c
                for c in tokens
                if c not in report.unauthorized and c not in report.invalid and c not in report.failed
            ]
        )
    report.finish(client)
    logger.info(report.summary_line())
    report.raise_for_failures()
    return report
