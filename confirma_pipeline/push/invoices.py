"""Submit invoices of onboarded clients exactly once.

Per batch of clients (each held with an advisory lock, so a concurrent run skips them):
1. recover: rows left `in_flight` by an interrupted run are looked up in the client's
   distribution records for a window around the invoice's date. Found -> submitted (not resent);
   "absent" -> pending (resent) ONLY when the answer is positively understood (records under the
   CHOSEN key, totalCount agrees, every record has its invoiceNumber, the applied date range covers
   the invoice, invoices known accepted in the window are listed: push/recovery.py). Anything else,
   an error included, leaves the row in_flight, counted unknown, failing `invoices_stuck` with the
   reason. Each answer's outcomes are committed as it arrives (a killed recovery keeps them);
2. read the invoices not yet done (chunked), validate them (bad rows -> rejected rows, with
   every reason), map the good ones to SalesInvoiceRequest bodies;
3. register them `pending`, claim a batch `in_flight` (committed), send with bounded
   concurrency, commit the answers in batches: submitted | rejected (4xx, with the server's
   reason) | failed (transient, retried next run) | in_flight (outcome unknown: looked up in a
   recovery round of this run, or the next run).
An invoice whose source changed after it was submitted is never resent; it is flagged.

Step 1 is push/invoice_recovery.py, step 2 push/invoice_preparation.py, step 3's claim -> POST -> outcome
push/invoice_sending.py; this module runs them per batch of locked clients and reports the run.
"""

from __future__ import annotations

import time
from contextlib import closing

from confirma_pipeline.push.invoice_preparation import InvoicePreparation
from confirma_pipeline.push.invoice_recovery import InvoiceRecovery
from confirma_pipeline.push.invoice_sending import InvoiceSender, RunTokens, chunks
from confirma_pipeline.push.report import PushReport
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.warehouse import locks, registry, submission_ledger
from confirma_pipeline.warehouse.rejections import explain_unsent
from confirma_pipeline.warehouse.source import read_creditors


class InvoicePusher:
    """One push run. Use `push_invoices(...)`; the class runs the three parts in order for each batch of
    clients: recovery (push/invoice_recovery.py), preparation (push/invoice_preparation.py) and sending
    (push/invoice_sending.py), which share the run's report and client tokens."""

    def __init__(self, ctx: RunContext, *, dry_run: bool, show: int = 0, screen=None) -> None:
        self.ctx = ctx
        self.relations = ctx.relations
        self.settings = ctx.settings
        self.dry_run = dry_run
        self.log = ctx.logger
        self.report = PushReport(entity="invoice", dry_run=dry_run)
        self.tokens = RunTokens(ctx)
        self.recovery = InvoiceRecovery(ctx, self.tokens, self.report, dry_run=dry_run)
        self.preparation = InvoicePreparation(ctx, self.report, dry_run=dry_run, show=show, screen=screen)
        self.sender = InvoiceSender(ctx, self.tokens, self.report)

    # -- one batch of clients ------------------------------------------------------------------------
    def process_clients(self, conn, creditor_ids: list[str], creditors_df, date_from, date_to) -> None:
        self.tokens.load(conn, creditor_ids)
        self.recovery.recover(conn, creditor_ids)
        unknown = self._push_chunks(
            conn,
            creditor_ids,
            creditors_df,
            date_from,
            date_to,
            submission_ledger.done_invoice_ids_sql(self.settings.max_attempts),
        )
        # Outcomes unknown in this run: look them up now, resend only what Confirma lacks.
        for _ in range(self.settings.recovery_rounds):
            if self.dry_run or not unknown:
                break
            retry_ids = self.recovery.recover(conn, creditor_ids)
            if not retry_ids:
                break
            unknown = self._push_chunks(
                conn,
                creditor_ids,
                creditors_df,
                date_from,
                date_to,
                submission_ledger.all_but_sql(self.relations.invoices, retry_ids),
                first_pass=False,
            )

    def _push_chunks(self, conn, creditor_ids, creditors_df, date_from, date_to, exclude, first_pass=True):
        """Prepare chunk k+1 (on the preparation's helper thread) while chunk k is being sent. Registering
        and sending stay on this thread, in chunk order. Returns the ids whose outcome is unknown."""
        unknown: list[str] = []
        prepared_chunks = self.preparation.chunks(
            conn, creditor_ids, creditors_df, date_from, date_to, exclude
        )
        with closing(prepared_chunks):
            for prepared, held in prepared_chunks:
                sends = self.preparation.register(conn, prepared, first_pass, held)
                if not self.dry_run:
                    unknown += self.sender.send(conn, sends)
        return unknown


def push_invoices(
    ctx: RunContext,
    *,
    dry_run: bool = False,
    date_from=None,
    date_to=None,
    partner_code: str | None = None,
    show: int = 0,
    screen=None,
    shard=None,
) -> PushReport:
    """Submit every invoice that is due (see module docstring); returns the run's report.
    `shard` (run/shard.py): only the onboarded clients of that shard (K processes split a large night).

    A dry run tells the truth on the first night: it validates and maps the invoices of EVERY
    creditor, counting each valid one as `would_send` (its client exists), `would_send_after_onboarding`
    (the same run would create its client; `partner_code` as in onboarding) or `waiting_for_client`
    (it would not), and keeps `show` sample bodies with personal fields masked."""
    started = time.monotonic()
    client, relations, creditor_ids = ctx.client, ctx.relations, ctx.client_ids
    requests_before = getattr(client, "calls_made", 0) if client is not None else 0
    pusher = InvoicePusher(ctx, dry_run=dry_run, show=show, screen=screen)
    held_all: list[str] = []  # clients this run locked: only their in_flight rows are this run's unknowns
    with (
        ctx.connect(autocommit=True) as conn,
        ctx.connect(autocommit=True, application_name=locks.application_name(ctx.run_id)) as lock_conn,
    ):
        if not dry_run:
            changed = submission_ledger.flag_changed_after_submission(
                conn, relations.invoices, relations.invoice_rows
            )
            if changed:
                pusher.log.warning(
                    f"{changed} submitted invoice(s) changed their 'changed after submission' flag"
                )
        clients = registry.onboarded_with_tokens(conn, creditor_ids)
        if shard is not None:
            clients = shard.pick(clients)
        if dry_run:
            clients, creditors_df = _preview_clients(pusher, conn, clients, creditor_ids, partner_code)
        else:
            creditors_df = read_creditors(conn, relations.creditors, creditor_ids=clients)
        for batch in chunks(clients, ctx.settings.lock_batch):
            held = list(batch) if dry_run else locks.try_lock_clients(lock_conn, batch)
            held_all.extend(held)
            if len(held) < len(batch):
                pusher.report.held_by.update(locks.holders(conn, sorted(set(batch) - set(held))))
            pusher.report.clients_locked_elsewhere += len(batch) - len(held)
            try:
                if held:
                    pusher.process_clients(conn, held, creditors_df, date_from, date_to)
            finally:
                if not dry_run:
                    locks.unlock_clients(lock_conn, held)
            r = pusher.report
            pusher.log.info(
                f"invoices: {len(held)} client(s) done in this batch; so far pushed {r.pushed}, "
                f"recovered {r.recovered}, rejected {r.rejected_validation + r.rejected_api}, failed {r.failed}"
            )
        counts = submission_ledger.state_counts(
            conn, held_all
        )  # rows another run is sending are not unknown here
        pusher.report.unknown = counts.get("in_flight", 0)
        # sent in earlier runs (not read again, so not counted while processing)
        pusher.report.skipped_done += max(
            0, counts.get("submitted", 0) - pusher.report.pushed - pusher.report.recovered
        )
        if not dry_run:  # a dry run counted them itself (valid ones only)
            unsent = explain_unsent(
                conn,
                invoices=relations.invoices,
                invoice_rows=relations.invoice_rows,
                creditors=relations.creditors,
                creditor_ids=creditor_ids,
                run_id=ctx.run_id,
            )
            if unsent.creditor_missing or unsent.orphan_rows:
                pusher.log.warning(
                    f"{unsent.creditor_missing} invoice(s) name a creditor that does not exist and "
                    f"{unsent.orphan_rows} invoice row(s) have no invoice: reasons in confirma.row_status"
                )
            pusher.report.waiting_for_client = submission_ledger.waiting_for_client(
                conn, relations.invoices, creditor_ids, holds=shard.holds if shard is not None else None
            )
    pusher.report.duration_s = time.monotonic() - started
    pusher.report.requests = (getattr(client, "calls_made", 0) - requests_before) if client is not None else 0
    return pusher.report


def _preview_clients(pusher: InvoicePusher, conn, ready: list[str], creditor_ids, partner_code):
    """Dry run: every creditor of the source (or those asked for), each with what its valid invoices
    would become."""
    from confirma_pipeline.push.onboarding import creditors_to_onboard

    creditors_df = read_creditors(conn, pusher.relations.creditors, creditor_ids=creditor_ids)
    new = creditors_to_onboard(
        conn, creditors_df[~creditors_df["creditor_id"].isin(ready)], partner_code, pusher.settings
    )
    for creditor_id in creditors_df["creditor_id"].tolist():
        pusher.preparation.preview_state[creditor_id] = (
            "would_send"
            if creditor_id in ready
            else "would_send_after_onboarding"
            if creditor_id in new
            else "waiting_for_client"
        )
    return sorted(pusher.preparation.preview_state), creditors_df
