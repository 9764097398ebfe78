"""What a pull run did, as counts an operator can read and Dagster can show as metadata.

Keys and counts only: no payloads, no tokens."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from confirma_pipeline.pull.errors import PullIncompleteError, PullValidationError
from confirma_pipeline.pull.window import Window


@dataclass
class PullReport:
    entity: str  # payments, settlements, distribution, cases, client_credentials, finvoice_credentials
    window: Window | None = None  # the partition window (None for unpartitioned pulls)
    fetch_window: Window | None = None  # what was asked of the API (the window plus any look-back)
    mode: str | None = None  # settlements: unfetched | range
    clients: int = 0  # active clients considered
    clients_pulled: int = 0  # clients whose answer was written (or was empty)
    records: int = 0  # records received from the API
    calls: int = 0  # HTTP attempts made (each retry counts)
    duration_s: float = 0.0
    written: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # table -> counts
    per_client: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    unauthorized: list[str] = field(default_factory=list)  # 401/403: token marked invalid, others went on
    invalid: dict[str, str] = field(default_factory=dict)  # creditor -> why the answer was not written
    failed: dict[str, str] = field(default_factory=dict)  # creditor -> transient failure (step retried)
    extra: Counter = field(default_factory=Counter)  # entity-specific counts (renewed, recovered, ...)
    _started: float = field(default_factory=time.monotonic, repr=False)
    _calls_at_start: int = field(default=0, repr=False)

    # -- recording -----------------------------------------------------------------------------------
    def count(self, creditor_id: str, what: str, n: int = 1) -> None:
        self.per_client[creditor_id][what] += n

    def wrote(self, table: str, result) -> None:
        """Add an `UpsertResult` or `ReplaceResult` of bulk.py."""
        counts = self.written[table]
        for name in ("inserted", "updated", "unchanged", "deleted"):
            counts[name] += int(getattr(result, name, 0) or 0)

    def mark_unauthorized(self, creditor_id: str) -> None:
        if creditor_id not in self.unauthorized:
            self.unauthorized.append(creditor_id)
        self.count(creditor_id, "unauthorized")

    def mark_invalid(self, creditor_id: str, message: str) -> None:
        self.invalid.setdefault(creditor_id, message)
        self.count(creditor_id, "invalid_answer")

    def mark_failed(self, creditor_id: str, message: str) -> None:
        self.failed.setdefault(creditor_id, message)
        self.count(creditor_id, "failed")

    def start_calls(self, client) -> None:
        self._calls_at_start = client.calls_made if client is not None else 0

    def finish(self, client) -> PullReport:
        if client is not None:
            self.calls = client.calls_made - self._calls_at_start
        self.duration_s = time.monotonic() - self._started
        return self

    # -- outcome -------------------------------------------------------------------------------------
    def raise_for_failures(self) -> None:
        """After every client was tried: an invalid answer fails the run for an operator; a transient
        failure fails it so that it is retried. 401s alone do not fail it (see `unauthorized`)."""
        if self.invalid:
            raise PullValidationError("; ".join(self.invalid[c] for c in sorted(self.invalid)))
        if self.failed:
            detail = "; ".join(f"client {c}: {self.failed[c]}" for c in sorted(self.failed))
            raise PullIncompleteError(
                f"{self.entity}: {len(self.failed)} client(s) failed and will be retried "
                f"({len(self.per_client) - len(self.failed)} others written): {detail}"
            )

    def totals(self) -> dict[str, int]:
        totals = {
            "clients": self.clients,
            "clients_pulled": self.clients_pulled,
            "clients_unauthorized": len(self.unauthorized),
            "clients_invalid_answer": len(self.invalid),
            "clients_failed": len(self.failed),
            "records_received": self.records,
            "api_calls": self.calls,
        }
        for table, counts in sorted(self.written.items()):
            short = table.split(".")[-1]
            for name in ("inserted", "updated", "deleted", "unchanged"):
                totals[f"{short}_{name}"] = counts[name]
        totals.update(sorted(self.extra.items()))
        return totals

    def sync_outcome(self) -> tuple[dict[str, int], int, int]:
        """(counts, API calls, clients left for later) for the run log (warehouse/sync_runs.py)."""
        counts = {k: v for k, v in self.totals().items() if k != "api_calls"}
        return counts, self.calls, len(self.unauthorized) + len(self.invalid) + len(self.failed)

    def per_client_table(self) -> list[dict]:
        return [{"creditor_id": cid, **dict(sorted(c.items()))} for cid, c in sorted(self.per_client.items())]

    def summary_line(self) -> str:
        window = f" {self.fetch_window}" if self.fetch_window else ""
        mode = f" ({self.mode})" if self.mode else ""
        written = ", ".join(
            f"{t.split('.')[-1]} +{c['inserted']} ~{c['updated']} -{c['deleted']}"
            for t, c in sorted(self.written.items())
        )
        return (
            f"{self.entity}{window}{mode}: {self.clients_pulled}/{self.clients} clients, "
            f"{self.records} records, {written or 'nothing written'}; unauthorized {len(self.unauthorized)}, "
            f"invalid {len(self.invalid)}, failed {len(self.failed)}; {self.calls} calls in {self.duration_s:.1f} s"
        )
