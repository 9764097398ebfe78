"""Invoices: create an invoice (the push's hot path) and queue actions on invoices already sent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox.auth import Caller
from confirma_pipeline.sandbox.responses import error_response
from confirma_pipeline.sandbox.routes.common import client_route, json_body, queued, refuse_if
from confirma_pipeline.sandbox.service import Sandbox
from confirma_pipeline.sandbox.state import SandboxState, iso_z
from confirma_pipeline.sandbox.validation import validate_actions, validate_invoice

_JSON_HEADERS = {"content-type": "application/json"}


def routes(sandbox: Sandbox) -> list[Route]:
    return [
        client_route(sandbox, c.PATH_INVOICE, "POST", create_invoice),
        client_route(sandbox, c.PATH_INVOICE_ACTION, "POST", invoice_actions),
    ]


async def create_invoice(sandbox: Sandbox, request: Request, caller: Caller) -> Response:
    body = await json_body(request)
    errors, summary = validate_invoice(body, sandbox.strict_identifiers)
    refuse_if(errors)
    number = summary["number"]
    state = sandbox.state
    with state.lock:
        invoices = state.invoices.setdefault(caller.client_id, {})
        if number in invoices and "accepts_duplicates" not in state.variants:
            return error_response(
                c.STATUS_DUPLICATE,
                "Duplicate invoice number",
                [
                    {
                        "field": "invoice.header.number",
                        "message": f"invoice {number} already exists for this client",
                    }
                ],
            )
        now = iso_z(state.now())
        invoices[number] = _invoice_record(summary, state, now)
        state.add_journal("invoice", caller.client_id, invoiceNumber=number)
    # The answer is written by hand: this route carries the push benchmarks, and a json.dumps costs more.
    payload = (
        b'{"message":"' + c.CREATE_INVOICE_MESSAGE.encode() + b'","invoiceNumber":' + str(number).encode()
        + b',"status":"RECEIVED","receivedAt":"' + now.encode() + b'"}'
    )  # fmt: skip
    return Response(payload, status_code=c.STATUS_CREATE_INVOICE, headers=_JSON_HEADERS)


def _invoice_record(summary: dict[str, Any], state: SandboxState, now: str) -> dict[str, Any]:
    """What the sandbox keeps of an accepted invoice (JSON types only: the state is saved as JSON)."""
    interest = summary.get("interestPercentage")
    return {
        "number": summary["number"],
        "type": summary["type"],
        "invoiceDate": summary["date"].isoformat(),
        "dueDate": summary["dueDate"].isoformat(),
        "method": summary["method"],
        "distributionEnabled": summary.get("distributionEnabled") is not False,
        "paymentControl": bool(summary["paymentControlEnabled"]),
        "currency": summary["currency"],
        "grossAmount": str(summary["grossAmount"]),
        "buyerName": summary.get("buyerName"),
        "paymentReference": summary.get("paymentReference"),
        "collectionCosts": str(summary.get("collectionCosts") or "0.00"),
        "interestPercentage": str(interest) if interest is not None else None,
        "status": "RECEIVED",
        "receivedOn": state.today.isoformat(),
        "createdAt": now,
        "distributedAt": None,
        "caseId": None,
    }


async def invoice_actions(sandbox: Sandbox, request: Request, caller: Caller) -> Response:
    body = await json_body(request)
    errors, actions = validate_actions(body)
    refuse_if(errors)
    state = sandbox.state
    with state.lock:
        invoices = state.invoices.get(caller.client_id, {})
        missing, closed = [], []
        for i, action in enumerate(actions):
            data = action["data"]
            invoice = invoices.get(data["invoiceNumber"])
            if invoice is None:
                missing.append({"field": f"actions[{i}].data.invoiceNumber", "message": "unknown invoice"})
                continue
            case_id = data.get("caseId")
            if case_id is not None and case_id != invoice.get("caseId"):
                missing.append(
                    {"field": f"actions[{i}].data.caseId", "message": "unknown case for this invoice"}
                )
                continue
            case = state.cases.get(invoice.get("caseId") or -1)
            if case is not None and case["status"] == "CLOSED" and action["code"] != "COMMENT":
                closed.append({"field": f"actions[{i}].code", "message": "the case is closed"})
        if missing:
            return error_response(c.STATUS_NOT_FOUND, "Unknown invoice or case", missing)
        if closed:
            return error_response(c.STATUS_BUSINESS_RULE, "Request Failed", closed)
        for action in actions:  # JSON-safe: the state is saved as JSON (amounts kept as exact strings)
            data = {k: str(v) if isinstance(v, Decimal) else v for k, v in action["data"].items()}
            state.pending_actions.append(
                {
                    "clientIdentifier": caller.client_id,
                    "receivedOn": state.today.isoformat(),
                    **action,
                    "data": data,
                }
            )
        state.add_journal(
            "action", caller.client_id, invoiceNumbers=[a["data"]["invoiceNumber"] for a in actions],
            codes=[a["code"] for a in actions], comments=[a.get("comment") for a in actions],
        )  # fmt: skip
    return queued("Actions queued", len(actions))
