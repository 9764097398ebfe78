"""State record -> API shape: the bodies the report routes answer with (api/models.py describes them).

The state keeps amounts as exact decimal strings (it is saved as JSON); a view turns them into numbers.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from confirma_pipeline.sandbox.state import SandboxState, iso_z

AGENCY = "CASH-IN"


def _money(value: str | Decimal) -> Decimal:
    """An amount to compute with (case balances add them up)."""
    return Decimal(value)


def _number(value: str) -> float:
    """An amount only to be shown: a float, which the JSON encoder writes natively, where a Decimal costs a
    call of the encoder's `default` each. The same digits go out: a Decimal is encoded as float(Decimal(s)),
    which is float(s). On a 100k-row payments answer this is the larger part of the time."""
    return float(value)


def case_view(case: dict[str, Any], today: date) -> dict[str, Any]:
    capital, interest, costs = _money(case["capital"]), _money(case["interest"]), _money(case["costs"])
    end = date.fromisoformat(case["closedAt"]) if case["closedAt"] else today
    created = date.fromisoformat(case["createdAt"][:10])
    return {
        "summary": {
            "caseId": case["caseId"],
            "status": case["status"],
            "stage": case["stage"],
            "createdAt": case["createdAt"],
            "closedAt": case["closedAt"],
            "activeDays": max(0, (end - created).days),
            "creditor": case["creditor"],
            "currency": case["currency"],
            "agency": AGENCY,
            "invoiceNumber": case["invoiceNumber"],
            "dueDate": case["dueDate"],
            "paused": bool(case.get("paused")),
        },
        "balance": {
            "capitalAmount": capital,
            "interestAmount": interest,
            "costsAmount": costs,
            "totalAmount": capital + interest + costs,
        },
        "directPayments": [
            {**p, "amount": _money(p["amount"]) if p.get("amount") is not None else None}
            for p in case.get("directPayments", [])
        ],
    }


def distribution_view(invoice: dict[str, Any], state: SandboxState) -> dict[str, Any]:
    case = state.cases.get(invoice["caseId"]) if invoice["caseId"] else None
    if case is not None:
        control = case["stage"]
    elif invoice["paymentControl"] and invoice["status"] == "RECEIVED":
        control = "PENDING"
    else:
        control = None
    return {
        "invoiceNumber": invoice["number"],
        "invoiceDate": invoice["invoiceDate"],
        "distributionMethod": invoice["method"],
        "distributionStatus": invoice["status"],
        "distributedAt": invoice["distributedAt"],
        "paymentControlStatus": control,
        "caseId": invoice["caseId"],
        "createdAt": invoice["createdAt"],
    }


def payment_view(payment: dict[str, Any]) -> dict[str, Any]:
    return {
        "caseId": payment["caseId"],
        "invoiceNumber": payment["invoiceNumber"],
        "invoicePaymentReference": payment["invoicePaymentReference"],
        "originalPaymentReference": payment["originalPaymentReference"],
        "accountName": payment["accountName"],
        "bookingDate": payment["bookingDate"],
        "paymentDate": payment["paymentDate"],
        "amount": _number(payment["amount"]),
        "currency": payment["currency"],
    }


def settlement_view(settlement: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in settlement.items() if k != "clientIdentifier"}
    view["settlementAmount"] = _number(settlement["settlementAmount"])
    view["allocations"] = [
        {
            **allocation,
            "allocatedTotalAmount": _number(allocation["allocatedTotalAmount"]),
            "breakdown": [
                {"type": b["type"], "amount": _number(b["amount"])} for b in allocation["breakdown"]
            ],
        }
        for allocation in settlement["allocations"]
    ]
    return view


def finvoice_view(business_id: str, state: SandboxState) -> list[dict[str, Any]]:
    """Deterministic fake look-up: 0, 1 or 2 addresses depending on the business id's digits."""
    digits = business_id.replace("-", "")
    count = int(digits) % 3
    modified = iso_z(state.day_start(state.today - timedelta(days=int(digits[-3:]) % 365)))
    entries = [
        {
            "eInvoiceAddressName": f"Company {business_id}",
            "eInvoiceAddress": "0037" + digits,
            "eInvoiceAddressType": "EDI",
            "eInvoiceOperatorId": "003721291126",
            "eInvoiceOperatorName": "Maventa",
            "lastModified": modified,
        },
        {
            "eInvoiceAddressName": f"Company {business_id} (bank)",
            "eInvoiceAddress": "FI" + digits.rjust(16, "0"),
            "eInvoiceAddressType": "IBAN",
            "eInvoiceOperatorId": "NDEAFIHH",
            "eInvoiceOperatorName": "Nordea",
            "lastModified": modified,
        },
    ]
    return entries[:count]
