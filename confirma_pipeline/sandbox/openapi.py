"""An OpenAPI 3.1 document of the contract as the sandbox implements it, built from api/models.py."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from confirma_pipeline.api import contract as c
from confirma_pipeline.api import models as m

REF = "#/components/schemas/{model}"

# (method, path, summary, token kind, query params [(name, type, required, description)], request, status, response)
ENDPOINTS: list[tuple[str, str, str, str, list[tuple[str, str, bool, str]], type | None, int, type | None]] = [
    ("post", c.PATH_CLIENT, "Create a new client", "provisioning", [], m.CreateClientRequest,
     c.STATUS_CREATE_CLIENT, m.CreateClientResponse),
    ("get", c.PATH_VALIDATE, "Validate access token", "client", [], None, 200, m.ValidateTokenResponse),
    ("get", c.PATH_RENEW, "Renew access token (old token invalid at once)", "client", [], None, 200,
     m.RenewTokenResponse),
    ("post", c.PATH_INVOICE, "Create an invoice", "client", [], m.SalesInvoiceRequest, c.STATUS_CREATE_INVOICE,
     m.CreateInvoiceResponse),
    ("post", c.PATH_INVOICE_ACTION, "Create invoice actions (queued)", "client", [], m.InvoiceActionsRequest,
     c.STATUS_QUEUED, m.QueuedResponse),
    ("get", c.PATH_CASE, "Retrieve case details", "client",
     [(c.Q_CASE_ID, "integer", True, "case id from the distribution records")], None, 200, m.CaseDetailsResponse),
    ("get", c.PATH_DISTRIBUTION, "Retrieve distribution information", "client",
     [(c.Q_FROM_INV_DATE, "date", False, "invoice date from"), (c.Q_TO_INV_DATE, "date", False, "invoice date to"),
      (c.Q_INVOICE_NUMBER, "integer", False, "one invoice (no 30-day default then)"),
      (c.Q_FETCH_TYPE, "string", False, "ALL | SUCCESSFUL | FAILED")], None, 200, m.DistributionResponse),
    ("get", c.PATH_PAYMENTS, "Retrieve payments (bare array)", "client",
     [(c.Q_FROM_DATE, "date", False, "payment date from"), (c.Q_TO_DATE, "date", False, "payment date to")],
     None, 200, m.PaymentsResponse),
    ("get", c.PATH_SETTLEMENTS, "Retrieve settlements (older docs: allocations[].events)", "client",
     [(c.Q_UNFETCHED_ONLY, "boolean", False, "only settlements never fetched before"),
      (c.Q_FROM_DATE, "date", False, "settlement date from"), (c.Q_TO_DATE, "date", False, "settlement date to")],
     None, 200, m.SettlementsResponse),
    ("post", c.PATH_LEDGER, "Send ledger vouchers", "client", [], m.LedgerRequest, c.STATUS_QUEUED,
     m.QueuedResponse),
    ("get", c.PATH_LEDGER, "Ledger sync status (204 when none)", "client",
     [(c.Q_FROM_DATE, "date", False, "document date from"), (c.Q_TO_DATE, "date", False, "document date to")],
     None, 200, m.LedgerStatusResponse),
    ("post", c.PATH_ACCOUNTING_PAYMENT, "Send accounting payments", "client", [], m.AccountingPaymentsRequest,
     c.STATUS_QUEUED, m.QueuedResponse),
    ("get", c.PATH_ACCOUNTING_PAYMENT, "Accounting payment sync status (204 when none)", "client",
     [(c.Q_FROM_DATE, "date", False, "payment date from"), (c.Q_TO_DATE, "date", False, "payment date to")],
     None, 200, m.AccountingPaymentStatusResponse),
    ("get", c.PATH_FINVOICE_CREDENTIALS, "Retrieve Finvoice credentials (always an array)", "client",
     [(c.Q_BUSINESS_ID, "string", True, "Finnish business id, e.g. 0646115-8")], None, 200,
     m.FinvoiceCredentialsResponse),
]  # fmt: skip

_ERRORS = {
    "400": "Validation failed: one entry per bad field (JSON path)",
    "401": "Missing, unknown or expired X-Api-Key",
    "403": "Token of the wrong kind for this endpoint",
    "429": "Rate limited (Retry-After)",
    "503": "Temporarily unavailable (Retry-After)",
}
_EXTRA_ERRORS = {
    c.PATH_INVOICE: {"409": "Duplicate invoice number for this client"},
    c.PATH_INVOICE_ACTION: {
        "402": "Refused by a business rule (case closed)",
        "404": "Unknown invoice or case",
    },
    c.PATH_CASE: {"404": "Unknown case"},
}
_PARAM_TYPES = {
    "date": {"type": "string", "format": "date"},
    "integer": {"type": "integer", "format": "int64"},
    "boolean": {"type": "boolean"},
    "string": {"type": "string"},
}


def _json_content(model: type | None) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}} if model else {}


@lru_cache(maxsize=1)
def build_openapi() -> dict[str, Any]:
    models: list[type[BaseModel]] = [m.ErrorBody]
    for *_, request, _, response in ENDPOINTS:
        models += [x for x in (request, response) if x is not None and x not in models]
    _, defs = models_json_schema([(model, "serialization") for model in models], ref_template=REF)
    schemas = defs.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, auth, params, request, status, response in ENDPOINTS:
        responses: dict[str, Any] = {
            str(status): {"description": "Success", "content": _json_content(response)}
        }
        for code, text in {**_ERRORS, **_EXTRA_ERRORS.get(path, {})}.items():
            responses[code] = {"description": text, "content": _json_content(m.ErrorBody)}
        operation: dict[str, Any] = {
            "summary": summary,
            "operationId": f"{method}_{path.removeprefix(c.PATH_PREFIX + '/').replace('/', '_').replace('-', '_')}",
            "security": [{"provisioningToken" if auth == "provisioning" else "clientToken": []}],
            "parameters": [
                {
                    "name": name,
                    "in": "query",
                    "required": required,
                    "description": text,
                    "schema": _PARAM_TYPES[kind],
                }
                for name, kind, required, text in params
            ],  # fmt: skip
            "responses": responses,
        }
        if request is not None:
            operation["requestBody"] = {"required": True, "content": _json_content(request)}
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Confirma Finance Partner API (as implemented by the confirma-pipeline sandbox)",
            "version": "1",
            "description": "SEEN parts follow the public docs; every other choice is listed in "
            "confirma_pipeline/api/contract.py.",
        },
        "servers": [{"url": url} for url in c.BASE_URLS.values()],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "provisioningToken": {"type": "apiKey", "in": "header", "name": c.API_KEY_HEADER},
                "clientToken": {"type": "apiKey", "in": "header", "name": c.API_KEY_HEADER},
            },
        },
    }
