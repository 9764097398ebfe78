"""Reports: what Confirma tells the client about its invoices and money: case details, distribution, payments
and settlements. Each is a read of the state under one lock, filtered by a date window from the query."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox.auth import Caller
from confirma_pipeline.sandbox.responses import error_response, json_response
from confirma_pipeline.sandbox.routes.common import DateWindow, Refused, client_route, query_bool, query_int
from confirma_pipeline.sandbox.service import Sandbox
from confirma_pipeline.sandbox.state import iso_z
from confirma_pipeline.sandbox.variants import distribution_range, shape_distribution
from confirma_pipeline.sandbox.views import case_view, distribution_view, payment_view, settlement_view

#: fetchType -> the invoice status it selects (ALL: no filter)
_FETCH_STATUS = {"SUCCESSFUL": "DISTRIBUTED", "FAILED": "FAILED"}


def routes(sandbox: Sandbox) -> list[Route]:
    return [
        client_route(sandbox, c.PATH_CASE, "GET", case_details),
        client_route(sandbox, c.PATH_DISTRIBUTION, "GET", distribution),
        client_route(sandbox, c.PATH_PAYMENTS, "GET", payments),
        client_route(sandbox, c.PATH_SETTLEMENTS, "GET", settlements),
    ]


async def case_details(sandbox: Sandbox, request: Request, caller: Caller) -> Response:
    case_id = query_int(request, c.Q_CASE_ID, required=True)
    state = sandbox.state
    with state.lock:
        case = state.cases.get(case_id)
        if case is None or case["clientIdentifier"] != caller.client_id:
            return error_response(
                c.STATUS_NOT_FOUND, "Case not found", [{"field": c.Q_CASE_ID, "message": "unknown case"}]
            )
        return json_response({"case": case_view(case, state.today)})


async def distribution(sandbox: Sandbox, request: Request, caller: Caller) -> Response:
    asked = DateWindow.from_query(request, c.Q_FROM_INV_DATE, c.Q_TO_INV_DATE)
    number = query_int(request, c.Q_INVOICE_NUMBER)
    fetch_type = (request.query_params.get(c.Q_FETCH_TYPE) or "").upper() or None
    if fetch_type is not None and fetch_type not in c.FETCH_TYPES:
        raise Refused.field(c.Q_FETCH_TYPE, f"must be one of {', '.join(c.FETCH_TYPES)}")
    state = sandbox.state
    default = asked.unbounded and number is None
    if default:
        asked = DateWindow.last_days(state.today)
    window = DateWindow(*distribution_range(state.variants, state.today, asked.start, asked.end))
    wanted = _FETCH_STATUS.get(fetch_type or "ALL")
    with state.lock:
        invoices = state.invoices.get(caller.client_id, {})
        if number is not None:
            candidates = [invoices[number]] if number in invoices else []
        else:
            candidates = list(invoices.values())
        records = [
            distribution_view(inv, state)
            for inv in candidates
            if window.contains(inv["invoiceDate"]) and (wanted is None or inv["status"] == wanted)
        ]
    records.sort(key=lambda r: (r["invoiceDate"], r["invoiceNumber"]))
    meta = {
        "totalCount": len(records),
        "successfulCount": sum(1 for r in records if r["distributionStatus"] == "DISTRIBUTED"),
        "failedCount": sum(1 for r in records if r["distributionStatus"] == "FAILED"),
        "filtersApplied": {
            "invoiceNumber": number,
            "fromInvDate": window.start.isoformat() if window.start else None,
            "toInvDate": window.end.isoformat() if window.end else None,
            "fetchType": fetch_type,
            "defaultLast30Days": default,
        },
    }
    return json_response(shape_distribution(state.variants, {"metaData": meta, "distributions": records}))


async def payments(sandbox: Sandbox, request: Request, caller: Caller) -> Response:
    state = sandbox.state
    window = DateWindow.from_query(request, c.Q_FROM_DATE, c.Q_TO_DATE)
    if window.unbounded:
        window = DateWindow.last_days(state.today)
    client_id, contains = caller.client_id, window.contains
    with state.lock:
        rows = [
            payment_view(p)
            for p in state.payments
            if p["clientIdentifier"] == client_id and contains(p["paymentDate"])
        ]
    return json_response(rows)


async def settlements(sandbox: Sandbox, request: Request, caller: Caller) -> Response:
    unfetched_only = query_bool(request, c.Q_UNFETCHED_ONLY)
    window = DateWindow.from_query(request, c.Q_FROM_DATE, c.Q_TO_DATE)
    state = sandbox.state
    if window.unbounded and not unfetched_only:
        window = DateWindow.last_days(state.today)
    with state.lock:
        now = iso_z(state.now())
        selected = [
            s
            for s in state.settlements
            if s["clientIdentifier"] == caller.client_id
            and window.contains(s["settlementDate"])
            and not (unfetched_only and s["apiFetchDate"])
        ]
        views = [settlement_view(s) for s in selected]  # apiFetchDate as it was before this fetch
        for s in selected:
            s["apiFetchDate"] = s["apiFetchDate"] or now
    return json_response({"createdAt": now, "settlements": views})
