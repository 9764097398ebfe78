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
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from confirma_pipeline.api.errors import (
    AmbiguousOutcomeError,
    ConfirmaApiError,
    DuplicateError,
    RejectedError,
    RetryableError,
    UnauthorizedError,
)
from confirma_pipeline.push import recovery
from confirma_pipeline.push.preview import mask_personal
from confirma_pipeline.push.report import PushReport
from confirma_pipeline.push.validation_steps import prepare_invoices, refuse_reused_numbers
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.vault import fingerprint, load_tokens
from confirma_pipeline.warehouse import ledger, locks, registry
from confirma_pipeline.warehouse.registry import set_token_status
from confirma_pipeline.warehouse.rejections import (
    Rejection,
    explain_unsent,
    record_rejections,
    resolve_rejections,
)
from confirma_pipeline.warehouse.source import iter_invoices, read_creditors


@dataclass
class _Send:
    invoice_id: str
    creditor_id: str
    invoice_number: int
    body: bytes  # the encoded JSON body, exactly as hashed into the ledger


def _api_error_text(exc: ConfirmaApiError) -> str:
    """A sanitized one-liner for the ledger: status and the server's reason, never the payload."""
    if isinstance(exc, RejectedError):
        fields = "; ".join(f"{f.field}: {f.message}" for f in exc.field_errors[:10])
        return f"HTTP {exc.status}: {exc.reason or 'rejected'}" + (f" ({fields})" if fields else "")
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def _unknown(row, reason: str) -> ledger.Outcome:
    """Keep the row in flight (not resent) with the reason the invoices_stuck check shows."""
    return ledger.Outcome(row.invoice_id, "in_flight", f"outcome unknown after look-up: {reason}")


def _api_rejection(item: _Send, outcome: ledger.Outcome) -> Rejection:
    """The server's refusal of one invoice as a rejected row: status and field messages (never the body)."""
    from confirma_pipeline.mapping.hashing import payload_hash

    status = outcome.http_status or 400
    return Rejection(
        "invoice", item.invoice_id, payload_hash(item.body), item.creditor_id, [f"api_{status}"],
        outcome.error or f"HTTP {status}", "api",
    )  # fmt: skip


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class InvoicePusher:
    """One push run. Use `push_invoices(...)`; the class only keeps the run's collaborators."""

    def __init__(self, ctx: RunContext, *, dry_run: bool, show: int = 0, screen=None) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.relations = ctx.relations
        self.settings = ctx.settings
        self.run_id = ctx.run_id
        self.dry_run = dry_run
        self.screen = screen  # optional last say before registering (the backfill's historical policy)
        self.log = ctx.logger
        self.report = PushReport(entity="invoice", dry_run=dry_run)
        self._tokens: dict[str, str] = {}  # clients without a stored token are absent
        self._invalid_tokens: set[str] = set()
        # dry run: what each creditor's valid invoices would become (see push_invoices)
        self.preview_state: dict[str, str] = {}
        self.show = show

    # -- tokens -------------------------------------------------------------------------------------
    def _load_tokens(self, conn, creditor_ids: Sequence[str]) -> None:
        """Decrypt the batch's tokens once, before any thread needs them."""
        self._tokens.update(
            load_tokens(conn, self.ctx.vault, [c for c in creditor_ids if c not in self._tokens])
        )

    def _token_rejected(self, conn, creditor_id: str) -> None:
        """Mark the token this run used invalid: only that one (by fingerprint), never a token another
        step renewed meanwhile."""
        if creditor_id not in self._invalid_tokens:
            self._invalid_tokens.add(creditor_id)
            set_token_status(
                conn,
                creditor_id,
                "invalid",
                "401 from the API while submitting invoices",
                fingerprint(self._tokens[creditor_id]) if creditor_id in self._tokens else None,
            )
            self.log.warning(
                f"client {creditor_id}: token refused (401); its invoices wait for a valid token"
            )

    # -- recovery -----------------------------------------------------------------------------------
    def recover(self, conn, creditor_ids: Sequence[str]) -> list[str]:
        """Settle rows left `in_flight` by looking them up (rule: push/recovery.py). Returns ids set
        back to pending.

        Only rows of clients this run holds locks on are looked at, so an `in_flight` row here was
        interrupted, not being sent by a concurrent run. One look-up per client and invoice date; each
        answer's outcomes are committed as it arrives, so a killed recovery keeps what it learned."""
        from confirma_pipeline.api.concurrency import run_bounded

        rows = ledger.in_flight_for_recovery(conn, self.relations.invoices, creditor_ids)
        if not rows or self.dry_run:
            return []
        self.log.info(f"looking up {len(rows)} invoice(s) left in flight before deciding to resend")
        current = ledger.source_hashes(
            conn, self.relations.invoices, self.relations.invoice_rows, [r.invoice_id for r in rows]
        )
        groups: dict[tuple, list[ledger.InFlightRow]] = {}
        early: list[ledger.Outcome] = []
        for row in rows:
            if row.invoice_date is None:
                early.append(_unknown(row, "its source row is gone, so its date is unknown"))
            elif row.source_hash is not None and current.get(row.invoice_id) != row.source_hash:
                early.append(_unknown(row, "its source changed since it was sent; decide by hand"))
            else:
                groups.setdefault((row.creditor_id, row.invoice_date), []).append(row)
        self._record_recovery(conn, early)
        known = {
            key: ledger.submitted_numbers_between(
                conn, self.relations.invoices, key[0], *recovery.window(key[1])
            )
            for key in groups
        }

        def look_up(key):
            creditor_id, invoice_date = key
            token = self._tokens.get(creditor_id)
            if token is None or creditor_id in self._invalid_tokens:
                return recovery.NotUnderstood("no valid client token to look it up with")
            raw = self.client.get_distribution_raw(token, *recovery.window(invoice_date))
            return recovery.interpret_listing(raw, invoice_date, known[key])

        back_to_pending: list[str] = []
        for key, answer in run_bounded(look_up, list(groups), self.settings.concurrency):
            if isinstance(answer, UnauthorizedError):
                self._token_rejected(conn, key[0])
            if isinstance(answer, BaseException):
                answer = recovery.NotUnderstood(
                    f"look-up failed: {_api_error_text(answer)}"
                    if isinstance(answer, ConfirmaApiError)
                    else f"look-up failed: {type(answer).__name__}"
                )
            outcomes = []
            for row in groups[key]:
                if isinstance(answer, recovery.NotUnderstood):
                    outcomes.append(_unknown(row, answer.reason))
                elif row.invoice_number in answer.numbers:
                    outcomes.append(
                        ledger.Outcome(
                            row.invoice_id, "submitted", None, None, answer.numbers[row.invoice_number]
                        )
                    )
                    self.report.recovered += 1
                    self.report.count(row.creditor_id, "recovered")
                else:
                    outcomes.append(
                        ledger.Outcome(row.invoice_id, "pending", "not found at Confirma after interruption")
                    )
                    back_to_pending.append(row.invoice_id)
            self._record_recovery(conn, outcomes)
        return back_to_pending

    def _record_recovery(self, conn, outcomes: list[ledger.Outcome]) -> None:
        ledger.record_outcomes(conn, outcomes)
        for o in outcomes:
            if o.state == "in_flight":
                self.report.unknown_reasons[o.error or "?"] += 1

    # -- sending ------------------------------------------------------------------------------------
    def _send_one(self, item: _Send) -> ledger.Outcome:
        token = self._tokens.get(item.creditor_id)
        if token is None or item.creditor_id in self._invalid_tokens:
            return ledger.Outcome(item.invoice_id, "pending", "not sent: no valid client token")
        try:
            answer = self.client.create_invoice(token, item.body)
        except DuplicateError:
            # The number is already at Confirma for this client: an earlier send of this invoice
            # landed (the ledger's (creditor, number) is unique, so it cannot be another one).
            return ledger.Outcome(item.invoice_id, "submitted", "already present at Confirma (409)", 409)
        except RejectedError as exc:
            return ledger.Outcome(item.invoice_id, "rejected", _api_error_text(exc), exc.status)
        except UnauthorizedError as exc:
            return ledger.Outcome(item.invoice_id, "pending", _api_error_text(exc), exc.status or 401)
        except AmbiguousOutcomeError as exc:
            return ledger.Outcome(item.invoice_id, "in_flight", "outcome unknown: " + _api_error_text(exc))
        except RetryableError as exc:
            return ledger.Outcome(item.invoice_id, "failed", _api_error_text(exc), exc.status)
        case_id = getattr(answer, "case_id", None)
        return ledger.Outcome(item.invoice_id, "submitted", None, 200, case_id)

    def _claimed(self, conn, sends: list[_Send]) -> Iterator[_Send]:
        """Yield sends only after their rows are committed `in_flight`, a batch at a time.

        The worker threads pull from this generator (one at a time), so it gets a connection of
        its own: the caller's thread commits answers on the other one meanwhile."""
        by_id = {s.invoice_id: s for s in sends}
        for batch in _chunks(list(by_id), self.settings.claim_batch):
            claimed = ledger.claim(conn, batch, self.run_id, self.settings.max_attempts)
            self.report.skipped_done += len(batch) - len(claimed)
            for invoice_id in claimed:
                yield by_id[invoice_id]

    def send(self, conn, sends: list[_Send]) -> list[str]:
        """Send, committing answers in batches on `conn`. Returns ids whose outcome is unknown."""
        from confirma_pipeline.api.concurrency import run_bounded

        pending: list[ledger.Outcome] = []
        refused: list[Rejection] = []
        unknown: list[str] = []
        last_flush = time.monotonic()
        with self.ctx.connect(autocommit=True) as claim_conn:
            answers = run_bounded(self._send_one, self._claimed(claim_conn, sends), self.settings.concurrency)
            for item, outcome in answers:
                if isinstance(outcome, BaseException):  # a bug, not an API answer: keep it in flight
                    outcome = ledger.Outcome(
                        item.invoice_id, "in_flight", f"client error: {type(outcome).__name__}"
                    )
                if outcome.http_status == 401 and outcome.state == "pending":
                    self._token_rejected(conn, item.creditor_id)
                pending.append(outcome)
                if outcome.state == "rejected":
                    refused.append(_api_rejection(item, outcome))
                self._tally(item.creditor_id, outcome, unknown)
                if (
                    len(pending) >= self.settings.outcome_batch
                    or time.monotonic() - last_flush > self.settings.flush_seconds
                ):
                    self._flush(conn, pending, refused)
                    last_flush = time.monotonic()
        self._flush(conn, pending, refused)
        return unknown

    def _flush(self, conn, outcomes: list[ledger.Outcome], refused: list[Rejection]) -> None:
        """Commit a batch of answers; API refusals also go to confirma.rejected_rows (source 'api')."""
        with conn.transaction():
            ledger.record_outcomes(conn, outcomes)
            record_rejections(conn, refused, self.run_id)
        outcomes.clear()
        refused.clear()

    def _tally(self, creditor_id: str, outcome: ledger.Outcome, unknown: list[str]) -> None:
        self.report.count(creditor_id, outcome.state)
        if outcome.state == "submitted":
            self.report.pushed += 1
        elif outcome.state == "rejected":
            self.report.rejected_api += 1
        elif outcome.state == "failed":
            self.report.failed += 1
        elif outcome.state == "in_flight":
            unknown.append(outcome.invoice_id)

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

    # -- one batch of clients ------------------------------------------------------------------------
    def process_clients(self, conn, creditor_ids: list[str], creditors_df, date_from, date_to) -> None:
        self._load_tokens(conn, creditor_ids)
        self.recover(conn, creditor_ids)
        unknown = self._push_chunks(
            conn,
            creditor_ids,
            creditors_df,
            date_from,
            date_to,
            ledger.done_invoice_ids_sql(self.settings.max_attempts),
        )
        # Outcomes unknown in this run: look them up now, resend only what Confirma lacks.
        for _ in range(self.settings.recovery_rounds):
            if self.dry_run or not unknown:
                break
            retry_ids = self.recover(conn, creditor_ids)
            if not retry_ids:
                break
            unknown = self._push_chunks(
                conn,
                creditor_ids,
                creditors_df,
                date_from,
                date_to,
                ledger.all_but_sql(self.relations.invoices, retry_ids),
                first_pass=False,
            )

    def _push_chunks(self, conn, creditor_ids, creditors_df, date_from, date_to, exclude, first_pass=True):
        """Read, validate and map chunk k+1 on a helper thread (its own connection) while chunk k
        is being sent, so the API is not left idle between chunks. Registering and sending stay on
        this thread, in chunk order."""
        unknown: list[str] = []
        with (
            self.ctx.connect(autocommit=True) as read_conn,
            ThreadPoolExecutor(1, "confirma-prepare") as helper,
        ):
            chunks = iter_invoices(
                read_conn,
                relation=self.relations.invoices,
                rows_relation=self.relations.invoice_rows,
                creditor_ids=creditor_ids,
                exclude_invoice_ids_sql=exclude,
                chunk_size=self.settings.chunk_size,
                date_from=date_from,
                date_to=date_to,
            )

            def prepare_next():
                pair = next(chunks, None)
                if pair is None:
                    return None
                return prepare_invoices(read_conn, pair[0], pair[1], creditors_df, self.relations)

            upcoming = helper.submit(prepare_next)
            while (prepared := upcoming.result()) is not None:
                upcoming = helper.submit(prepare_next)
                prepared = refuse_reused_numbers(conn, prepared)
                held: list = []
                if self.screen is not None:
                    prepared, held = self.screen(prepared)
                unknown += self._register_and_send(conn, prepared, first_pass, held)
        return unknown

    def _register_and_send(self, conn, prepared, first_pass: bool, held=()) -> list[str]:
        """`held`: (ledger entry, rejection) pairs the screen kept back: recorded as rejected rows and
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
            record_rejections(conn, prepared.rejections + [r for _, r in held], self.run_id)
            refused_before = ledger.still_refused(conn, prepared.entries)
            resolve_rejections(
                conn,
                "invoice",
                [e.invoice_id for e in prepared.entries if e.invoice_id not in refused_before],
            )
            ledger.register_held(conn, held, self.run_id)
        ledger.ensure_pending(conn, prepared.entries, self.run_id)
        sends = [
            _Send(e.invoice_id, e.creditor_id, e.invoice_number, body)
            for e, body in zip(prepared.entries, prepared.bodies, strict=True)
        ]
        return self.send(conn, sends)


def push_invoices(
    ctx: RunContext,
    *,
    dry_run: bool = False,
    date_from=None,
    date_to=None,
    partner_code: str | None = None,
    show: int = 0,
    screen=None,
) -> PushReport:
    """Submit every invoice that is due (see module docstring); returns the run's report.

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
            changed = ledger.flag_changed_after_submission(conn, relations.invoices, relations.invoice_rows)
            if changed:
                pusher.log.warning(
                    f"{changed} submitted invoice(s) changed their 'changed after submission' flag"
                )
        clients = registry.onboarded_with_tokens(conn, creditor_ids)
        if dry_run:
            clients, creditors_df = _preview_clients(pusher, conn, clients, creditor_ids, partner_code)
        else:
            creditors_df = read_creditors(conn, relations.creditors, creditor_ids=clients)
        for batch in _chunks(clients, ctx.settings.lock_batch):
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
        counts = ledger.state_counts(conn, held_all)  # rows another run is sending are not unknown here
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
            pusher.report.waiting_for_client = ledger.waiting_for_client(
                conn, relations.invoices, creditor_ids
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
        pusher.preview_state[creditor_id] = (
            "would_send"
            if creditor_id in ready
            else "would_send_after_onboarding"
            if creditor_id in new
            else "waiting_for_client"
        )
    return sorted(pusher.preview_state), creditors_df
