"""Pull the Finvoice (e-invoice) addresses of the clients' buyers, by business id (Y-tunnus).

The business ids are the distinct `buyer_business_id`s of submitted invoices. The look-up is per company, not
per client, so each business id is asked once, with the token of one client that invoiced it. The answer is
always an array (possibly empty). Each business id's addresses are replaced as a set (`bulk.replace_window`
scoped by business id: new ones inserted, changed ones updated, vanished ones deleted, others untouched).

A business id the API refuses as malformed (400) is counted and skipped: it is bad source data, reported by
the invoice validation, not a reason to fail every other look-up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd
from psycopg import sql

from confirma_pipeline.api.concurrency import run_bounded
from confirma_pipeline.api.errors import RejectedError, UnauthorizedError
from confirma_pipeline.mapping.responses import finvoice_frame
from confirma_pipeline.pull.common import (
    active_clients,
    log,
    pull_sql,
    record_client_error,
    validate_frame,
)
from confirma_pipeline.pull.report import PullReport
from confirma_pipeline.validation.writeback import FinvoiceCredentialModel
from confirma_pipeline.vault import load_tokens
from confirma_pipeline.warehouse.bulk import replace_window, table_identifier
from confirma_pipeline.warehouse.connection import connect

TABLE = "confirma.finvoice_credentials"
_SKIPPED = object()


def pull_finvoice_credentials(
    dsn: str | None,
    client,
    vault,
    creditor_ids: Sequence[str] | None = None,
    logger: logging.Logger | None = None,
    *,
    invoices_relation: str = "confirma_source.invoices",
    concurrency: int = 8,
) -> PullReport:
    """Replace the e-invoice addresses of every buyer business id of the active clients' submitted invoices."""
    logger = logger or log
    report = PullReport("finvoice_credentials")
    report.start_calls(client)
    with connect(dsn, autocommit=True) as conn:
        clients = active_clients(conn, creditor_ids)
        tokens = load_tokens(conn, vault, clients)
        report.clients = len(clients)
        query = sql.SQL(pull_sql("finvoice_business_ids")).format(
            invoices=table_identifier(invoices_relation)
        )
        asked_by: dict[str, str] = {}
        for creditor_id, business_id in conn.execute(query, {"ids": list(tokens)}).fetchall():
            asked_by.setdefault(business_id, creditor_id)
        refused: set[str] = set()

        def fetch(business_id: str):
            creditor_id = asked_by[business_id]
            if creditor_id in refused:
                return _SKIPPED
            try:
                return client.get_finvoice_credentials(tokens[creditor_id], business_id)
            except UnauthorizedError:
                refused.add(creditor_id)
                raise

        frames: list[pd.DataFrame] = []
        done: list[str] = []
        for business_id, outcome in run_bounded(fetch, sorted(asked_by), concurrency):
            creditor_id = asked_by[business_id]
            if outcome is _SKIPPED:
                continue
            if isinstance(outcome, RejectedError) and outcome.status == 400:
                report.extra["business_ids_refused"] += 1
                logger.warning(
                    f"finvoice_credentials: the API refused business id {business_id} (400); skipped"
                )
                continue
            try:
                if isinstance(outcome, BaseException):
                    raise outcome
                report.records += len(outcome)
                frame = finvoice_frame(business_id, outcome)
                frames.append(
                    validate_frame(FinvoiceCredentialModel, frame, "finvoice_credentials", creditor_id)
                )
                done.append(business_id)
                report.count(creditor_id, "business_ids")
            except Exception as exc:
                if not (isinstance(exc, UnauthorizedError) and creditor_id in report.unauthorized):
                    record_client_error(conn, report, creditor_id, exc, logger)

        if done:
            try:
                result = replace_window(
                    conn, pd.concat(frames, ignore_index=True), TABLE, scope_column="business_id", scopes=done
                )
                report.wrote(TABLE, result)
            except Exception as exc:
                for creditor_id in sorted({asked_by[b] for b in done}):
                    record_client_error(conn, report, creditor_id, exc, logger)
        report.extra["business_ids"] = len(asked_by)
        report.clients_pulled = len({asked_by[b] for b in done})
    report.finish(client)
    logger.info(report.summary_line())
    report.raise_for_failures()
    return report
