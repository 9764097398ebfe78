"""Send ledger vouchers and accounting payments exactly once, and look interrupted sends up.

Both kinds share one engine; each is described as data (`AccountingKind`): how to read and judge its
input, how many items go in one request, how to post them and how to list their status.

Per client (each held with an advisory lock of its own namespace, so a concurrent run skips it and the
invoice push is not held up), per kind:
1. recover: items left `in_flight` (an interrupted run, or an answer this run could not understand) are
   looked up in the status endpoint (sourceIdentifier = the creditor's identifier) over their dates:
   listed -> submitted (never resent); not listed in an answer we understood -> pending; any other
   answer -> they stay in flight and a check fails;
2. read what is not done yet, validate (bad items -> `confirma.rejected_rows` with every reason), map;
3. register the good ones `pending`, then per request: commit the items `in_flight`, POST, commit the
   answer: 2xx -> submitted, 4xx -> rejected with the server's reason, 401 -> pending (token marked
   invalid), transient -> failed (retried next run), unknown (dropped connection, 5xx on the POST, a body
   we cannot read) -> in_flight, looked up in a recovery round of this run before anything is resent.

Vouchers go one per request (the body holds one `ledgers` object, SEEN). Payments go
`contract.ACCOUNTING_PAYMENT_BATCH` per request: the body takes a list and a night's payments are many
small items. A refused batch (400) rejects the items its field errors name (`payments[i]`); its other items
are looked up before being sent again, which is safe whether or not the API accepted part of the batch.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from confirma_pipeline.api import contract as c
from confirma_pipeline.api.errors import (
    AmbiguousOutcomeError,
    ConfirmaApiError,
    RejectedError,
    RetryableError,
    UnauthorizedError,
)
from confirma_pipeline.mapping.accounting import item_date, payment_items, voucher_bodies
from confirma_pipeline.mapping.hashing import payload_hash
from confirma_pipeline.push.report import PushReport
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.validation.accounting import (
    PAYMENT_ENTITY,
    VOUCHER_ENTITY,
    validate_payments,
    validate_vouchers,
)
from confirma_pipeline.vault import fingerprint
from confirma_pipeline.warehouse import accounting_submissions as subs
from confirma_pipeline.warehouse import locks, registry
from confirma_pipeline.warehouse.accounting_source import AccountingRelations, read_payments, read_vouchers
from confirma_pipeline.warehouse.client_tokens import load_tokens
from confirma_pipeline.warehouse.rejections import Rejection, record_rejections, resolve_rejections

# Advisory-lock namespace of the accounting push (the invoice push uses locks.LOCK_NAMESPACE).
LOCK_NAMESPACE = 0x0C15
_ITEM_INDEX = re.compile(r"^payments\[(\d+)\]")


@dataclass(frozen=True)
class Prepared:
    bodies: dict[str, dict]  # identifier -> body (voucher) or list element (payment)
    rejections: list[Rejection]


@dataclass(frozen=True)
class AccountingKind:
    """One accounting entity, as data: the engine below is written once."""

    kind: str  # the `kind` of accounting_submissions / accounting_sync
    entity: str  # the `entity` of rejected_rows
    per_request: int
    prepare: Callable[[Any, AccountingRelations, str, int], Prepared]
    post: Callable[[Any, str, list[dict]], Any]
    statuses: Callable[[Any, str, Any, Any], list]


def _rejections(entity: str, creditor_id: str, verdicts: dict, bodies: dict[str, dict]) -> list[Rejection]:
    return [
        Rejection(entity, f"{cid}/{ident}", payload_hash(bodies.get(ident, {})), cid, v.checks, v.reason)
        for (cid, ident), v in verdicts.items()
        if cid == creditor_id
    ]


def _prepare_vouchers(conn, relations: AccountingRelations, creditor_id: str, max_attempts: int) -> Prepared:
    frames = read_vouchers(conn, relations, [creditor_id], max_attempts)
    bodies = {
        ident: body
        for (_, ident), body in voucher_bodies(frames.vouchers, frames.rows, frames.dimensions).items()
    }
    verdicts = validate_vouchers(frames.vouchers, frames.rows, frames.dimensions)
    bad = {ident for _, ident in verdicts}
    return Prepared(
        {i: b for i, b in bodies.items() if i not in bad},
        _rejections(VOUCHER_ENTITY, creditor_id, verdicts, bodies),
    )


def _prepare_payments(conn, relations: AccountingRelations, creditor_id: str, max_attempts: int) -> Prepared:
    frame = read_payments(conn, relations, [creditor_id], max_attempts)
    bodies = {ident: body for (_, ident), body in payment_items(frame).items()}
    verdicts = validate_payments(frame)
    bad = {ident for _, ident in verdicts}
    return Prepared(
        {i: b for i, b in bodies.items() if i not in bad},
        _rejections(PAYMENT_ENTITY, creditor_id, verdicts, bodies),
    )


VOUCHERS = AccountingKind(
    kind="ledger",
    entity=VOUCHER_ENTITY,
    per_request=1,
    prepare=_prepare_vouchers,
    post=lambda client, token, items: client.post_ledger(token, items[0]),
    statuses=lambda client, token, start, end: client.get_ledger_status(token, start, end).ledgers,
)
PAYMENTS = AccountingKind(
    kind="payment",
    entity=PAYMENT_ENTITY,
    per_request=c.ACCOUNTING_PAYMENT_BATCH,
    prepare=_prepare_payments,
    post=lambda client, token, items: client.post_accounting_payments(token, {"payments": items}),
    statuses=lambda client, token, start, end: (
        client.get_accounting_payment_status(token, start, end).payments
    ),
)
KINDS = (VOUCHERS, PAYMENTS)


def _api_error_text(exc: BaseException) -> str:
    if isinstance(exc, RejectedError):
        fields = "; ".join(f"{f.field}: {f.message}" for f in exc.field_errors[:10])
        return f"HTTP {exc.status}: {exc.reason or 'rejected'}" + (f" ({fields})" if fields else "")
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"


def batch_outcomes(identifiers: Sequence[str], exc: BaseException | None) -> list[subs.Outcome]:
    """What one request's answer means for each of its items (see the module docstring)."""
    if exc is None:
        return [subs.Outcome(i, "submitted", None, c.STATUS_QUEUED) for i in identifiers]
    text = _api_error_text(exc)
    if isinstance(exc, UnauthorizedError):
        return [subs.Outcome(i, "pending", text, exc.status or 401) for i in identifiers]
    if isinstance(exc, AmbiguousOutcomeError):
        return [subs.Outcome(i, "in_flight", "outcome unknown: " + text) for i in identifiers]
    if isinstance(exc, RetryableError):
        return [subs.Outcome(i, "failed", text, exc.status) for i in identifiers]
    if isinstance(exc, RejectedError):
        if len(identifiers) == 1:
            return [subs.Outcome(identifiers[0], "rejected", text, exc.status)]
        named: dict[int, list[str]] = {}
        for f in exc.field_errors:
            match = _ITEM_INDEX.match(f.field)
            if match and int(match.group(1)) < len(identifiers):
                named.setdefault(int(match.group(1)), []).append(f"{f.field}: {f.message}")
        if not named:
            return [subs.Outcome(i, "rejected", text, exc.status) for i in identifiers]
        return [
            subs.Outcome(i, "rejected", f"HTTP {exc.status}: " + "; ".join(named[n]), exc.status)
            if n in named
            else subs.Outcome(i, "in_flight", "batch refused for other items; looked up before resending")
            for n, i in enumerate(identifiers)
        ]
    # A 2xx we could not read, or a bug: the POST may have landed. Never resent on a guess.
    return [subs.Outcome(i, "in_flight", f"answer not understood: {type(exc).__name__}") for i in identifiers]


class AccountingPusher:
    """One run over the given clients. Use `push_accounting(...)`."""

    def __init__(self, conn, ctx: RunContext, relations: AccountingRelations) -> None:
        self.conn = conn
        self.client = ctx.client
        self.relations = relations
        self.settings = ctx.settings
        self.run_id = ctx.run_id
        self.log = ctx.logger
        self.reports = {k.kind: PushReport(entity=k.entity) for k in KINDS}
        self.invalid_tokens: set[str] = set()

    def _token_refused(self, creditor_id: str, token: str, status: int | None) -> None:
        """Mark invalid only the token this run used (by fingerprint), never one renewed meanwhile."""
        if creditor_id not in self.invalid_tokens:
            self.invalid_tokens.add(creditor_id)
            registry.set_token_status(
                self.conn,
                creditor_id,
                "invalid",
                f"{status or 401} from the API while sending accounting data",
                fingerprint(token),
            )
            self.log.warning(
                f"client {creditor_id}: token refused; its accounting items wait for a valid token"
            )

    def recover(self, spec: AccountingKind, creditor_id: str, token: str) -> int:
        """Settle items left in flight by the status look-up; returns how many went back to pending."""
        rows = subs.in_flight(self.conn, spec.kind, creditor_id)
        if not rows or creditor_id in self.invalid_tokens:
            return 0
        dates = [d for _, d in rows]
        try:
            listed = {s.source_identifier for s in spec.statuses(self.client, token, min(dates), max(dates))}
        except UnauthorizedError as exc:
            self._token_refused(creditor_id, token, exc.status)
            return 0
        except Exception as exc:  # noqa: BLE001 - any answer we cannot read leaves them in flight
            self.log.warning(
                f"{spec.kind}: client {creditor_id}: status look-up of {len(rows)} item(s) in flight failed "
                f"({_api_error_text(exc)}); they stay in flight and are not resent"
            )
            return 0
        report = self.reports[spec.kind]
        outcomes = []
        for identifier, _ in rows:
            if identifier in listed:
                outcomes.append(
                    subs.Outcome(identifier, "submitted", "found by status look-up after interruption")
                )
                report.recovered += 1
                report.count(creditor_id, "recovered")
            else:
                outcomes.append(
                    subs.Outcome(identifier, "pending", "not listed by Confirma after interruption")
                )
        subs.record_outcomes(self.conn, spec.kind, creditor_id, outcomes)
        return sum(o.state == "pending" for o in outcomes)

    def _send(self, spec: AccountingKind, creditor_id: str, token: str, bodies: dict[str, dict]) -> int:
        """Send pending items in requests of `spec.per_request`; returns how many ended in flight."""
        report = self.reports[spec.kind]
        unknown = 0
        identifiers = list(bodies)
        for start in range(0, len(identifiers), spec.per_request):
            if creditor_id in self.invalid_tokens:
                break
            wanted = identifiers[start : start + spec.per_request]
            claimed = subs.claim(
                self.conn, spec.kind, creditor_id, wanted, self.run_id, self.settings.max_attempts
            )
            if not claimed:
                continue
            try:
                spec.post(self.client, token, [bodies[i] for i in claimed])
                error = None
            except (ConfirmaApiError, Exception) as exc:  # noqa: BLE001 - classified by batch_outcomes
                error = exc
            outcomes = batch_outcomes(claimed, error)
            if isinstance(error, UnauthorizedError):
                self._token_refused(creditor_id, token, error.status)
            subs.record_outcomes(self.conn, spec.kind, creditor_id, outcomes)
            for o in outcomes:
                report.count(creditor_id, o.state)
                report.pushed += o.state == "submitted"
                report.rejected_api += o.state == "rejected"
                report.failed += o.state == "failed"
                unknown += o.state == "in_flight"
        return unknown

    def process(self, spec: AccountingKind, creditor_id: str, token: str) -> None:
        self.recover(spec, creditor_id, token)
        prepared = spec.prepare(self.conn, self.relations, creditor_id, self.settings.max_attempts)
        report = self.reports[spec.kind]
        report.rejected_validation += len(prepared.rejections)
        report.add_rejections(prepared.rejections)
        if prepared.rejections:
            report.count(creditor_id, "rejected_validation", len(prepared.rejections))
        with self.conn.transaction():
            record_rejections(self.conn, prepared.rejections, self.run_id)
            resolve_rejections(self.conn, spec.entity, [f"{creditor_id}/{i}" for i in prepared.bodies])
        subs.ensure_pending(
            self.conn,
            [
                subs.Item(spec.kind, creditor_id, ident, item_date(body), payload_hash(body))
                for ident, body in prepared.bodies.items()
            ],
            self.run_id,
        )
        unknown = self._send(spec, creditor_id, token, prepared.bodies)
        for _ in range(self.settings.recovery_rounds):
            if not unknown or not self.recover(spec, creditor_id, token):
                break
            unknown = self._send(spec, creditor_id, token, prepared.bodies)


def push_accounting(
    ctx: RunContext, *, relations: AccountingRelations = AccountingRelations()
) -> dict[str, PushReport]:
    """Send every voucher and accounting payment that is due; returns a report per kind."""
    started = time.monotonic()
    requests_before = getattr(ctx.client, "calls_made", 0)
    with ctx.connect(autocommit=True) as conn, ctx.connect(autocommit=True) as lock_conn:
        pusher = AccountingPusher(conn, ctx, relations)
        clients = registry.onboarded_with_tokens(conn, ctx.client_ids)
        held = locks.try_lock_clients(lock_conn, clients, LOCK_NAMESPACE)
        for report in pusher.reports.values():
            report.clients_locked_elsewhere = len(clients) - len(held)
        try:
            tokens = load_tokens(conn, ctx.vault, held)
            for creditor_id in held:
                for spec in KINDS:
                    if creditor_id in tokens and creditor_id not in pusher.invalid_tokens:
                        pusher.process(spec, creditor_id, tokens[creditor_id])
        finally:
            locks.unlock_clients(lock_conn, held, LOCK_NAMESPACE)
        counts = subs.state_counts(conn, clients)
    elapsed = time.monotonic() - started
    for kind, report in pusher.reports.items():
        report.unknown = counts.get((kind, "in_flight"), 0)
        report.skipped_done += max(0, counts.get((kind, "submitted"), 0) - report.pushed - report.recovered)
        report.duration_s = elapsed
    pusher.reports["ledger"].requests = getattr(ctx.client, "calls_made", 0) - requests_before
    return pusher.reports
