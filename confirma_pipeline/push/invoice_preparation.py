"""Preparing invoices: read the due ones in chunks, validate, map, and register them before sending.

Why separate: everything here happens before a request is made and decides WHAT may be sent; a mistake
here sends nothing twice, it only holds an invoice back. Bad rows become rejected rows with every reason;
the good ones are registered `pending` in the submission ledger with the exact body that will be sent.
Chunk k+1 is read, validated and mapped on a helper thread (its own connection) while chunk k is being
sent, so the API is not left idle between chunks. A dry run stops here and counts what would be sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from confirma_pipeline.push.invoice_sending import Send
from confirma_pipeline.push.preview import mask_personal
from confirma_pipeline.push.report import PushReport
from confirma_pipeline.push.validation_steps import prepare_invoices, refuse_reused_numbers
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.warehouse import submission_ledger
from confirma_pipeline.warehouse.rejections import record_rejections, resolve_rejections
from confirma_pipeline.warehouse.source import iter_invoices


@dataclass
class InvoicePreparation:
    """Reads and prepares the invoices of a batch of clients (`chunks`), registers each chunk (`register`)."""

    ctx: RunContext
    report: PushReport
    dry_run: bool
    show: int = 0  # dry run: how many masked sample bodies to keep
    screen: Callable | None = None  # optional last say before registering (the backfill's historical policy)
    # dry run: what each creditor's valid invoices would become (see push_invoices)
    preview_state: dict[str, str] = field(default_factory=dict)

    def chunks(self, conn, creditor_ids, creditors_df, date_from, date_to, exclude) -> Iterator[tuple]:
        """(prepared, held) per chunk, in chunk order; the next chunk is prepared while the caller sends
        this one. `held`: what the screen kept back. Close the generator when done (contextlib.closing):
        it owns a connection and a thread."""
        with (
            self.ctx.connect(autocommit=True) as read_conn,
            ThreadPoolExecutor(1, "confirma-prepare") as helper,
        ):
            chunks = iter_invoices(
                read_conn,
                relation=self.ctx.relations.invoices,
                rows_relation=self.ctx.relations.invoice_rows,
                creditor_ids=creditor_ids,
                exclude_invoice_ids_sql=exclude,
                chunk_size=self.ctx.settings.chunk_size,
                date_from=date_from,
                date_to=date_to,
            )

            def prepare_next():
                pair = next(chunks, None)
                if pair is None:
                    return None
                return prepare_invoices(read_conn, pair[0], pair[1], creditors_df, self.ctx.relations)

            upcoming = helper.submit(prepare_next)
            while (prepared := upcoming.result()) is not None:
                upcoming = helper.submit(prepare_next)
                prepared = refuse_reused_numbers(conn, prepared)
                held: list = []
                if self.screen is not None:
                    prepared, held = self.screen(prepared)
                yield prepared, held

    def register(self, conn, prepared, first_pass: bool, held=()) -> list[Send]:
        """Record the chunk's rejections and register its good invoices `pending`; returns what to send
        (nothing in a dry run, which counts instead).

        `held`: (ledger entry, rejection) pairs the screen kept back: recorded as rejected rows and
        registered `rejected` in the ledger, so no later run sends them unless their content changes."""
        if first_pass:
            self.report.add_rejections([r for _, r in held])
            for _, r in held:
                self.report.count(r.creditor_id or "?", "held_back")
            self.report.rejected_validation += len(prepared.rejections)
            self.report.add_rejections(prepared.rejections)
            for r in prepared.rejections:
                self.report.count(r.creditor_id or "?", "rejected_validation")
        if self.dry_run:
            self._preview(prepared)
            return []
        with conn.transaction():
            record_rejections(conn, prepared.rejections + [r for _, r in held], self.ctx.run_id)
            refused_before = submission_ledger.still_refused(conn, prepared.entries)
            resolve_rejections(
                conn,
                "invoice",
                [e.invoice_id for e in prepared.entries if e.invoice_id not in refused_before],
            )
            submission_ledger.register_held(conn, held, self.ctx.run_id)
        submission_ledger.ensure_pending(conn, prepared.entries, self.ctx.run_id)
        return [
            Send(e.invoice_id, e.creditor_id, e.invoice_number, body)
            for e, body in zip(prepared.entries, prepared.bodies, strict=True)
        ]

    def _preview(self, prepared) -> None:
        """Dry run: count each valid invoice by what would become of it, keep `show` masked bodies."""
        for entry, body in zip(prepared.entries, prepared.bodies, strict=True):
            state = self.preview_state.get(entry.creditor_id, "would_send")
            self.report.count(entry.creditor_id, state)
            if state == "would_send":
                self.report.would_send += 1
            elif state == "would_send_after_onboarding":
                self.report.would_send_after_onboarding += 1
            else:
                self.report.waiting_for_client += 1
            if len(self.report.body_samples) < self.show:
                self.report.body_samples.append(mask_personal(json.loads(body)))
