"""Pull the accounting sync status (GET accounting/ledger and accounting/payment) into `confirma.accounting_sync`.

Per client and kind, one call covers the dates of the items we submitted whose sync is not final yet
(not listed, or pending): a night's cost follows what is still waiting, not history. Items already
synced or failed are not asked again. Status codes are stored as Confirma sends them (0 pending and
1 synced SEEN, 2 failed INFERRED in `api/contract.py`); a code outside those is kept and shown as unknown
by the checks, never read as success.
"""

from __future__ import annotations

from collections.abc import Sequence

from confirma_pipeline.mapping.accounting import sync_rows
from confirma_pipeline.pull.common import active_clients, record_client_error
from confirma_pipeline.pull.report import PullReport
from confirma_pipeline.warehouse import accounting_submissions as subs
from confirma_pipeline.warehouse.client_tokens import load_tokens
from confirma_pipeline.warehouse.connection import connect

TABLE = "confirma.accounting_sync"
# Days after submission an item may stay unsynced before the ERROR check (and `accounting status`) fails:
# the add-on syncs queued items in the background; days without a result mean someone must look.
PENDING_ERROR_AFTER_DAYS = 3


def _statuses(client, token: str, kind: str, start, end) -> list:
    if kind == "ledger":
        return client.get_ledger_status(token, start, end).ledgers
    return client.get_accounting_payment_status(token, start, end).payments


def pull_accounting_sync(
    *, dsn: str | None, client, vault, creditor_ids: Sequence[str] | None = None, logger=None
) -> PullReport:
    """Refresh the sync status of every submitted voucher and payment still waiting; returns the report."""
    report = PullReport(entity="accounting_sync")
    report.start_calls(client)
    with connect(dsn, autocommit=True) as conn:
        clients = active_clients(conn, creditor_ids)
        report.clients = len(clients)
        tokens = load_tokens(conn, vault, clients)
        for creditor_id in clients:
            token = tokens.get(creditor_id)
            if token is None:
                continue
            try:
                for kind in subs.KINDS:
                    window = subs.status_window(conn, kind, creditor_id)
                    if window is None:
                        continue
                    statuses = _statuses(client, token, kind, *window)
                    report.records += len(statuses)
                    inserted, updated = subs.upsert_sync(conn, sync_rows(creditor_id, kind, statuses))
                    report.written[TABLE]["inserted"] += inserted
                    report.written[TABLE]["updated"] += updated
                    report.written[TABLE]["unchanged"] += len(statuses) - inserted - updated
                    report.count(creditor_id, f"{kind}_statuses", len(statuses))
                report.clients_pulled += 1
            except Exception as exc:  # noqa: BLE001 - classified (and re-raised if a bug) below
                record_client_error(conn, report, creditor_id, exc, logger)
    return report.finish(client)
