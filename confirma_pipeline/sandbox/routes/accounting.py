"""Accounting: items Confirma passes on to the client's accounting system (ledger vouchers, payments).

Both kinds have one shape, so each is described as data (`SyncQueue`) and served by one pair of routes: a POST
that validates and queues the items as pending, and a GET that lists their sync statuses in a date window
(204 when there are none). How queued items later sync or fail is simulated in `sandbox/accounting.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox.accounting import public
from confirma_pipeline.sandbox.auth import Caller
from confirma_pipeline.sandbox.responses import json_response, no_content
from confirma_pipeline.sandbox.routes.common import DateWindow, client_route, json_body, queued, refuse_if
from confirma_pipeline.sandbox.service import Sandbox
from confirma_pipeline.sandbox.validation import Errors, validate_accounting_payments, validate_ledger


@dataclass(frozen=True)
class SyncQueue:
    """One kind of item queued for the accounting system, and where the sandbox keeps it."""

    path: str
    validate: Callable[[Any], Errors]
    #: the body -> the items it queues
    items: Callable[[dict[str, Any]], list[dict[str, Any]]]
    #: an item -> its status record, before the sync fields (syncDate, status, description)
    record: Callable[[dict[str, Any]], dict[str, Any]]
    #: the items -> what the journal notes of them
    journal: Callable[[list[dict[str, Any]]], dict[str, Any]]
    journal_kind: str
    store: str  # the SandboxState attribute: client id -> status records
    date_key: str  # the record's date the GET's window filters on
    answer_key: str  # the GET's list key
    queued_message: str


LEDGER = SyncQueue(
    path=c.PATH_LEDGER,
    validate=validate_ledger,
    items=lambda body: [body["ledgers"]],
    record=lambda ledger: {
        "sourceIdentifier": ledger["ledgerIdentifier"],
        "documentDate": ledger["documentDate"],
        "documentName": ledger.get("documentName"),
        "documentStatus": "Approved",
    },
    journal=lambda ledgers: {"sourceIdentifier": ledgers[0]["ledgerIdentifier"]},
    journal_kind="ledger",
    store="ledgers",
    date_key="documentDate",
    answer_key="ledgers",
    queued_message="Ledger queued",
)
PAYMENTS = SyncQueue(
    path=c.PATH_ACCOUNTING_PAYMENT,
    validate=validate_accounting_payments,
    items=lambda body: body["payments"],
    record=lambda payment: {
        "sourceIdentifier": payment["paymentIdentifier"],
        "invoiceNumber": payment["invoiceNumber"],
        "paymentDate": payment["paymentDate"],
    },
    journal=lambda payments: {"sourceIdentifiers": [p["paymentIdentifier"] for p in payments]},
    journal_kind="accounting_payment",
    store="accounting_payments",
    date_key="paymentDate",
    answer_key="payments",
    queued_message="Payments queued",
)
QUEUES = (LEDGER, PAYMENTS)


def routes(sandbox: Sandbox) -> list[Route]:
    return [route for queue in QUEUES for route in _queue_routes(sandbox, queue)]


def _queue_routes(sandbox: Sandbox, queue: SyncQueue) -> list[Route]:
    async def post(sandbox: Sandbox, request: Request, caller: Caller) -> Response:
        body = await json_body(request)
        refuse_if(queue.validate(body))
        items = queue.items(body)
        pending = {
            "syncDate": None,
            "status": c.SYNC_PENDING,
            "description": c.SYNC_DESCRIPTIONS[c.SYNC_PENDING],
        }
        state = sandbox.state
        with state.lock:
            getattr(state, queue.store).setdefault(caller.client_id, []).extend(
                {**queue.record(item), **pending} for item in items
            )
            state.add_journal(queue.journal_kind, caller.client_id, **queue.journal(items))
        return queued(queue.queued_message, len(items))

    async def status(sandbox: Sandbox, request: Request, caller: Caller) -> Response:
        window = DateWindow.from_query(request, c.Q_FROM_DATE, c.Q_TO_DATE)
        state = sandbox.state
        with state.lock:
            rows = [
                public(row)
                for row in getattr(state, queue.store).get(caller.client_id, [])
                if window.contains(row[queue.date_key])
            ]
        return json_response({queue.answer_key: rows}) if rows else no_content()

    post.__name__ = f"queue_{queue.store}"
    status.__name__ = f"{queue.store}_status"
    return [
        client_route(sandbox, queue.path, "POST", post),
        client_route(sandbox, queue.path, "GET", status),
    ]
