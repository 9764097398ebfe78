"""The sandbox: the documented create-client example, auth (401/403) and data validation (400 by JSON path)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox import SandboxServer
from confirma_pipeline.sandbox.examples import CREATE_CLIENT_EXAMPLE, client_body, sample_invoice

PROVISIONING_TOKEN = "test-provisioning-token-3f9c"  # as in conftest.py

# Copied exactly from shared/seed/confirma-docs-create-a-new-client.txt ("Body Params" example).
SEED_EXAMPLE_BODY = (
    Path(__file__).resolve().parents[1] / "data" / "seed_create_client_body.json"
).read_text()
SEED_FILE = Path(__file__).resolve().parents[3] / "shared" / "seed" / "confirma-docs-create-a-new-client.txt"


def _post(server: SandboxServer, path: str, key: str | None, body: object) -> httpx.Response:
    headers = {c.API_KEY_HEADER: key} if key else {}
    return httpx.post(server.url + path, content=json.dumps(body, default=float), headers=headers, timeout=10)


def _get(server: SandboxServer, path: str, key: str | None, **params: object) -> httpx.Response:
    headers = {c.API_KEY_HEADER: key} if key else {}
    return httpx.get(server.url + path, params=params, headers=headers, timeout=10)


def test_seed_example_body_is_accepted_with_the_five_documented_fields(sandbox: SandboxServer) -> None:
    if SEED_FILE.exists():  # the copy above must stay the page's example
        page = SEED_FILE.read_text(encoding="utf-8")
        assert SEED_EXAMPLE_BODY in page
    assert json.loads(SEED_EXAMPLE_BODY) == CREATE_CLIENT_EXAMPLE

    response = httpx.post(
        sandbox.url + c.PATH_CLIENT,
        content=SEED_EXAMPLE_BODY.encode(),
        headers={c.API_KEY_HEADER: PROVISIONING_TOKEN, "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"message", "clientIdentifier", "confirmaFinanceCustomerCode", "paymentReferencePrefix",
                         "apiAccessToken"}  # fmt: skip
    assert body["message"] == "New client created"
    for key in ("clientIdentifier", "confirmaFinanceCustomerCode", "paymentReferencePrefix"):
        assert isinstance(body[key], int)
    assert str(uuid.UUID(body["apiAccessToken"])) == body["apiAccessToken"]
    # the new token works at once, and only the accepted request is journalled
    assert _get(sandbox, c.PATH_VALIDATE, body["apiAccessToken"]).json()["isValid"] is True
    assert [e["kind"] for e in sandbox.control.journal()] == ["client"]


def test_missing_or_unknown_key_is_401(sandbox: SandboxServer, client_token: str) -> None:
    assert _post(sandbox, c.PATH_CLIENT, None, CREATE_CLIENT_EXAMPLE).status_code == 401
    assert _post(sandbox, c.PATH_CLIENT, "not-a-token", CREATE_CLIENT_EXAMPLE).status_code == 401
    assert _get(sandbox, c.PATH_VALIDATE, None).status_code == 401
    response = _get(sandbox, c.PATH_VALIDATE, str(uuid.uuid4()))
    assert response.status_code == 401
    assert response.json()["message"]
    assert _post(sandbox, c.PATH_INVOICE, "nope", sample_invoice(1)).status_code == 401


def test_wrong_token_kind_is_403(sandbox: SandboxServer, client_token: str) -> None:
    assert _post(sandbox, c.PATH_CLIENT, client_token, CREATE_CLIENT_EXAMPLE).status_code == 403
    assert _get(sandbox, c.PATH_VALIDATE, PROVISIONING_TOKEN).status_code == 403
    assert _post(sandbox, c.PATH_INVOICE, PROVISIONING_TOKEN, sample_invoice(1)).status_code == 403
    assert sandbox.control.state()["counts"]["invoices"] == 0


def test_client_validation_names_each_bad_field(sandbox: SandboxServer) -> None:
    body = client_body(2)
    body["client"].update(countryCode="XX", currencyCode="EUX", languageCode="DK", email="not-an-email",
                          website="not a url", postalCode="1234")  # fmt: skip
    body["service"]["type"] = "GOLD"
    del body["contacts"]["primary"]["name"]
    response = _post(sandbox, c.PATH_CLIENT, PROVISIONING_TOKEN, body)
    assert response.status_code == 400
    payload = response.json()
    fields = {e["field"] for e in payload["errors"]}
    assert fields == {"client.countryCode", "client.currencyCode", "client.languageCode", "client.email",
                      "client.website", "service.type", "contacts.primary.name"}  # fmt: skip
    assert payload["message"]
    assert sandbox.control.journal() == []


@pytest.mark.parametrize(
    ("country", "good", "bad"),
    [("FI", "00100", "0010"), ("SE", "114 55", "11455A"), ("NO", "0150", "01500"), ("DK", "1050", "105")],
)
def test_postal_codes_are_checked_by_country(
    sandbox: SandboxServer, country: str, good: str, bad: str
) -> None:
    body = client_body(3)
    body["client"].update(countryCode=country, postalCode=good, languageCode="sv")  # lower case accepted
    assert _post(sandbox, c.PATH_CLIENT, PROVISIONING_TOKEN, body).status_code == 200
    body["client"]["postalCode"] = bad
    response = _post(sandbox, c.PATH_CLIENT, PROVISIONING_TOKEN, body)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["client.postalCode"]


def test_invoice_validation_reports_json_paths(sandbox: SandboxServer, client_token: str) -> None:
    body = sample_invoice(5001, rows=3)
    inv = body["invoice"]
    inv["header"]["dueDate"] = "2025-11-01"  # before the invoice date
    inv["header"]["currencyCode"] = "XYZ"
    inv["rows"][1]["netAmount"] = "12.345"  # a string, not a number
    inv["rows"][2]["vatAmount"] = float(inv["rows"][2]["vatAmount"]) + 0.5  # row arithmetic broken
    inv["parties"]["buyerParty"]["address"]["postalCode"] = "ABCDE"
    inv["parties"]["buyerParty"]["contact"]["email"] = None  # EMAIL distribution then lacks an address
    body["distribution"]["method"] = "FAX"
    response = _post(sandbox, c.PATH_INVOICE, client_token, json.loads(json.dumps(body, default=float)))
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert {
        "invoice.header.dueDate",
        "invoice.header.currencyCode",
        "invoice.rows[1].netAmount",
        "invoice.rows[2].vatAmount",
        "invoice.parties.buyerParty.address.postalCode",
        "distribution.method",
    } <= fields
    assert sandbox.control.state()["counts"]["invoices"] == 0


def test_amounts_must_have_two_decimals_and_match_the_rows(sandbox: SandboxServer, client_token: str) -> None:
    body = json.loads(json.dumps(sample_invoice(5002, rows=2), default=float))
    body["invoice"]["amounts"]["grossAmount"] = round(body["invoice"]["amounts"]["grossAmount"] + 0.01, 2)
    body["invoice"]["rows"][0]["unitPrice"] = 1.005
    response = _post(sandbox, c.PATH_INVOICE, client_token, body)
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"invoice.amounts.grossAmount", "invoice.rows[0].unitPrice"}


def test_duplicate_invoice_number_is_409_per_client(sandbox: SandboxServer, client_token: str) -> None:
    body = json.loads(json.dumps(sample_invoice(7001), default=float))
    assert _post(sandbox, c.PATH_INVOICE, client_token, body).status_code == 201
    second = _post(sandbox, c.PATH_INVOICE, client_token, body)
    assert second.status_code == 409
    assert second.json()["errors"][0]["field"] == "invoice.header.number"
    other = httpx.post(
        sandbox.url + c.PATH_CLIENT, json=client_body(9), headers={c.API_KEY_HEADER: PROVISIONING_TOKEN}
    ).json()["apiAccessToken"]
    assert _post(sandbox, c.PATH_INVOICE, other, body).status_code == 201  # same number, other client
    assert len(sandbox.control.journal("invoice")) == 2


def test_strict_identifier_checks_are_off_by_default_and_can_be_enabled() -> None:
    with SandboxServer(PROVISIONING_TOKEN, strict_identifiers=True) as strict:
        response = _post(strict, c.PATH_CLIENT, PROVISIONING_TOKEN, CREATE_CLIENT_EXAMPLE)
        assert response.status_code == 400
        assert [e["field"] for e in response.json()["errors"]] == ["client.businessCode"]
        good = client_body(0)
        good["client"]["businessCode"] = "0646115-8"
        assert _post(strict, c.PATH_CLIENT, PROVISIONING_TOKEN, good).status_code == 200
