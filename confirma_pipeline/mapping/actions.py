"""A validated invoice-action row -> one entry of the `POST /invoice/action` body (api/models.InvoiceAction).

Each code carries the data fields it needs and no others (section 2.5 of the API reference shows the fields per
code); `invoiceNumber` and `caseId` are integers, money a JSON number with 2 decimals, dates ISO 8601.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pandas as pd

from confirma_pipeline.api.contract import round_money
from confirma_pipeline.mapping.hashing import payload_hash

#: data fields beyond invoiceNumber/caseId, per code: body name -> (column, kind)
DATA_FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "DUEDATE": {"dueDate": ("due_date", "date")},
    "DIRECTPAYMENT": {
        "paymentMethod": ("payment_method", "str"),
        "amount": ("amount", "money"),
        "currency": ("currency", "str"),
        "paymentDate": ("payment_date", "date"),
        "reference": ("reference", "str"),
        "outstandingCapitalAmount": ("outstanding_capital_amount", "money"),
        "outstandingInterestAmount": ("outstanding_interest_amount", "money"),
        "outstandingCostsAmount": ("outstanding_costs_amount", "money"),
    },
}


def _value(value: Any, kind: str) -> Any:
    if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
        return None
    if kind == "date":
        return pd.Timestamp(value).date().isoformat()
    if kind == "money":
        return float(round_money(Decimal(repr(float(value)))))
    return str(value)


def action_body(row: Mapping[str, Any], invoice_number: int, case_id: int) -> dict[str, Any]:
    """One action as the API takes it."""
    code = str(row["code"])
    data: dict[str, Any] = {"invoiceNumber": int(invoice_number), "caseId": int(case_id)}
    for name, (column, kind) in DATA_FIELDS.get(code, {}).items():
        value = _value(row.get(column), kind)
        if value is not None:
            data[name] = value
    body: dict[str, Any] = {"code": code}
    comment = _value(row.get("comment"), "str")
    if comment is not None:
        body["comment"] = comment
    body["data"] = data
    return body


def request_body(action: dict[str, Any]) -> dict[str, Any]:
    """The request: one action per request (see api/contract.py for why)."""
    return {"actions": [action]}


def action_hash(action: dict[str, Any]) -> str:
    return payload_hash(action)


def effect_shown(action: Mapping[str, Any], case) -> bool:
    """Whether the case details (`api.models.CaseDetails`) positively show this action's effect, as
    api/contract.py ACTION_EFFECTS chooses. Only a positive match counts: an absent effect proves nothing
    (the agency may not have processed the queue yet), so it never means "not sent"."""
    from confirma_pipeline.api import contract as c

    code, data = action.get("code"), action.get("data", {})
    summary = case.summary
    if code == "WITHDRAW":
        return summary.status == "CLOSED" and summary.stage == c.STAGE_WITHDRAWN
    if code == "PAUSE":
        return summary.paused is True
    if code == "DUEDATE":
        return summary.due_date is not None and summary.due_date.isoformat() == data.get("dueDate")
    if code == "PAYMENTPLAN":
        return summary.stage == c.STAGE_PAYMENT_PLAN
    if code == "OBJECTION":
        return summary.stage == c.STAGE_OBJECTION
    if code == "DIRECTPAYMENT":
        # without a reference two payments of one amount could not be told apart: no positive match
        return data.get("reference") is not None and any(
            p.reference == data.get("reference")
            and p.amount is not None
            and float(p.amount) == float(data.get("amount", "nan"))
            for p in case.direct_payments
        )
    return False


def action_for_change(case_id, source_due_date, case_due_date, case_status) -> str:
    """Which invoice action would carry a change made to an invoice after it was submitted (the invoice itself
    is never resent). Only the due date maps to a code of its own; the rest is said with a comment."""
    if case_id is None:
        return "none yet: the invoice has no case (actions need its case id)"
    if case_status == "CLOSED":
        return "none: the case is closed"
    if case_due_date is not None and source_due_date is not None and source_due_date != case_due_date:
        return f"DUEDATE (case due {case_due_date}, the source now says {source_due_date})"
    return "COMMENT, or a credit note for an amount change (DIRECTPAYMENT if the buyer paid the creditor)"
