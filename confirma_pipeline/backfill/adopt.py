"""Adopting what Confirma already has: invoices of a client onboarded by hand (sent by another system, or
before this pipeline) are registered in the ledger as `submitted` with origin `adopted`, without a POST.

What Confirma has comes from the client's distribution records (one per invoice number it accepted): read
from `confirma.distribution` after a pull in a real run, or straight from the API (in memory) in a preview,
so a preview writes nothing. A source invoice is adopted when its (creditor, number) is among them and the
ledger does not hold it already; a number held by two source invoices is ambiguous and is not adopted (the
push then refuses the second one as a reused number). Distribution records with no source row at all are
listed ("orphans"): Confirma bills something the warehouse does not know.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import psycopg

from confirma_pipeline.pull.window import Window
from confirma_pipeline.warehouse import receivables, submission_ledger
from confirma_pipeline.warehouse.rejections import resolve_rejections

ADOPTED_PAYLOAD_HASH = "adopted: not sent by this pipeline"
ORPHANS_SHOWN = 50  # numbers listed in metadata and output; the count is always complete


@dataclass(frozen=True)
class AtConfirma:
    """What a distribution record tells of one invoice number."""

    case_id: int | None
    created_at: dt.datetime | None


@dataclass
class AdoptionPlan:
    adopt: list[tuple[str, int]] = field(default_factory=list)  # (invoice_id, invoice_number)
    already_in_ledger: int = 0  # at Confirma and already registered (sent or adopted earlier)
    ambiguous: list[int] = field(default_factory=list)  # numbers of two source invoices: not adopted
    orphans: list[int] = field(default_factory=list)  # at Confirma, no source row

    def counts(self) -> dict[str, int]:
        return {
            "adopted": len(self.adopt),
            "adopted_earlier_or_sent": self.already_in_ledger,
            "ambiguous_numbers": len(self.ambiguous),
            "orphan_distribution_records": len(self.orphans),
        }

    def orphans_text(self) -> str:
        shown = ", ".join(str(n) for n in self.orphans[:ORPHANS_SHOWN])
        more = len(self.orphans) - ORPHANS_SHOWN
        return shown + (f" and {more} more" if more > 0 else "")


def known_from_records(records) -> dict[int, AtConfirma]:
    """From API distribution records (a preview: nothing is written)."""
    return {int(r.invoice_number): AtConfirma(r.case_id, getattr(r, "created_at", None)) for r in records}


def known_from_table(conn: psycopg.Connection, creditor_id: str, window: Window) -> dict[int, AtConfirma]:
    """From `confirma.distribution`, records of invoices dated in `window` (after a distribution pull)."""
    rows = receivables.distribution_records(conn, creditor_id, window.start, window.end)
    return {int(n): AtConfirma(case_id, created_at) for n, case_id, created_at in rows}


def plan_adoption(
    conn: psycopg.Connection,
    invoices_relation: str,
    creditor_id: str,
    window: Window,
    known: Mapping[int, AtConfirma],
) -> AdoptionPlan:
    """Which source invoices of the window to adopt, which numbers are orphans. Reads only."""
    plan = AdoptionPlan()
    if not known:
        return plan
    rows = submission_ledger.adoption_candidates(
        conn, invoices_relation, creditor_id, window.start, window.end, sorted(known)
    )
    with_source = set()
    for invoice_id, number, in_window, copies, ledger_id, state in rows:
        with_source.add(int(number))
        if not in_window:
            continue
        if copies > 1:
            if int(number) not in plan.ambiguous:
                plan.ambiguous.append(int(number))
        elif ledger_id is not None and (
            ledger_id != invoice_id or state not in ("pending", "failed", "rejected")
        ):
            plan.already_in_ledger += 1
        else:
            plan.adopt.append((invoice_id, int(number)))
    plan.orphans = sorted(n for n in known if n not in with_source)
    return plan


def apply_adoption(
    conn: psycopg.Connection,
    invoices_relation: str,
    rows_relation: str,
    creditor_id: str,
    plan: AdoptionPlan,
    known: Mapping[int, AtConfirma],
    run_id: str | None,
) -> int:
    """Register the plan's invoices as submitted (origin `adopted`) in one transaction; returns how many.

    Their source hash is stored like a sent invoice's, so a later change of the source row is flagged
    "changed after submission" (and not resent) exactly as for invoices the pipeline sent itself."""
    if not plan.adopt:
        return 0
    ids = [invoice_id for invoice_id, _ in plan.adopt]
    snapshots = submission_ledger.source_snapshots(conn, invoices_relation, rows_relation, ids)
    with conn.transaction():
        done = submission_ledger.register_adopted(
            conn,
            creditor_id,
            [
                submission_ledger.Adopted(
                    invoice_id,
                    number,
                    snapshots[invoice_id].source_hash if invoice_id in snapshots else None,
                    snapshots[invoice_id].updated_at if invoice_id in snapshots else None,
                    known[number].case_id,
                    known[number].created_at,
                )
                for invoice_id, number in plan.adopt
            ],
            ADOPTED_PAYLOAD_HASH,
            run_id,
        )
        resolve_rejections(conn, "invoice", ids)  # it is at Confirma: earlier refusals of it are moot
    return done


def release_refused(
    conn: psycopg.Connection, invoices_relation: str, creditor_id: str, window: Window, reason_prefix: str
) -> int:
    """Put this client's invoices of `window` refused by the historical policy back to `pending`, for a
    backfill whose policy is `as-is` (its body is the refused one, so the ledger would otherwise keep it).

    Only for `as-is`: a row left pending by a crash right after this is sent as-is by the next run, which is
    what the operator chose. `no-distribution` needs no release (its body differs, so registering it flips
    the row), and releasing for it would risk exactly that as-is send."""
    with conn.transaction():
        return submission_ledger.release_refused(
            conn, invoices_relation, creditor_id, window.start, window.end, reason_prefix
        )
