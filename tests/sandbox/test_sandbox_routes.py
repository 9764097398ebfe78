"""The route table (sandbox/routes/): every area's routes are documented and every partner route checks the key.

Table-driven over what the app really mounts, so a route added to an area without its OpenAPI entry, or one
that skips `client_route` / `provisioning_route` (and so the 401/403), fails here."""

from __future__ import annotations

import httpx
import pytest
from starlette.routing import Route

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox import SandboxServer
from confirma_pipeline.sandbox.openapi import ENDPOINTS

PROVISIONING_TOKEN = "test-provisioning-token-3f9c"  # as in conftest.py


def _partner_routes(sandbox: SandboxServer) -> list[tuple[str, str]]:
    return sorted(
        (route.path, method)
        for route in sandbox.app.routes
        if isinstance(route, Route) and route.path.startswith(c.PATH_PREFIX)
        for method in route.methods or ()
        if method != "HEAD"
    )


def test_every_partner_route_is_in_the_openapi_document(sandbox: SandboxServer) -> None:
    documented = sorted((path, method.upper()) for method, path, *_ in ENDPOINTS)
    assert _partner_routes(sandbox) == documented


def test_every_partner_route_refuses_a_missing_key_and_a_key_of_the_wrong_kind(
    sandbox: SandboxServer, client_token: str
) -> None:
    for path, method in _partner_routes(sandbox):
        missing = httpx.request(method, sandbox.url + path, json={}, timeout=10)
        assert (missing.status_code, missing.json()["message"]) == (401, "Missing X-Api-Key header"), path
        wrong = PROVISIONING_TOKEN if path != c.PATH_CLIENT else client_token
        refused = httpx.request(
            method, sandbox.url + path, json={}, headers={c.API_KEY_HEADER: wrong}, timeout=10
        )
        assert refused.status_code == 403, (path, method)


@pytest.mark.parametrize(
    "path", [c.PATH_PAYMENTS, c.PATH_SETTLEMENTS, c.PATH_LEDGER, c.PATH_ACCOUNTING_PAYMENT]
)
def test_date_window_routes_refuse_a_window_that_ends_before_it_starts(
    sandbox: SandboxServer, client_token: str, path: str
) -> None:
    response = httpx.get(
        sandbox.url + path,
        params={c.Q_FROM_DATE: "2026-02-01", c.Q_TO_DATE: "2026-01-31"},
        headers={c.API_KEY_HEADER: client_token},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "Validation failed",
        "errors": [{"field": c.Q_TO_DATE, "message": f"must not be before {c.Q_FROM_DATE}"}],
    }
