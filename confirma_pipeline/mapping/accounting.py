"""Accounting rows -> request bodies, and sync-status answers -> rows of `confirma.accounting_sync`.

One voucher is one POST body (`ledgers` is a single object, SEEN); payments are grouped into the
`payments` list by the push. Field names and nulls follow the docs' examples exactly: optional text is
sent as null when absent, `vatCode` as "" (as the example shows), amounts as JSON numbers with 2 decimals.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from typing import Any

import pandas as pd


def _text(value: Any) -> str | None:
    return (
        None
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA
        else str(value)
    )


def _day(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date().isoformat()


def _money(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return round(float(value), 2)


def _percent(value: Any) -> float:
    return 0.0 if value is None or pd.isna(value) else float(value)


def voucher_bodies(
    vouchers: pd.DataFrame, rows: pd.DataFrame, dimensions: pd.DataFrame
) -> dict[tuple[str, str], dict]:
    """(creditor_id, ledger_identifier) -> the POST accounting/ledger body of that voucher."""
    key = ["creditor_id", "ledger_identifier"]
    dims: dict[tuple, list[dict]] = {}
    for rec in dimensions.to_dict("records"):
        dims.setdefault((rec["creditor_id"], rec["ledger_identifier"], rec["row_number"]), []).append(
            {"dimensionType": _text(rec["dimension_type"]), "dimensionValue": _text(rec["dimension_value"])}
        )
    ledger_rows: dict[tuple, list[dict]] = {}
    for rec in rows.to_dict("records"):
        ledger_rows.setdefault((rec["creditor_id"], rec["ledger_identifier"]), []).append(
            {
                "bookingDate": _day(rec["booking_date"]),
                "accountNumber": _text(rec["account_number"]),
                "vatAccountNumber": _text(rec["vat_account_number"]),
                "vatType": _text(rec["vat_type"]),
                "vatPercentage": _percent(rec["vat_percentage"]),
                "vatCode": _text(rec["vat_code"]) or "",
                "amount": _money(rec["amount"]),
                "netAmount": _money(rec["net_amount"]),
                "isVatRow": None if pd.isna(rec["is_vat_row"]) else int(rec["is_vat_row"]),
                "projectNumber": _text(rec["project_number"]),
                "transactionType": _text(rec["transaction_type"]),
                "transactionDescription": _text(rec["transaction_description"]),
                "ledgerDimensions": dims.get(
                    (rec["creditor_id"], rec["ledger_identifier"], rec["row_number"]), []
                ),
            }
        )
    bodies = {}
    for rec in vouchers.to_dict("records"):
        item = tuple(rec[k] for k in key)
        bodies[item] = {
            "ledgers": {
                "ledgerIdentifier": rec["ledger_identifier"],
                "companyIdentifier": _text(rec["company_identifier"]),
                "documentType": _text(rec["document_type"]),
                "documentName": _text(rec["document_name"]),
                "documentDate": _day(rec["document_date"]),
                "documentDescription": _text(rec["document_description"]),
                "calculationMode": _text(rec["calculation_mode"]),
                "ledgerRows": ledger_rows.get(item, []),
            }
        }
    return bodies


def payment_items(payments: pd.DataFrame) -> dict[tuple[str, str], dict]:
    """(creditor_id, payment_identifier) -> one element of the POST accounting/payment `payments` list."""
    return {
        (rec["creditor_id"], rec["payment_identifier"]): {
            "paymentIdentifier": rec["payment_identifier"],
            "invoiceNumber": _text(rec["invoice_number"]),
            "paymentDate": _day(rec["payment_date"]),
            "bookingDate": _day(rec["booking_date"]),
            "amount": _money(rec["amount"]),
            "currency": _text(rec["currency"]),
            "targetIdentifier": _text(rec["target_identifier"]),
            "paymentReference": _text(rec["payment_reference"]),
            "sourceName": _text(rec["source_name"]),
        }
        for rec in payments.to_dict("records")
    }


def item_date(body: dict) -> date:
    """The date the status endpoints filter on: documentDate of a voucher, paymentDate of a payment."""
    inner = body.get("ledgers", body)
    return date.fromisoformat(inner.get("documentDate") or inner["paymentDate"])


def sync_rows(creditor_id: str, kind: str, statuses: Iterable) -> list[tuple]:
    """Rows of `confirma.accounting_sync` from a ledger or payment status answer (pydantic models)."""
    out = []
    for s in statuses:
        out.append(
            (
                creditor_id,
                kind,
                s.source_identifier,
                getattr(s, "document_name", None),
                getattr(s, "invoice_number", None),
                getattr(s, "document_status", None),
                getattr(s, "document_date", None) or getattr(s, "payment_date", None),
                s.sync_date,
                int(s.status),
                s.description,
            )
        )
    return out
