"""Validate and map one batch of rows, turning every failure into a `Rejection` with its reason.

Shared by onboarding and invoice submission so both quarantine bad rows the same way: a bad row
is explained and kept out, the good rows in the same batch go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from confirma_pipeline.validation.conform import RelationError
from confirma_pipeline.warehouse import submission_ledger
from confirma_pipeline.warehouse.rejections import Rejection

DUPLICATE_NUMBER_CHECK = "invoice_number_not_used_by_another_invoice"


def _rejections(rejected_df: pd.DataFrame, hashes: dict[str, str] | None = None) -> list[Rejection]:
    out = []
    has_creditor = "creditor_id" in rejected_df.columns
    for rec in rejected_df.to_dict("records"):
        key = str(rec["entity_key"])
        creditor = rec.get("creditor_id") if has_creditor else None
        out.append(
            Rejection(
                entity=rec["entity"],
                entity_key=key,
                content_hash=(hashes or {}).get(rec.get("invoice_id", key), "") or "",
                creditor_id=None if creditor is None or pd.isna(creditor) else str(creditor),
                checks=list(rec["checks"]),
                reason=str(rec["reason"]),
            )
        )
    return out


@dataclass
class PreparedCreditors:
    ids: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    bodies: list[dict] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def sendable(self):
        return zip(self.ids, self.hashes, self.bodies, strict=True)


def prepare_creditors(
    creditors_df: pd.DataFrame,
    partner_code: str | None = None,
    *,
    relation: str = "confirma_source.creditors",
) -> PreparedCreditors:
    """Validate and map creditors. `partner_code` (CONFIRMA_PARTNER_CODE) fills a blank partner_code
    before both, so the content hash covers the code sent and a still-blank one is rejected. A failure of
    the whole relation names `relation`."""
    from confirma_pipeline.mapping.clients import client_bodies
    from confirma_pipeline.mapping.hashing import payload_hash
    from confirma_pipeline.validation.creditors import CreditorModel
    from confirma_pipeline.validation.reasons import validate_with_reasons

    if creditors_df.empty:
        return PreparedCreditors()
    if partner_code:
        blank = creditors_df["partner_code"].fillna("").str.strip() == ""
        creditors_df = creditors_df.assign(
            partner_code=creditors_df["partner_code"].where(~blank, partner_code)
        )
    all_bodies = dict(zip(creditors_df["creditor_id"].tolist(), client_bodies(creditors_df), strict=True))
    hashes = {cid: payload_hash(body) for cid, body in all_bodies.items()}
    try:
        # a rejected creditor is recorded under its body's hash (below), not its row's: no row hashes here
        outcome = validate_with_reasons(
            CreditorModel, creditors_df, ["creditor_id"], entity="creditor", content_hashes=False
        )
    except RelationError as exc:
        raise exc.naming(relation) from None
    rejected = outcome.rejected_df.assign(creditor_id=outcome.rejected_df["entity_key"])
    valid_ids = outcome.valid_df["creditor_id"].tolist()
    return PreparedCreditors(
        ids=valid_ids,
        hashes=[hashes[c] for c in valid_ids],
        bodies=[all_bodies[c] for c in valid_ids],
        rejections=_rejections(rejected, hashes),
    )


@dataclass
class PreparedInvoices:
    entries: list[submission_ledger.LedgerEntry] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)  # encoded once: hashed and sent as these bytes
    rejections: list[Rejection] = field(default_factory=list)


def prepare_invoices(conn, invoices_df, rows_df, creditors_df, relations) -> PreparedInvoices:
    """Validate a chunk of invoices with their rows, map the valid ones and hash both the source
    (to detect changes after submission) and the body. Reused invoice numbers are refused later,
    by `refuse_reused_numbers`, right before the chunk is registered."""
    from confirma_pipeline.api.client import encode_body
    from confirma_pipeline.mapping.hashing import payload_hash
    from confirma_pipeline.mapping.invoices import invoice_bodies
    from confirma_pipeline.validation.reasons import validate_invoices

    if invoices_df.empty:
        return PreparedInvoices()
    snapshots = submission_ledger.source_snapshots(
        conn, relations.invoices, relations.invoice_rows, invoices_df["invoice_id"].tolist()
    )
    source = {invoice_id: snapshot.source_hash for invoice_id, snapshot in snapshots.items()}
    try:
        # rejected invoices are recorded under the source hash read above: validation hashes nothing
        result = validate_invoices(invoices_df, rows_df, content_hashes=False)
    except RelationError as exc:
        raise exc.naming(
            relations.invoice_rows if exc.entity == "invoice_row" else relations.invoices
        ) from None
    rejections = _rejections(result.rejected_df, source)
    valid = result.valid_invoices
    bodies = [encode_body(body) for body in invoice_bodies(valid, result.valid_rows, creditors_df)]
    missing = submission_ledger.SourceSnapshot(
        None, None
    )  # a source row deleted since it was read: nothing to record
    entries = [
        submission_ledger.LedgerEntry(
            invoice_id,
            creditor_id,
            int(number),
            payload_hash(body),
            snapshots.get(invoice_id, missing).source_hash,
            snapshots.get(invoice_id, missing).updated_at,
        )
        for invoice_id, creditor_id, number, body in zip(
            valid["invoice_id"].tolist(),
            valid["creditor_id"].tolist(),
            valid["invoice_number"].tolist(),
            bodies,
            strict=True,
        )
    ]
    return PreparedInvoices(entries=entries, bodies=bodies, rejections=rejections)


def refuse_reused_numbers(conn, prepared: PreparedInvoices) -> PreparedInvoices:
    """Move to the rejections every invoice whose (creditor, number) the ledger already holds under
    another invoice id: sending it would bill a number twice. Run just before registering the
    chunk (on the thread that registers), so earlier chunks of the same run are seen too."""
    duplicates = submission_ledger.duplicate_numbers(conn, prepared.entries)
    if not duplicates:
        return prepared
    keep = [i for i, e in enumerate(prepared.entries) if e.invoice_id not in duplicates]
    refused = [
        Rejection(
            "invoice",
            e.invoice_id,
            e.source_hash or "",
            e.creditor_id,
            [DUPLICATE_NUMBER_CHECK],
            f"invoice_number {e.invoice_number} was already submitted for creditor {e.creditor_id} "
            f"under another invoice id (fails {DUPLICATE_NUMBER_CHECK})",
        )
        for e in prepared.entries
        if e.invoice_id in duplicates
    ]
    return PreparedInvoices(
        entries=[prepared.entries[i] for i in keep],
        bodies=[prepared.bodies[i] for i in keep],
        rejections=prepared.rejections + refused,
    )
