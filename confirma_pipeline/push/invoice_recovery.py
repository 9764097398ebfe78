"""Recovering invoices left `in_flight`: look them up at Confirma before anything is resent.

Why separate: recovery decides whether an invoice whose answer was lost may be sent again, which is the
other half of exactly once. It only asks and records; the rule for reading a look-up's answer is
push/recovery.py's (pure functions). Rows are looked at only for clients this run holds locks on, so an
`in_flight` row here was interrupted, not being sent by a concurrent run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from confirma_pipeline.api.errors import ConfirmaApiError, UnauthorizedError
from confirma_pipeline.push import recovery
from confirma_pipeline.push.invoice_sending import RunTokens, api_error_text
from confirma_pipeline.push.report import PushReport
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.warehouse import submission_ledger


def _unknown(row, reason: str) -> submission_ledger.Outcome:
    """Keep the row in flight (not resent) with the reason the invoices_stuck check shows."""
    return submission_ledger.Outcome(row.invoice_id, "in_flight", f"outcome unknown after look-up: {reason}")


@dataclass
class InvoiceRecovery:
    """Settles a batch of clients' `in_flight` rows (`recover`); counts into the run's report."""

    ctx: RunContext
    tokens: RunTokens
    report: PushReport
    dry_run: bool

    def recover(self, conn, creditor_ids: Sequence[str]) -> list[str]:
        """Settle rows left `in_flight` by looking them up (rule: push/recovery.py). Returns ids set
        back to pending.

        Only rows of clients this run holds locks on are looked at, so an `in_flight` row here was
        interrupted, not being sent by a concurrent run. One look-up per client and invoice date; each
        answer's outcomes are committed as it arrives, so a killed recovery keeps what it learned."""
        from confirma_pipeline.api.concurrency import run_bounded

        rows = submission_ledger.in_flight_for_recovery(conn, self.ctx.relations.invoices, creditor_ids)
        if not rows or self.dry_run:
            return []
        self.ctx.logger.info(f"looking up {len(rows)} invoice(s) left in flight before deciding to resend")
        current = submission_ledger.source_hashes(
            conn, self.ctx.relations.invoices, self.ctx.relations.invoice_rows, [r.invoice_id for r in rows]
        )
        groups: dict[tuple, list[submission_ledger.InFlightRow]] = {}
        early: list[submission_ledger.Outcome] = []
        for row in rows:
            if row.invoice_date is None:
                early.append(_unknown(row, "its source row is gone, so its date is unknown"))
            elif row.source_hash is not None and current.get(row.invoice_id) != row.source_hash:
                early.append(_unknown(row, "its source changed since it was sent; decide by hand"))
            else:
                groups.setdefault((row.creditor_id, row.invoice_date), []).append(row)
        self._record(conn, early)
        known = {
            key: submission_ledger.submitted_numbers_between(
                conn, self.ctx.relations.invoices, key[0], *recovery.window(key[1])
            )
            for key in groups
        }

        def look_up(key):
            creditor_id, invoice_date = key
            token = self.tokens.usable(creditor_id)
            if token is None:
                return recovery.NotUnderstood("no valid client token to look it up with")
            raw = self.ctx.client.get_distribution_raw(token, *recovery.window(invoice_date))
            return recovery.interpret_listing(raw, invoice_date, known[key])

        back_to_pending: list[str] = []
        for key, answer in run_bounded(look_up, list(groups), self.ctx.settings.concurrency):
            if isinstance(answer, UnauthorizedError):
                self.tokens.rejected(conn, key[0])
            if isinstance(answer, BaseException):
                answer = recovery.NotUnderstood(
                    f"look-up failed: {api_error_text(answer)}"
                    if isinstance(answer, ConfirmaApiError)
                    else f"look-up failed: {type(answer).__name__}"
                )
            outcomes = []
            for row in groups[key]:
                if isinstance(answer, recovery.NotUnderstood):
                    outcomes.append(_unknown(row, answer.reason))
                elif row.invoice_number in answer.numbers:
                    outcomes.append(
                        submission_ledger.Outcome(
                            row.invoice_id, "submitted", None, None, answer.numbers[row.invoice_number]
                        )
                    )
                    self.report.recovered += 1
                    self.report.count(row.creditor_id, "recovered")
                else:
                    outcomes.append(
                        submission_ledger.Outcome(
                            row.invoice_id, "pending", "not found at Confirma after interruption"
                        )
                    )
                    back_to_pending.append(row.invoice_id)
            self._record(conn, outcomes)
        return back_to_pending

    def _record(self, conn, outcomes: list[submission_ledger.Outcome]) -> None:
        submission_ledger.record_outcomes(conn, outcomes)
        for o in outcomes:
            if o.state == "in_flight":
                self.report.unknown_reasons[o.error or "?"] += 1
