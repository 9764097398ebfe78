"""Clients: create a client (provisioning token), validate and renew its access token, look up the Finvoice
(e-invoice) addresses of a business id."""

from __future__ import annotations

import re
import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox.auth import Caller
from confirma_pipeline.sandbox.responses import json_response
from confirma_pipeline.sandbox.routes.common import (
    Refused,
    client_route,
    json_body,
    provisioning_route,
    refuse_if,
)
from confirma_pipeline.sandbox.service import Sandbox
from confirma_pipeline.sandbox.validation import validate_client
from confirma_pipeline.sandbox.views import finvoice_view
from confirma_pipeline.validation.reference import BUSINESS_ID_SHAPE


def routes(sandbox: Sandbox) -> list[Route]:
    return [
        provisioning_route(sandbox, c.PATH_CLIENT, "POST", create_client),
        client_route(sandbox, c.PATH_VALIDATE, "GET", validate_token, allow_expired=True),
        client_route(sandbox, c.PATH_RENEW, "GET", renew_token, allow_expired=True),
        client_route(sandbox, c.PATH_FINVOICE_CREDENTIALS, "GET", finvoice_credentials),
    ]


async def create_client(sandbox: Sandbox, request: Request, _: None) -> Response:
    body = await json_body(request)
    refuse_if(validate_client(body, sandbox.strict_identifiers))
    state = sandbox.state
    with state.lock:
        record, token = state.add_client(body)
        state.add_journal(
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


async def validate_token(sandbox: Sandbox, request: Request, caller: Caller) -> Response:
    message = c.TOKEN_EXPIRED_MESSAGE if caller.expired else c.TOKEN_VALID_MESSAGE
    return json_response({"isValid": not caller.expired, "message": message, "expiresAt": caller.expires_at})


async def renew_token(sandbox: Sandbox, request: Request, caller: Caller) -> Response:
    new_token = str(uuid.uuid4())
    state = sandbox.state
    with state.lock:
        state.tokens.pop(caller.token, None)  # CHOSEN: the old token dies at once
        state.tokens[new_token] = {"clientIdentifier": caller.client_id, "expiresAt": None}
        state.add_journal("renew", caller.client_id)
    return json_response({"Message": new_token})


async def finvoice_credentials(sandbox: Sandbox, request: Request, caller: Caller) -> Response:
    business_id = request.query_params.get(c.Q_BUSINESS_ID) or ""
    if not business_id:
        raise Refused.field(c.Q_BUSINESS_ID, "is required")
    if not re.fullmatch(BUSINESS_ID_SHAPE, business_id):
        raise Refused.field(c.Q_BUSINESS_ID, "must look like a Finnish business id (1234567-8)")
    return json_response(finvoice_view(business_id, sandbox.state))
