"""Send invoice actions (`POST /invoice/action`) exactly once.

An action is not idempotent: a DIRECTPAYMENT sent twice records the payment twice, and there is no look-up of
actions by any key. So, per run:
1. read the source actions not yet sent, validate them per code (bad ones -> rejected rows, with every reason),
   and register the good ones in the action ledger: `waiting` (with the reason, e.g. no case id yet) or
   `pending` with the exact body to send;
2. for clients held with an advisory lock: settle actions left `in_flight` where the case details show their
   effect (-> sent); otherwise they stay in flight, never resent, and the `invoice_actions_unsettled` check
   fails until an operator runs `confirma-pipeline actions resolve --action-id ID --sent|--not-sent`;
3. send each pending action in its OWN request, after committing it `in_flight`, and commit the answer:
   sent | rejected (4xx, with the server's reason) | failed (transient, retried next run) | in_flight (unknown).

Why one action per request though the body is a list: one lost answer would leave every action of the batch
ambiguous, and a refusal (402 on a closed case, 404) would refuse the whole batch. Actions are few (a handful per
client per night), so the extra requests cost nothing that matters. They are sent one after another in
action_id order, so two actions on one case reach the agency in the order the creditor wrote them.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from confirma_pipeline.api.errors import (
    AmbiguousOutcomeError,
    RejectedError,
    RetryableError,
    UnauthorizedError,
)
from confirma_pipeline.mapping.actions import action_body, action_hash, effect_shown, request_body
from confirma_pipeline.push.invoice_sending import api_error_text
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.validation.actions import ENTITY, validate_actions, waiting_reason
from confirma_pipeline.validation.row_hashes import row_hashes
from confirma_pipeline.warehouse import action_ledger as ledger
from confirma_pipeline.warehouse import locks
from confirma_pipeline.warehouse.client_tokens import load_tokens
from confirma_pipeline.warehouse.registry import set_token_status
from confirma_pipeline.warehouse.rejections import Rejection, record_rejections, resolve_rejections

WAITING_CHECK = "waiting_for_case"


@dataclass
class ActionReport:
    """What one run did with invoice actions (keys and counts only)."""

    dry_run: bool = False
    sent: int = 0
    settled_from_case: int = 0
    rejected_validation: int = 0
    rejected_api: int = 0
    failed: int = 0
    waiting: int = 0
    unknown: int = 0  # in flight after the run: an operator settles them
    would_send: int = 0
    requests: int = 0
    duration_s: float = 0.0
    per_code: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    rejected_sample: list[tuple[str, str, list[str], str]] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "settled_from_case_details": self.settled_from_case,
            "rejected_by_validation": self.rejected_validation,
            "rejected_by_api": self.rejected_api,
            "failed_retry_next_run": self.failed,
            "waiting_for_case": self.waiting,
            "outcome_unknown": self.unknown,
            "would_send": self.would_send,
            "api_requests": self.requests,
        }

    def per_code_table(self) -> list[dict]:
        return [{"code": code, **dict(sorted(c.items()))} for code, c in sorted(self.per_code.items())]

    def summary_line(self) -> str:
        if self.dry_run:
            return (
                f"dry run (invoice actions): would send {self.would_send}, invalid {self.rejected_validation}, "
                f"waiting {self.waiting}"
            )
        return (
            f"invoice actions: sent {self.sent}, settled from case details {self.settled_from_case}, "
            f"rejected {self.rejected_validation} by validation and {self.rejected_api} by the API, "
            f"failed {self.failed}, waiting {self.waiting}, unknown {self.unknown} ({self.duration_s:.1f} s)"
        )


def _prepare(conn, relation: str, creditor_ids, report: ActionReport, run_id, dry_run: bool) -> None:
    """Validate the open source actions and register the good ones (waiting or pending with their body)."""
    frame = ledger.read_open_actions(conn, relation, creditor_ids)
    outcome = validate_actions(frame)
    rejections = [
        Rejection(ENTITY, r["entity_key"], r["content_hash"], _text(r.get("creditor_id")), list(r["checks"]),
                  r["reason"])
        for r in outcome.rejected_df.to_dict("records")
    ]  # fmt: skip
    report.rejected_validation += len(rejections)
    for r in rejections:
        if len(report.rejected_sample) < 20:
            report.rejected_sample.append((r.entity, r.entity_key, r.checks, r.reason))
    valid = outcome.valid_df
    content = [c for c in ledger.ACTIONS_CONTRACT if c != "updated_at"]  # touching a row is not a change
    hashes = row_hashes(valid[content]) if len(valid) else pd.Series([], dtype="str")
    entries, waiting = [], []
    for (_, row), content_hash in zip(valid.iterrows(), hashes, strict=True):
        reason = waiting_reason(_text(row["invoice_state"]), row["case_id"])
        number = None if pd.isna(row["invoice_number"]) else int(row["invoice_number"])
        case_id = None if pd.isna(row["case_id"]) else int(row["case_id"])
        body = None if reason else action_body(row, number, case_id)
        entries.append(
            ledger.ActionEntry(
                row["action_id"], row["invoice_id"], _text(row["creditor_id"]), row["code"], number, case_id,
                reason, body, action_hash(body) if body else None,
            )
        )  # fmt: skip
        report.per_code[row["code"]]["waiting" if reason else "ready"] += 1
        if reason:
            waiting.append(
                Rejection(ENTITY, row["action_id"], f"{content_hash}:{WAITING_CHECK}",
                          _text(row["creditor_id"]), [WAITING_CHECK], reason)
            )  # fmt: skip
    report.waiting += len(waiting)
    report.would_send += len(entries) - len(waiting)
    if dry_run:
        return
    with conn.transaction():
        resolve_rejections(conn, ENTITY, [e.action_id for e in entries])
        record_rejections(conn, rejections, run_id)
        record_rejections(conn, waiting, None)  # visible in row status; not a rejection of this run
    ledger.register(conn, entries, run_id)


def _text(value) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


class _Sender:
    def __init__(self, conn, ctx: RunContext, tokens: dict[str, str], report: ActionReport) -> None:
        self.conn, self.client, self.tokens = conn, ctx.client, tokens
        self.settings, self.run_id, self.report, self.log = ctx.settings, ctx.run_id, report, ctx.logger
        self.refused: set[str] = set()

    def _refuse_token(self, creditor_id: str) -> None:
        if creditor_id not in self.refused:
            self.refused.add(creditor_id)
            set_token_status(
                self.conn, creditor_id, "invalid", "401 from the API while sending invoice actions"
            )

    def settle(self, creditor_ids: Sequence[str]) -> None:
        """Settle in-flight actions whose effect the case details show; leave the others for an operator."""
        for item in ledger.in_flight(self.conn, creditor_ids):
            token = self.tokens.get(item.creditor_id)
            if token is None or item.creditor_id in self.refused:
                continue
            try:
                case = self.client.get_case(token, item.case_id).case
            except UnauthorizedError:
                self._refuse_token(item.creditor_id)
                continue
            except Exception as exc:  # noqa: BLE001 - any failure leaves it in flight, which is safe
                self.log.warning(
                    f"action {item.action_id}: case {item.case_id} not read ({type(exc).__name__})"
                )
                continue
            if effect_shown(item.payload, case):
                ledger.record_outcome(
                    self.conn, item.action_id, "sent", "settled: the case details show its effect", None,
                    "case_details",
                )  # fmt: skip
                self.report.settled_from_case += 1
                self.report.per_code[item.code]["settled_from_case"] += 1
            else:
                self.log.warning(
                    f"action {item.action_id} ({item.code}) is in flight and its effect is not (yet) visible; "
                    "not resent: `confirma-pipeline actions resolve` settles it"
                )

    def send(self, creditor_ids: Sequence[str]) -> None:
        for action_id in ledger.sendable(self.conn, creditor_ids, self.settings.max_attempts):
            item = ledger.claim(self.conn, action_id, self.run_id, self.settings.max_attempts)
            if item is None:
                continue
            token = self.tokens.get(item.creditor_id)
            if token is None or item.creditor_id in self.refused:
                ledger.record_outcome(self.conn, action_id, "pending", "not sent: no valid client token")
                continue
            state, error, status = self._post(item, token)
            ledger.record_outcome(
                self.conn, action_id, state, error, status, "api" if state == "sent" else None
            )
            self.report.per_code[item.code][state] += 1
            if state == "sent":
                self.report.sent += 1
            elif state == "rejected":
                self.report.rejected_api += 1
                record_rejections(
                    self.conn,
                    [Rejection(ENTITY, action_id, action_hash(item.payload), item.creditor_id, ["api"],
                               error or "rejected", "api")],
                    self.run_id,
                )  # fmt: skip
            elif state == "failed":
                self.report.failed += 1

    def _post(self, item: ledger.ClaimedAction, token: str) -> tuple[str, str | None, int | None]:
        try:
            answer = self.client.invoice_actions(token, request_body(item.payload))
        except RejectedError as exc:
            return "rejected", api_error_text(exc), exc.status
        except UnauthorizedError as exc:
            self._refuse_token(item.creditor_id)
            return "pending", api_error_text(exc), exc.status or 401
        except AmbiguousOutcomeError as exc:
            return "in_flight", "outcome unknown: " + api_error_text(exc), None
        except RetryableError as exc:
            return "failed", api_error_text(exc), exc.status
        except Exception as exc:  # noqa: BLE001 - a bug, not an answer: the outcome is unknown
            return "in_flight", f"outcome unknown: client error {type(exc).__name__}", None
        if "queued_count" in answer.model_fields_set and answer.queued_count != 1:
            return (
                "in_flight",
                f"answer not understood: queuedCount {answer.queued_count} for one action",
                None,
            )
        return "sent", None, None


def push_actions(
    ctx: RunContext, *, dry_run: bool = False, relation: str = ledger.DEFAULT_ACTIONS
) -> ActionReport:
    """Send every invoice action that is due (see the module docstring); returns the run's report."""
    client, creditor_ids = ctx.client, ctx.client_ids
    started = time.monotonic()
    calls_before = getattr(client, "calls_made", 0) if client is not None else 0
    report = ActionReport(dry_run=dry_run)
    with ctx.connect(autocommit=True) as conn, ctx.connect(autocommit=True) as lock_conn:
        _prepare(conn, relation, creditor_ids, report, ctx.run_id, dry_run)
        if not dry_run:
            clients = ledger.creditors_with_work(conn, creditor_ids)
            held = locks.try_lock_clients(lock_conn, clients)
            try:
                sender = _Sender(conn, ctx, load_tokens(conn, ctx.vault, held), report)
                sender.settle(held)
                sender.send(held)
            finally:
                locks.unlock_clients(lock_conn, held)
            report.unknown = ledger.state_counts(conn).get("in_flight", 0)
    report.duration_s = time.monotonic() - started
    report.requests = (getattr(client, "calls_made", 0) - calls_before) if client is not None else 0
    ctx.logger.info(report.summary_line())
    return report
