"""Sending invoices: claim -> POST -> outcome, the one place an invoice leaves for Confirma.

Why separate: this is the exactly-once core of the invoice push, and it reads best alone. Each row is
committed `in_flight` (claimed, a batch at a time) before its POST; each answer becomes one outcome
(submitted | rejected | failed | pending | in_flight), committed in batches; an answer that cannot be
understood leaves the row `in_flight`, looked up later (push/invoice_recovery.py), never resent on a guess.
The run's client tokens (`RunTokens`) live here too: sending and recovery share them, and a 401 marks
invalid only the token this run used.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from confirma_pipeline.api.errors import (
    AmbiguousOutcomeError,
    ConfirmaApiError,
    DuplicateError,
    RejectedError,
    RetryableError,
    UnauthorizedError,
)
from confirma_pipeline.push.report import PushReport
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.vault import fingerprint
from confirma_pipeline.warehouse import submission_ledger
from confirma_pipeline.warehouse.client_tokens import load_tokens
from confirma_pipeline.warehouse.registry import set_token_status
from confirma_pipeline.warehouse.rejections import Rejection, record_rejections


@dataclass
class Send:
    invoice_id: str
    creditor_id: str
    invoice_number: int
    body: bytes  # the encoded JSON body, exactly as hashed into the ledger


def api_error_text(exc: ConfirmaApiError) -> str:
    """A sanitized one-liner for the ledger: status and the server's reason, never the payload."""
    if isinstance(exc, RejectedError):
        fields = "; ".join(f"{f.field}: {f.message}" for f in exc.field_errors[:10])
        return f"HTTP {exc.status}: {exc.reason or 'rejected'}" + (f" ({fields})" if fields else "")
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def _api_rejection(item: Send, outcome: submission_ledger.Outcome) -> Rejection:
    """The server's refusal of one invoice as a rejected row: status and field messages (never the body)."""
    from confirma_pipeline.mapping.hashing import payload_hash

    status = outcome.http_status or 400
    return Rejection(
        "invoice", item.invoice_id, payload_hash(item.body), item.creditor_id, [f"api_{status}"],
        outcome.error or f"HTTP {status}", "api",
    )  # fmt: skip


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RunTokens:
    """The client tokens of one run: decrypted once per batch, before any thread needs them; a token
    refused (401) is marked invalid once, by its fingerprint, and not used again in this run."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self._tokens: dict[str, str] = {}  # clients without a stored token are absent
        self._invalid: set[str] = set()

    def load(self, conn, creditor_ids: Sequence[str]) -> None:
        """Decrypt the batch's tokens once, before any thread needs them."""
        self._tokens.update(
            load_tokens(conn, self.ctx.vault, [c for c in creditor_ids if c not in self._tokens])
        )

    def usable(self, creditor_id: str) -> str | None:
        """The client's token, or None when it has none or it was refused in this run."""
        token = self._tokens.get(creditor_id)
        return None if token is None or creditor_id in self._invalid else token

    def rejected(self, conn, creditor_id: str) -> None:
        """Mark the token this run used invalid: only that one (by fingerprint), never a token another
        step renewed meanwhile."""
        if creditor_id not in self._invalid:
            self._invalid.add(creditor_id)
            set_token_status(
                conn,
                creditor_id,
                "invalid",
                "401 from the API while submitting invoices",
                fingerprint(self._tokens[creditor_id]) if creditor_id in self._tokens else None,
            )
            self.ctx.logger.warning(
                f"client {creditor_id}: token refused (401); its invoices wait for a valid token"
            )


@dataclass
class InvoiceSender:
    """Claims, sends and records one list of invoices (`send`); counts into the run's report."""

    ctx: RunContext
    tokens: RunTokens
    report: PushReport

    def _send_one(self, item: Send) -> submission_ledger.Outcome:
        token = self.tokens.usable(item.creditor_id)
        if token is None:
            return submission_ledger.Outcome(item.invoice_id, "pending", "not sent: no valid client token")
        try:
            answer = self.ctx.client.create_invoice(token, item.body)
        except DuplicateError:
            # The number is already at Confirma for this client: an earlier send of this invoice
            # landed (the ledger's (creditor, number) is unique, so it cannot be another one).
            return submission_ledger.Outcome(
                item.invoice_id, "submitted", "already present at Confirma (409)", 409
            )
        except RejectedError as exc:
            return submission_ledger.Outcome(item.invoice_id, "rejected", api_error_text(exc), exc.status)
        except UnauthorizedError as exc:
            return submission_ledger.Outcome(
                item.invoice_id, "pending", api_error_text(exc), exc.status or 401
            )
        except AmbiguousOutcomeError as exc:
            return submission_ledger.Outcome(
                item.invoice_id, "in_flight", "outcome unknown: " + api_error_text(exc)
            )
        except RetryableError as exc:
            return submission_ledger.Outcome(item.invoice_id, "failed", api_error_text(exc), exc.status)
        case_id = getattr(answer, "case_id", None)
        return submission_ledger.Outcome(item.invoice_id, "submitted", None, 200, case_id)

    def _claimed(self, conn, sends: list[Send]) -> Iterator[Send]:
        """Yield sends only after their rows are committed `in_flight`, a batch at a time.

        The worker threads pull from this generator (one at a time), so it gets a connection of
        its own: the caller's thread commits answers on the other one meanwhile."""
        by_id = {s.invoice_id: s for s in sends}
        for batch in chunks(list(by_id), self.ctx.settings.claim_batch):
            claimed = submission_ledger.claim(conn, batch, self.ctx.run_id, self.ctx.settings.max_attempts)
            self.report.skipped_done += len(batch) - len(claimed)
            for invoice_id in claimed:
                yield by_id[invoice_id]

    def send(self, conn, sends: list[Send]) -> list[str]:
        """Send, committing answers in batches on `conn`. Returns ids whose outcome is unknown."""
        from confirma_pipeline.api.concurrency import run_bounded

        pending: list[submission_ledger.Outcome] = []
        refused: list[Rejection] = []
        unknown: list[str] = []
        last_flush = time.monotonic()
        with self.ctx.connect(autocommit=True) as claim_conn:
            answers = run_bounded(
                self._send_one, self._claimed(claim_conn, sends), self.ctx.settings.concurrency
            )
            for item, outcome in answers:
                if isinstance(outcome, BaseException):  # a bug, not an API answer: keep it in flight
                    outcome = submission_ledger.Outcome(
                        item.invoice_id, "in_flight", f"client error: {type(outcome).__name__}"
                    )
                if outcome.http_status == 401 and outcome.state == "pending":
                    self.tokens.rejected(conn, item.creditor_id)
                pending.append(outcome)
                if outcome.state == "rejected":
                    refused.append(_api_rejection(item, outcome))
                self._tally(item.creditor_id, outcome, unknown)
                if (
                    len(pending) >= self.ctx.settings.outcome_batch
                    or time.monotonic() - last_flush > self.ctx.settings.flush_seconds
                ):
                    self._flush(conn, pending, refused)
                    last_flush = time.monotonic()
        self._flush(conn, pending, refused)
        return unknown

    def _flush(self, conn, outcomes: list[submission_ledger.Outcome], refused: list[Rejection]) -> None:
        """Commit a batch of answers; API refusals also go to confirma.rejected_rows (source 'api')."""
        with conn.transaction():
            submission_ledger.record_outcomes(conn, outcomes)
            record_rejections(conn, refused, self.ctx.run_id)
        outcomes.clear()
        refused.clear()

    def _tally(self, creditor_id: str, outcome: submission_ledger.Outcome, unknown: list[str]) -> None:
        self.report.count(creditor_id, outcome.state)
        if outcome.state == "submitted":
            self.report.pushed += 1
        elif outcome.state == "rejected":
            self.report.rejected_api += 1
        elif outcome.state == "failed":
            self.report.failed += 1
        elif outcome.state == "in_flight":
            unknown.append(outcome.invoice_id)
