"""Creditors -> create-client bodies: the seed page's example round-trips exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from confirma_pipeline.mapping.clients import client_bodies, client_body
from confirma_pipeline.validation.input_contract import CREDITORS_CONTRACT, STR_DTYPE

# Verbatim from the "Create a new client" page (shared/seed/confirma-docs-create-a-new-client.txt).
SEED_BODY = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "seed_create_client_body.json").read_text()
)

SEED_ROW = {
    "creditor_id": "C-SEED",
    "service_type": "LIFECYCLE",
    "partner_code": "QUICK3",
    "name": "Test Customer Oy",
    "business_code": "123456-7",
    "vat_reg_nbr": "FI1234567",
    "postal_address": "Testikuja 7",
    "postal_code": "12345",
    "postal_district": "HELSINKI",
    "country_code": "FI",
    "telephone": "",
    "email": "email@testcustomer.fi",
    "website": "",
    "language_code": "FI",
    "currency_code": "EUR",
    "iban_account": "",
    "bic": "",
    "bankgiro": "",
    "plusgiro": "",
    "primary_contact_name": "Matti Meikäläinen",
    "primary_contact_telephone": "",
    "primary_contact_mobile": "+358441234567",
    "primary_contact_email": "matti@testcustomer.fi",
    "technical_contact_name": "",
    "technical_contact_email": "",
    "accountant_contact_name": "",
    "accountant_contact_email": "",
    "updated_at": pd.Timestamp("2026-01-01", tz="UTC"),
}


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column, spec in CREDITORS_CONTRACT.items():
        frame[column] = frame[column].astype(spec.dtype)
    return frame


def test_seed_example_round_trips_exactly():
    bodies = client_bodies(_frame([SEED_ROW]))
    assert bodies == [SEED_BODY]
    # same key order as the page (a reviewer reading a request log sees the documented shape)
    assert json.dumps(bodies[0]) == json.dumps(SEED_BODY)
    assert client_body(SEED_ROW) == SEED_BODY


def test_optional_values_are_empty_strings_never_null():
    row = {**SEED_ROW, "website": None, "bic": None}
    frame = _frame([row])
    assert frame["website"].isna().all()
    body = client_bodies(frame)[0]
    assert body["client"]["website"] == "" and body["client"]["bic"] == ""
    text = json.dumps(body)
    assert "null" not in text


def test_many_creditors_keep_frame_order_and_partner_code_default():
    rows = [{**SEED_ROW, "creditor_id": f"C{i}", "name": f"N{i}", "partner_code": ""} for i in range(3)]
    frame = _frame(rows)
    bodies = client_bodies(frame, partner_code="PARTNER9")
    assert [b["client"]["name"] for b in bodies] == ["N0", "N1", "N2"]
    assert {b["service"]["partnerCode"] for b in bodies} == {"PARTNER9"}
    explicit = client_bodies(_frame([{**SEED_ROW, "partner_code": "OWN"}]), partner_code="PARTNER9")
    assert explicit[0]["service"]["partnerCode"] == "OWN"
    assert frame["name"].dtype == STR_DTYPE
