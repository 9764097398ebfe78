"""The historical-invoice policy of a client backfill: what to do with an invoice whose due date has passed.

Sending such an invoice exactly as its source row says would e-mail the buyer an invoice they may have paid
long ago and put it straight into payment control and reminders. So the operator chooses, and the default
refuses:

- `refuse` (default): not sent; recorded in `confirma.rejected_rows` with the reason below (so it shows in
  the rows' status) and registered in the ledger as `rejected`, so the nightly push does not send it either;
- `no-distribution`: sent with `contract.NO_DISTRIBUTION_FIELDS` (distribution and payment control off,
  CHOSEN): Confirma has it, the buyer is not mailed, no reminder starts;
- `as-is`: sent exactly as the source says (the operator decided the buyer should get it again).

An invoice is historical when its due date is before `today`, or, with `after_days`, when its invoice date
is more than that many days before `today`. The policy works on prepared (validated, mapped, encoded)
bodies, so it is one step between validation and registering, and the exactly-once machinery is unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace

from confirma_pipeline.api import contract as c
from confirma_pipeline.errors import OperatorError
from confirma_pipeline.mapping.hashing import payload_hash
from confirma_pipeline.push.validation_steps import PreparedInvoices
from confirma_pipeline.warehouse.rejections import Rejection
from confirma_pipeline.warehouse.submission_ledger import LedgerEntry

POLICIES = ("refuse", "no-distribution", "as-is")
DEFAULT_POLICY = "refuse"
CHECK = "historical_invoice_policy"
REFUSE_REASON = "due date passed: choose a historical policy"


def _with_fields(body: dict, fields: dict[str, bool]) -> dict:
    for path, value in fields.items():
        *parents, leaf = path.split(".")
        node = body
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return body


@dataclass
class HistoricalPolicy:
    policy: str = DEFAULT_POLICY
    today: dt.date = field(default_factory=dt.date.today)
    after_days: int | None = None
    refused: int = 0
    sent_without_distribution: int = 0
    sent_as_is: int = 0

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise OperatorError(
                f"--historical-policy must be one of {', '.join(POLICIES)} (got {self.policy!r})"
            )
        if self.after_days is not None and self.after_days < 0:
            raise OperatorError(f"--historical-after-days must not be negative (got {self.after_days})")

    def is_historical(self, invoice_date: dt.date | None, due_date: dt.date | None) -> bool:
        if due_date is not None and due_date < self.today:
            return True
        return (
            self.after_days is not None
            and invoice_date is not None
            and invoice_date < self.today - dt.timedelta(days=self.after_days)
        )

    def reason(self) -> str:
        if self.after_days is None:
            return REFUSE_REASON
        return f"{REFUSE_REASON} (due date passed or older than {self.after_days} days)"

    def describe(self) -> str:
        rule = "due date before " + self.today.isoformat()
        if self.after_days is not None:
            rule += f" or invoice date more than {self.after_days} days before it"
        consequence = {
            "refuse": "not sent, listed with the reason",
            "no-distribution": "sent without distribution and payment control: buyers are not mailed",
            "as-is": "sent as the source says: their buyers ARE mailed again",
        }[self.policy]
        return f"historical invoices ({rule}): {self.policy}, {consequence}"

    def screen(
        self, prepared: PreparedInvoices
    ) -> tuple[PreparedInvoices, list[tuple[LedgerEntry, Rejection]]]:
        """Apply the policy to one prepared chunk: (what may be sent, with bodies rewritten where the policy
        says so; refusals as (ledger entry, rejection) pairs). Non-historical invoices pass untouched.

        A refusal keeps the entry's as-is payload hash: the nightly push computes the same one and so leaves
        the ledger row `rejected` (unsent); `release_refused` lets a later backfill's policy through."""
        entries: list[LedgerEntry] = []
        bodies: list[bytes] = []
        refusals: list[tuple[LedgerEntry, Rejection]] = []
        for entry, body in zip(prepared.entries, prepared.bodies, strict=True):
            decoded = json.loads(body)
            header = decoded.get("invoice", {}).get("header", {})
            if not self.is_historical(_date(header.get("date")), _date(header.get("dueDate"))):
                entries.append(entry)
                bodies.append(body)
            elif self.policy == "refuse":
                self.refused += 1
                reason = self.reason()
                refusals.append(
                    (
                        entry,
                        Rejection(
                            "invoice",
                            entry.invoice_id,
                            entry.source_hash or "",
                            entry.creditor_id,
                            [CHECK],
                            reason,
                        ),
                    )
                )
            elif self.policy == "no-distribution":
                self.sent_without_distribution += 1
                quiet = json.dumps(_with_fields(decoded, c.NO_DISTRIBUTION_FIELDS), separators=(",", ":"))
                encoded = quiet.encode()
                entries.append(replace(entry, payload_hash=payload_hash(encoded)))
                bodies.append(encoded)
            else:
                self.sent_as_is += 1
                entries.append(entry)
                bodies.append(body)
        return PreparedInvoices(entries, bodies, prepared.rejections), refusals

    def counts(self) -> dict[str, int]:
        return {
            "refused_by_policy": self.refused,
            "sent_without_distribution": self.sent_without_distribution,
            "historical_sent_as_is": self.sent_as_is,
        }


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
