"""Token expiry and renewal, the state file across restarts, the journal, the control API and OpenAPI."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from confirma_pipeline.api import ConfirmaClient, UnauthorizedError
from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox import SandboxServer
from confirma_pipeline.sandbox.examples import client_body, sample_invoice

PROVISIONING_TOKEN = "state-test-provisioning"


def _simulated_now(sandbox: SandboxServer) -> datetime:
    """Token expiry is judged against the sandbox's simulated clock."""
    return datetime.fromisoformat(sandbox.control.state()["now"].replace("Z", "+00:00"))


def test_expired_token_gets_401_validate_says_invalid_and_renew_replaces_it(
    sandbox: SandboxServer, client: ConfirmaClient
) -> None:
    created = client.create_client(client_body(4))
    token = created.access_token
    past = _simulated_now(sandbox) - timedelta(minutes=1)
    sandbox.control.expire_token(created.client_identifier, past)

    with pytest.raises(UnauthorizedError) as excinfo:
        client.create_invoice(token, sample_invoice(1))
    assert excinfo.value.status == 401 and "expired" in str(excinfo.value).lower()
    status = client.validate_token(token)
    assert status.is_valid is False and status.message == c.TOKEN_EXPIRED_MESSAGE
    assert status.expires_at is not None

    new_token = client.renew_token(token).new_token
    assert new_token != token
    assert client.validate_token(new_token).is_valid is True
    assert client.create_invoice(new_token, sample_invoice(2)).invoice_number == 2
    with pytest.raises(UnauthorizedError):
        client.validate_token(token)  # the old token died with the renewal
    assert [e["kind"] for e in sandbox.control.journal()] == ["client", "renew", "invoice"]


def test_future_expiry_still_works_and_can_be_cleared(sandbox: SandboxServer, client: ConfirmaClient) -> None:
    created = client.create_client(client_body(5))
    future = _simulated_now(sandbox) + timedelta(days=3)
    sandbox.control.expire_token(created.client_identifier, future)
    status = client.validate_token(created.access_token)
    assert status.is_valid is True and status.expires_at is not None
    sandbox.control.advance(4)  # simulated time passes the expiry
    assert client.validate_token(created.access_token).is_valid is False
    sandbox.control.expire_token(created.client_identifier, None)
    assert client.validate_token(created.access_token).is_valid is True


def test_state_file_keeps_clients_and_invoices_across_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "sandbox-state.json"
    with SandboxServer(PROVISIONING_TOKEN, state_file=state_file) as first:
        with ConfirmaClient(first.url, PROVISIONING_TOKEN) as api:
            created = api.create_client(client_body(6))
            api.create_invoice(created.access_token, sample_invoice(31))
            api.create_invoice(created.access_token, sample_invoice(32))
        first.control.advance(1)
    assert state_file.exists() and state_file.stat().st_mode & 0o077 == 0

    with SandboxServer(PROVISIONING_TOKEN, state_file=state_file) as second:
        with ConfirmaClient(second.url, PROVISIONING_TOKEN) as api:
            token = created.access_token
            assert api.validate_token(token).is_valid is True
            found = api.get_distribution(token, from_inv_date="2025-01-01", to_inv_date="2026-12-31")
            assert sorted(r.invoice_number for r in found.distributions) == [31, 32]
            assert {r.distribution_status for r in found.distributions} <= {"DISTRIBUTED", "FAILED"}
            with pytest.raises(Exception) as excinfo:
                api.create_invoice(token, sample_invoice(31))
            assert getattr(excinfo.value, "status", None) == 409
        state = second.control.state()
        assert state["counts"]["clients"] == 1 and state["counts"]["invoices"] == 2
        assert state["today"] != state["startDate"]  # the simulated day survived too


def test_control_api_is_outside_the_partner_prefix_and_faults_skip_it(sandbox: SandboxServer) -> None:
    sandbox.control.set_faults(error_rate=1.0, error_statuses=[503])
    assert sandbox.control.state()["faults"]["error_rate"] == 1.0  # control calls are never faulted
    assert httpx.get(sandbox.url + c.PATH_VALIDATE, timeout=5).status_code == 503  # partner calls are
    sandbox.control.clear_faults()
    assert httpx.get(sandbox.url + c.PATH_VALIDATE, timeout=5).status_code == 401
    assert httpx.post(sandbox.url + "/_sandbox/faults", json={"bogus": 1}).status_code == 400


def test_openapi_document_covers_every_endpoint(sandbox: SandboxServer) -> None:
    doc = sandbox.control.openapi()
    assert doc["openapi"].startswith("3.")
    expected = {c.PATH_CLIENT, c.PATH_VALIDATE, c.PATH_RENEW, c.PATH_INVOICE, c.PATH_INVOICE_ACTION, c.PATH_CASE,
                c.PATH_DISTRIBUTION, c.PATH_PAYMENTS, c.PATH_SETTLEMENTS, c.PATH_LEDGER, c.PATH_ACCOUNTING_PAYMENT,
                c.PATH_FINVOICE_CREDENTIALS}  # fmt: skip
    assert set(doc["paths"]) == expected
    assert set(doc["paths"][c.PATH_LEDGER]) == {"get", "post"}
    invoice = doc["paths"][c.PATH_INVOICE]["post"]
    assert "201" in invoice["responses"] and "409" in invoice["responses"]
    schemas = doc["components"]["schemas"]
    assert (
        "rows" in schemas["Invoice"]["properties"]
        and "breakdown" in schemas["SettlementAllocation"]["properties"]
    )
    params = {p["name"] for p in doc["paths"][c.PATH_SETTLEMENTS]["get"]["parameters"]}
    assert params == {c.Q_UNFETCHED_ONLY, c.Q_FROM_DATE, c.Q_TO_DATE}
