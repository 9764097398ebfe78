"""The partner endpoints (`/api/v1/partner/...`), answering with the shapes of api/contract.py and api/models.py."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox.accounting import public
from confirma_pipeline.sandbox.auth import Authenticator
from confirma_pipeline.sandbox.responses import error_response, json_response, no_content
from confirma_pipeline.sandbox.state import SandboxState, iso_z
from confirma_pipeline.sandbox.validation import (
    validate_accounting_payments,
    validate_actions,
    validate_client,
    validate_invoice,
    validate_ledger,
)
from confirma_pipeline.sandbox.variants import distribution_range, shape_distribution
from confirma_pipeline.validation.reference import BUSINESS_ID_SHAPE

AGENCY = "CASH-IN"
_JSON_HEADERS = {"content-type": "application/json"}


class BadRequest(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _query_date(request: Request, name: str) -> date | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(name, "must be an ISO 8601 date (YYYY-MM-DD)") from None


def _query_int(request: Request, name: str, required: bool = False) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        if required:
            raise BadRequest(name, "is required")
        return None
    try:
        return int(value)
    except ValueError:
        raise BadRequest(name, "must be an integer") from None


def _query_bool(request: Request, name: str) -> bool:
    value = (request.query_params.get(name) or "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise BadRequest(name, "must be true or false")
    return value in ("true", "1")


def _money(value: str | Decimal) -> Decimal:
    return Decimal(value)


def _range(request: Request, from_name: str, to_name: str) -> tuple[date | None, date | None]:
    start, end = _query_date(request, from_name), _query_date(request, to_name)
    if start and end and end < start:
        raise BadRequest(to_name, f"must not be before {from_name}")
    return start, end


def _in_range(day_iso: str, start: date | None, end: date | None) -> bool:
    day = day_iso[:10]
    return (start is None or day >= start.isoformat()) and (end is None or day <= end.isoformat())


class PartnerApi:
    def __init__(self, state: SandboxState, auth: Authenticator, *, strict_identifiers: bool = False) -> None:
        self.state = state
        self.auth = auth
        self.strict = strict_identifiers

    def routes(self) -> list[Route]:
        r = self._wrap
        return [
            Route(c.PATH_CLIENT, r(self.create_client), methods=["POST"]),
            Route(c.PATH_VALIDATE, r(self.validate_token), methods=["GET"]),
            Route(c.PATH_RENEW, r(self.renew_token), methods=["GET"]),
            Route(c.PATH_INVOICE, self.create_invoice, methods=["POST"]),  # hot path: no wrapper
            Route(c.PATH_INVOICE_ACTION, r(self.invoice_actions), methods=["POST"]),
            Route(c.PATH_CASE, r(self.case_details), methods=["GET"]),
            Route(c.PATH_DISTRIBUTION, r(self.distribution), methods=["GET"]),
            Route(c.PATH_PAYMENTS, r(self.payments), methods=["GET"]),
            Route(c.PATH_SETTLEMENTS, r(self.settlements), methods=["GET"]),
            Route(c.PATH_LEDGER, r(self.post_ledger), methods=["POST"]),
            Route(c.PATH_LEDGER, r(self.ledger_status), methods=["GET"]),
            Route(c.PATH_ACCOUNTING_PAYMENT, r(self.post_accounting_payments), methods=["POST"]),
            Route(c.PATH_ACCOUNTING_PAYMENT, r(self.accounting_payment_status), methods=["GET"]),
            Route(c.PATH_FINVOICE_CREDENTIALS, r(self.finvoice_credentials), methods=["GET"]),
        ]

    @staticmethod
    def _wrap(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except BadRequest as exc:
                return error_response(
                    c.STATUS_VALIDATION, "Validation failed", [{"field": exc.field, "message": exc.message}]
                )

        endpoint.__name__ = handler.__name__
        return endpoint

    @staticmethod
    async def _body(request: Request) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw, parse_float=Decimal)
        except ValueError:
            return _MALFORMED

    # --- onboarding ---------------------------------------------------------------------------------------
    async def create_client(self, request: Request) -> Response:
        denied = self.auth.provisioning(request)
        if denied is not None:
            return denied
        body = await self._body(request)
        if body is _MALFORMED:
            return _malformed()
        errors = validate_client(body, self.strict)
        if errors:
            return error_response(c.STATUS_VALIDATION, "Validation failed", errors.items)
        with self.state.lock:
            record, token = self.state.add_client(body)
            self.state.add_journal(
                "client",
                record["clientIdentifier"],
                businessCode=record["businessCode"],
                partnerCode=(body.get("service") or {}).get("partnerCode"),
            )
        return json_response(
            {
                "message": c.CREATE_CLIENT_MESSAGE,
                "clientIdentifier": record["clientIdentifier"],
                "confirmaFinanceCustomerCode": record["confirmaFinanceCustomerCode"],
                "paymentReferencePrefix": record["paymentReferencePrefix"],
                "apiAccessToken": token,
            },
            c.STATUS_CREATE_CLIENT,
        )

    async def validate_token(self, request: Request) -> Response:
        caller = self.auth.client(request, allow_expired=True)
        if isinstance(caller, Response):
            return caller
        message = c.TOKEN_EXPIRED_MESSAGE if caller.expired else c.TOKEN_VALID_MESSAGE
        return json_response(
            {"isValid": not caller.expired, "message": message, "expiresAt": caller.expires_at}
        )

    async def renew_token(self, request: Request) -> Response:
        caller = self.auth.client(request, allow_expired=True)
        if isinstance(caller, Response):
            return caller
        new_token = str(uuid.uuid4())
        with self.state.lock:
            self.state.tokens.pop(caller.token, None)  # CHOSEN: the old token dies at once
            self.state.tokens[new_token] = {"clientIdentifier": caller.client_id, "expiresAt": None}
            self.state.add_journal("renew", caller.client_id)
        return json_response({"Message": new_token})

    # --- invoices -----------------------------------------------------------------------------------------
    async def create_invoice(self, request: Request) -> Response:
        caller = self.auth.client(request)
        if isinstance(caller, Response):
            return caller
        body = await self._body(request)
        if body is _MALFORMED:
            return _malformed()
        errors, summary = validate_invoice(body, self.strict)
        if errors:
            return error_response(c.STATUS_VALIDATION, "Validation failed", errors.items)
        number = summary["number"]
        state = self.state
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
            invoices[number] = {
                "number": number,
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
                "interestPercentage": (
                    str(summary["interestPercentage"])
                    if summary.get("interestPercentage") is not None
                    else None
                ),
                "status": "RECEIVED",
                "receivedOn": state.today.isoformat(),
                "createdAt": now,
                "distributedAt": None,
                "caseId": None,
            }
            state.add_journal("invoice", caller.client_id, invoiceNumber=number)
        payload = (
            b'{"message":"' + c.CREATE_INVOICE_MESSAGE.encode() + b'","invoiceNumber":' + str(number).encode()
            + b',"status":"RECEIVED","receivedAt":"' + now.encode() + b'"}'
        )  # fmt: skip
        return Response(payload, status_code=c.STATUS_CREATE_INVOICE, headers=_JSON_HEADERS)

    async def invoice_actions(self, request: Request) -> Response:
        caller = self.auth.client(request)
        if isinstance(caller, Response):
            return caller
        body = await self._body(request)
        if body is _MALFORMED:
            return _malformed()
        errors, actions = validate_actions(body)
        if errors:
            return error_response(c.STATUS_VALIDATION, "Validation failed", errors.items)
        state = self.state
        with state.lock:
            invoices = state.invoices.get(caller.client_id, {})
            missing, closed = [], []
            for i, action in enumerate(actions):
                data = action["data"]
                invoice = invoices.get(data["invoiceNumber"])
                if invoice is None:
                    missing.append(
                        {"field": f"actions[{i}].data.invoiceNumber", "message": "unknown invoice"}
                    )
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
        return json_response({"message": "Actions queued", "queuedCount": len(actions)}, c.STATUS_QUEUED)

    async def case_details(self, request: Request) -> Response:
        caller = self.auth.client(request)
        if isinstance(caller, Response):
            return caller
        case_id = _query_int(request, c.Q_CASE_ID, required=True)
        with self.state.lock:
            case = self.state.cases.get(case_id)
            if case is None or case["clientIdentifier"] != caller.client_id:
                return error_response(
                    c.STATUS_NOT_FOUND, "Case not found", [{"field": c.Q_CASE_ID, "message": "unknown case"}]
                )
            return json_response({"case": case_view(case, self.state.today)})

    async def distribution(self, request: Request) -> Response:
        caller = self.auth.client(request)
        if isinstance(caller, Response):
            return caller
        start, end = _range(request, c.Q_FROM_INV_DATE, c.Q_TO_INV_DATE)
        number = _query_int(request, c.Q_INVOICE_NUMBER)
        fetch_type = (request.query_params.get(c.Q_FETCH_TYPE) or "").upper() or None
        if fetch_type is not None and fetch_type not in c.FETCH_TYPES:
            raise BadRequest(c.Q_FETCH_TYPE, f"must be one of {', '.join(c.FETCH_TYPES)}")
        state = self.state
        default = start is None and end is None and number is None
        if default:
            start, end = state.today - timedelta(days=c.DEFAULT_WINDOW_DAYS), state.today
        start, end = distribution_range(state.variants, state.today, start, end)
        wanted = {"SUCCESSFUL": "DISTRIBUTED", "FAILED": "FAILED"}.get(fetch_type or "ALL")
        with state.lock:
            invoices = state.invoices.get(caller.client_id, {})
            if number is not None:
                candidates = [invoices[number]] if number in invoices else []
            else:
                candidates = list(invoices.values())
            records = [
                distribution_view(inv, state)
                for inv in candidates
                if _in_range(inv["invoiceDate"], start, end) and (wanted is None or inv["status"] == wanted)
            ]
        records.sort(key=lambda r: (r["invoiceDate"], r["invoiceNumber"]))
        return json_response(
            shape_distribution(
                state.variants,
                {
                    "metaData": {
                        "totalCount": len(records),
                        "successfulCount": sum(
                            1 for r in records if r["distributionStatus"] == "DISTRIBUTED"
                        ),
                        "failedCount": sum(1 for r in records if r["distributionStatus"] == "FAILED"),
                        "filtersApplied": {
                            "invoiceNumber": number,
                            "fromInvDate": start.isoformat() if start else None,
                            "toInvDate": end.isoformat() if end else None,
                            "fetchType": fetch_type,
                            "defaultLast30Days": default,
                        },
                    },
                    "distributions": records,
                },
            )
        )

    # --- payments -----------------------------------------------------------------------------------------
    async def payments(self, request: Request) -> Response:
        caller = self.auth.client(request)
        if isinstance(caller, Response):
            return caller
        start, end = _range(request, c.Q_FROM_DATE, c.Q_TO_DATE)
        if start is None and end is None:
            start, end = self.state.today - timedelta(days=c.DEFAULT_WINDOW_DAYS), self.state.today
        with self.state.lock:
            rows = [
                payment_view(p)
                for p in self.state.payments
                if p["clientIdentifier"] == caller.client_id and _in_range(p["paymentDate"], start, end)
            ]
        return json_response(rows)

    async def settlements(self, request: Request) -> Response:
        caller = self.auth.client(request)
        if isinstance(caller, Response):
            return caller
        unfetched_only = _query_bool(request, c.Q_UNFETCHED_ONLY)
        start, end = _range(request, c.Q_FROM_DATE, c.Q_TO_DATE)
        state = self.state
        if start is None and end is None and not unfetched_only:
            start, end = state.today - timedelta(days=c.DEFAULT_WINDOW_DAYS), state.today
        with state.lock:
            now = iso_z(state.now())
            selected = [
                s
                for s in state.settlements
                if s["clientIdentifier"] == caller.client_id
                and _in_range(s["settlementDate"], start, end)
                and not (unfetched_only and s["apiFetchDate"])
            ]
            views = [settlement_view(s) for s in selected]  # apiFetchDate as it was before this fetch
            for s in selected:
                s["apiFetchDate"] = s["apiFetchDate"] or now
        return json_response({"createdAt": now, "settlements": views})

    # --- accounting ---------------------------------------------------------------------------------------
    async def post_ledger(self, request: Request) -> Response:
        caller = self.auth.client(request)
        if isinstance(caller, Response):
            return caller
        body = await self._body(request)
        if body is _MALFORMED:
            return _malformed()
        errors = validate_ledger(body)
        if errors:
            return error_response(c.STATUS_VALIDATION, "Validation failed", errors.items)
        ledger = body["ledgers"]
        with self.state.lock:
            self.state.ledgers.setdefault(caller.client_id, []).append(
                {
                    "sourceIdentifier": ledger["ledgerIdentifier"],
                    "documentDate": ledger["documentDate"],
                    "documentName": ledger.get("documentName"),
                    "documentStatus": "Approved",
                    "syncDate": None,
                    "status": c.SYNC_PENDING,
                    "description": c.SYNC_DESCRIPTIONS[c.SYNC_PENDING],
                }
            )
            self.state.add_journal("ledger", caller.client_id, sourceIdentifier=ledger["ledgerIdentifier"])
        return json_response({"message": "Ledger queued", "queuedCount": 1}, c.STATUS_QUEUED)

    async def ledger_status(self, request: Request) -> Response:
        caller = self.auth.client(request)
        if isinstance(caller, Response):
            return caller
        start, end = _range(request, c.Q_FROM_DATE, c.Q_TO_DATE)
        with self.state.lock:
            rows = [
                public(row)
                for row in self.state.ledgers.get(caller.client_id, [])
                if _in_range(row["documentDate"], start, end)
            ]
        return json_response({"ledgers": rows}) if rows else no_content()

    async def post_accounting_payments(self, request: Request) -> Response:
        caller = self.auth.client(request)
        if isinstance(caller, Response):
            return caller
        body = await self._body(request)
        if body is _MALFORMED:
            return _malformed()
        errors = validate_accounting_payments(body)
        if errors:
            return error_response(c.STATUS_VALIDATION, "Validation failed", errors.items)
        with self.state.lock:
            target = self.state.accounting_payments.setdefault(caller.client_id, [])
            for payment in body["payments"]:
                target.append(
                    {
                        "sourceIdentifier": payment["paymentIdentifier"],
                        "invoiceNumber": payment["invoiceNumber"],
                        "paymentDate": payment["paymentDate"],
                        "syncDate": None,
                        "status": c.SYNC_PENDING,
                        "description": c.SYNC_DESCRIPTIONS[c.SYNC_PENDING],
                    }
                )
            self.state.add_journal(
                "accounting_payment",
                caller.client_id,
                sourceIdentifiers=[p["paymentIdentifier"] for p in body["payments"]],
            )
        return json_response(
            {"message": "Payments queued", "queuedCount": len(body["payments"])}, c.STATUS_QUEUED
        )

    async def accounting_payment_status(self, request: Request) -> Response:
        caller = self.auth.client(request)
        if isinstance(caller, Response):
            return caller
        start, end = _range(request, c.Q_FROM_DATE, c.Q_TO_DATE)
        with self.state.lock:
            rows = [
                public(row)
                for row in self.state.accounting_payments.get(caller.client_id, [])
                if _in_range(row["paymentDate"], start, end)
            ]
        return json_response({"payments": rows}) if rows else no_content()

    # --- operations ---------------------------------------------------------------------------------------
    async def finvoice_credentials(self, request: Request) -> Response:
        caller = self.auth.client(request)
        if isinstance(caller, Response):
            return caller
        business_id = request.query_params.get(c.Q_BUSINESS_ID) or ""
        if not business_id:
            raise BadRequest(c.Q_BUSINESS_ID, "is required")
        if not re.fullmatch(BUSINESS_ID_SHAPE, business_id):
            raise BadRequest(c.Q_BUSINESS_ID, "must look like a Finnish business id (1234567-8)")
        return json_response(finvoice_view(business_id, self.state))


class _Malformed:
    pass


_MALFORMED = _Malformed()


def _malformed() -> Response:
    return error_response(
        c.STATUS_VALIDATION, "Malformed JSON body", [{"field": "", "message": "body is not valid JSON"}]
    )


# --- views (state record -> API shape) ------------------------------------------------------------------------
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
        "amount": _money(payment["amount"]),
        "currency": payment["currency"],
    }


def settlement_view(settlement: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in settlement.items() if k != "clientIdentifier"}
    view["settlementAmount"] = _money(settlement["settlementAmount"])
    view["allocations"] = [
        {
            **allocation,
            "allocatedTotalAmount": _money(allocation["allocatedTotalAmount"]),
            "breakdown": [
                {"type": b["type"], "amount": _money(b["amount"])} for b in allocation["breakdown"]
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
