"""What a push run did, as counts an operator can read and Dagster can show as metadata.

Reports hold keys and counts only: no payloads, no personal data beyond keys, no tokens."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass
class PushReport:
    entity: str  # "client" or "invoice"
    dry_run: bool = False
    pushed: int = 0  # accepted by the API in this run
    recovered: int = 0  # found at Confirma after an interrupted send: recorded, not resent
    skipped_done: int = 0  # already sent (or refused, unchanged) in an earlier run
    rejected_validation: int = 0
    rejected_api: int = 0
    failed: int = 0  # transient failure; retried next run
    unknown: int = 0  # outcome unknown (left in_flight for a look-up or an operator)
    unknown_reasons: Counter = field(default_factory=Counter)  # why recovery could not settle rows
    would_send: int = 0  # dry run: valid rows that a real run would send
    would_send_after_onboarding: int = 0  # dry run: valid invoices of creditors the same run would onboard
    clients_locked_elsewhere: int = 0
    held_by: dict[str, str] = field(default_factory=dict)  # creditor_id -> run id of the run that holds it
    waiting_for_client: int = 0  # invoices whose creditor is not onboarded (or has no usable token) yet
    requests: int = 0
    duration_s: float = 0.0
    per_client: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    rejected_sample: list[tuple[str, str, list[str], str]] = field(default_factory=list)
    body_samples: list[dict] = field(default_factory=list)  # dry run --show N: bodies, personal fields masked

    def count(self, creditor_id: str, state: str, n: int = 1) -> None:
        self.per_client[creditor_id][state] += n

    def add_rejections(self, rejections, limit: int = 20) -> None:
        for r in rejections:
            if len(self.rejected_sample) < limit:
                self.rejected_sample.append((r.entity, r.entity_key, list(r.checks), r.reason))

    def totals(self) -> dict[str, int]:
        return {
            "pushed": self.pushed,
            "recovered_without_resend": self.recovered,
            "skipped_already_done": self.skipped_done,
            "rejected_by_validation": self.rejected_validation,
            "rejected_by_api": self.rejected_api,
            "failed_retry_next_run": self.failed,
            "outcome_unknown": self.unknown,
            "would_send": self.would_send,
            "would_send_after_onboarding": self.would_send_after_onboarding,
            "clients_locked_by_other_run": self.clients_locked_elsewhere,
            "waiting_for_client": self.waiting_for_client,
            "api_requests": self.requests,
        }

    def held_elsewhere_line(self) -> str:
        """'skipped 3 client(s) another run holds: run X (2), run Y (1)', or '' when none were."""
        if not self.held_by:
            return ""
        runs = Counter(self.held_by.values())
        listed = ", ".join(f"{run} ({n})" for run, n in sorted(runs.items()))
        return f"skipped {len(self.held_by)} client(s) another run holds: {listed}"

    def needs_attention(self) -> int:
        """Rows whose outcome is not final: failed (tried again next run) or unknown (an operator or a
        look-up must settle them). Rejected rows and rows waiting for their client are final, explained
        outcomes (confirma.row_status says why; the *_rejected_this_run checks and their alerts report
        them), so a night whose only bad rows are bad input is not a partial night."""
        if self.dry_run:
            return 0
        return self.failed + self.unknown

    def sync_outcome(self) -> tuple[dict[str, int], int, int]:
        """(counts, API calls, rows left for later) for the run log (warehouse/sync_runs.py)."""
        counts = {k: v for k, v in self.totals().items() if k != "api_requests"}
        return counts, self.requests, self.needs_attention()

    def per_client_table(self) -> list[dict]:
        return [{"creditor_id": cid, **dict(sorted(c.items()))} for cid, c in sorted(self.per_client.items())]

    def summary_line(self) -> str:
        t = self.totals()
        if self.dry_run:
            line = f"dry run ({self.entity}s): would send {t['would_send']}, "
            if self.entity == "invoice":
                line += (
                    f"would send after onboarding their client {t['would_send_after_onboarding']}, "
                    f"waiting for their client {t['waiting_for_client']}, "
                )
            return line + f"invalid {t['rejected_by_validation']}, already done {t['skipped_already_done']}"
        return (
            f"{self.entity}s: pushed {t['pushed']}, recovered {t['recovered_without_resend']}, "
            f"already done {t['skipped_already_done']}, rejected {t['rejected_by_validation']} by validation "
            f"and {t['rejected_by_api']} by the API, failed {t['failed_retry_next_run']}, "
            f"unknown {t['outcome_unknown']}, waiting for their client {t['waiting_for_client']} "
            f"({self.duration_s:.1f} s)" + (f"; {self.held_elsewhere_line()}" if self.held_by else "")
        )
