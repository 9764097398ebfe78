"""Invoices + rows (+ creditors) -> SalesInvoiceRequest bodies."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from confirma_pipeline.api.contract import AMOUNT_FIELDS, INVOICE_ROW_FIELDS
from confirma_pipeline.mapping.invoices import invoice_bodies
from confirma_pipeline.validation.input_contract import INVOICES_CONTRACT
from confirma_pipeline.validation.samples import sample_creditors, sample_invoices

# The endpoint page's example (reference section 2.4) with the buyer e-mail placeholder filled in, plus what
# the example leaves out and the body carries: processing.showProductCodeEnabled, buyerParty.disableCollection,
# the recipient address's remaining fields, and the CHOSEN rows/amounts.
EXAMPLE = {
    "processing": {
        "paymentControlEnabled": True,
        "manualApprovalEnabled": False,
        "accountingInvoiceEnabled": False,
        "showProductCodeEnabled": False,
    },
    "distribution": {"method": "EMAIL", "enabled": True},
    "invoice": {
        "header": {
            "number": 251601000, "type": "INVOICE", "date": "2025-12-01", "dueDate": "2025-12-15",
            "description": None, "additionalInformation": None, "currencyCode": "EUR", "languageCode": "FI",
        },
        "references": {
            "sales": "SF0001", "buyer": "BR0002", "agreement": "AN456", "payment": "2516000017",
            "orderNumber": "ON798", "orderDate": "2025-12-01", "electronicPaymentCode": None,
            "creditedInvoiceNumber": None, "invoiceCopyUrl": None,
        },
        "parties": {
            "sellerParty": {
                "businessId": "0646115-8", "name": "Test Company Ltd", "vatCode": "FI1234567",
                "address": {"street": "Teirinkatu 6", "postalCode": "65100", "postalDistrict": "VAASA",
                            "countryCode": "FI", "countryName": "FINLAND"},
                "contact": {"contactPerson": {"name": "Teppo Testaaja", "email": "teppo.testaaja@cash-in.fi"},
                            "email": "it@cash-in.fi", "phone": "+358501234567"},
                "paymentDetails": {"iban": "FI12345678912345678", "bic": "DABAFIHH", "bankgiro": None,
                                   "postgiro": None},
            },
            "buyerParty": {
                "entityType": "BUSINESS", "name": "Buyer Company Oy", "customerAccountId": "",
                "personalIdentityNumber": None, "businessId": "0646115-8", "vatCode": "FI9876543",
                "electronicInvoiceAccount": None, "electronicRoutingAddress": None, "glnNumber": None,
                "languageCode": "FI", "disableCollection": False,
                "address": {"street": "Kauppakatu 1", "street2": None, "street3": None, "postalCode": "00100",
                            "postalDistrict": "HELSINKI", "countryCode": "FI"},
                "contact": {"contactPerson": {"name": "Matti Meikäläinen", "email": "matti.meikalainen@buyer.fi"},
                            "email": "ap@buyer.fi", "phone": "+358401234567"},
            },
            "invoiceRecipientParty": {
                "name": None, "businessId": None, "vatCode": None, "electronicInvoiceAccount": None,
                "electronicRoutingAddress": None, "glnNumber": None, "email": None, "languageCode": "FI",
                "address": {"street": None, "street2": None, "street3": None, "postalCode": None,
                            "postalDistrict": None, "countryCode": None},
            },
        },
        "rows": [
            {"rowNumber": 1, "productCode": "P-1", "name": "Consulting", "quantity": 2.5, "unitCode": "h",
             "unitPrice": 80.0, "vatPercentage": 25.5, "netAmount": 200.0, "vatAmount": 51.0, "grossAmount": 251.0},
            {"rowNumber": 2, "productCode": None, "name": "Travel", "quantity": 1.0, "unitCode": "kpl",
             "unitPrice": 19.99, "vatPercentage": 14.0, "netAmount": 19.99, "vatAmount": 2.8, "grossAmount": 22.79},
        ],
        "amounts": {"netAmount": 219.99, "vatAmount": 53.8, "grossAmount": 273.79},
    },
}  # fmt: skip

EXAMPLE_COLUMNS = {
    "invoice_id": "INV-1", "creditor_id": "C1", "payment_control_enabled": True, "manual_approval_enabled": False,
    "accounting_invoice_enabled": False, "show_product_code_enabled": False, "distribution_method": "EMAIL",
    "distribution_enabled": True, "invoice_number": 251601000, "invoice_type": "INVOICE",
    "invoice_date": pd.Timestamp("2025-12-01"), "due_date": pd.Timestamp("2025-12-15"), "description": None,
    "additional_information": None, "currency_code": "EUR", "language_code": "FI", "sales_reference": "SF0001",
    "buyer_reference": "BR0002", "agreement_reference": "AN456", "payment_reference": "2516000017",
    "order_number": "ON798", "order_date": pd.Timestamp("2025-12-01"), "electronic_payment_code": None,
    "credited_invoice_number": None, "invoice_copy_url": None, "seller_business_id": "0646115-8",
    "seller_name": "Test Company Ltd", "seller_vat_code": "FI1234567", "seller_street": "Teirinkatu 6",
    "seller_postal_code": "65100", "seller_postal_district": "VAASA", "seller_country_code": "FI",
    "seller_country_name": "FINLAND", "seller_contact_person_name": "Teppo Testaaja",
    "seller_contact_person_email": "teppo.testaaja@cash-in.fi", "seller_email": "it@cash-in.fi",
    "seller_phone": "+358501234567", "seller_iban": "FI12345678912345678", "seller_bic": "DABAFIHH",
    "seller_bankgiro": None, "seller_postgiro": None, "buyer_entity_type": "BUSINESS",
    "buyer_name": "Buyer Company Oy", "buyer_customer_account_id": "", "buyer_personal_identity_number": None,
    "buyer_business_id": "0646115-8", "buyer_vat_code": "FI9876543", "buyer_electronic_invoice_account": None,
    "buyer_electronic_routing_address": None, "buyer_gln_number": None, "buyer_language_code": "FI",
    "buyer_disable_collection": False, "buyer_street": "Kauppakatu 1", "buyer_street2": None,
    "buyer_street3": None, "buyer_postal_code": "00100", "buyer_postal_district": "HELSINKI",
    "buyer_country_code": "FI", "buyer_contact_person_name": "Matti Meikäläinen",
    "buyer_contact_person_email": "matti.meikalainen@buyer.fi", "buyer_email": "ap@buyer.fi",
    "buyer_phone": "+358401234567", "net_amount": 219.99, "vat_amount": 53.8, "gross_amount": 273.79,
    "updated_at": pd.Timestamp("2026-01-01", tz="UTC"),
}  # fmt: skip


def _invoices(rows: list[dict]) -> pd.DataFrame:
    full = [{c: r.get(c) for c in INVOICES_CONTRACT} for r in rows]
    frame = pd.DataFrame(full)
    for column, spec in INVOICES_CONTRACT.items():
        frame[column] = frame[column].astype(spec.dtype)
    return frame


def _rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "invoice_id": pd.Series(["INV-1", "INV-1"], dtype="str"),
            "row_number": np.array([2, 1], dtype=np.int64),  # out of order on purpose
            "product_code": pd.Series([None, "P-1"], dtype="str"),
            "name": pd.Series(["Travel", "Consulting"], dtype="str"),
            "quantity": [1.0, 2.5],
            "unit_code": pd.Series(["kpl", "h"], dtype="str"),
            "unit_price": [19.99, 80.0],
            "vat_percentage": [14.0, 25.5],
            "net_amount": [19.99, 200.0],
            "vat_amount": [2.8, 51.0],
            "gross_amount": [22.79, 251.0],
        }
    )


def test_endpoint_example_maps_to_the_documented_body():
    bodies = invoice_bodies(_invoices([EXAMPLE_COLUMNS]), _rows())
    assert bodies == [EXAMPLE]
    body = bodies[0]
    # documented key order, and the CHOSEN rows/amounts shape shared with api/contract.py
    assert json.dumps(body) == json.dumps(EXAMPLE)
    assert all(tuple(r) == INVOICE_ROW_FIELDS for r in body["invoice"]["rows"])
    assert tuple(body["invoice"]["amounts"]) == AMOUNT_FIELDS
    json.dumps(body, allow_nan=False)  # no NaN / NA leaks
    assert isinstance(body["invoice"]["header"]["number"], int)


def test_rows_and_amounts_sum_and_money_has_two_decimals():
    invoices, rows = sample_invoices(50, (1, 7))
    bodies = invoice_bodies(invoices, rows.sample(frac=1.0, random_state=3))  # shuffled rows
    for body, (_, inv) in zip(bodies, invoices.iterrows(), strict=True):
        rws = body["invoice"]["rows"]
        assert [r["rowNumber"] for r in rws] == list(range(1, len(rws) + 1))
        amounts = body["invoice"]["amounts"]
        for field in AMOUNT_FIELDS:
            assert round(sum(r[field] for r in rws), 2) == amounts[field]
            assert all(round(r[field], 2) == r[field] for r in rws)
        assert amounts["netAmount"] == round(inv["net_amount"], 2)


def test_seller_defaults_from_the_creditor_column_by_column():
    creditors = sample_creditors(2)
    cred = creditors.iloc[1]
    row = {**EXAMPLE_COLUMNS, "creditor_id": cred["creditor_id"]}
    for column in [c for c in INVOICES_CONTRACT if c.startswith("seller_")]:
        row[column] = None
    row["seller_name"] = "Own Trading Name"
    body = invoice_bodies(_invoices([row]), _rows(), creditors)[0]
    seller = body["invoice"]["parties"]["sellerParty"]
    assert seller["name"] == "Own Trading Name"  # given -> kept
    assert seller["businessId"] == cred["business_code"]
    assert seller["vatCode"] == cred["vat_reg_nbr"]
    assert seller["address"] == {
        "street": cred["postal_address"], "postalCode": cred["postal_code"],
        "postalDistrict": cred["postal_district"], "countryCode": "FI", "countryName": "FINLAND",
    }  # fmt: skip
    assert seller["contact"]["contactPerson"]["name"] == cred["primary_contact_name"]
    assert seller["contact"]["email"] == cred["email"]
    assert seller["contact"]["phone"] is None  # the creditor's telephone is "" -> null
    assert seller["paymentDetails"] == {"iban": cred["iban_account"], "bic": cred["bic"], "bankgiro": None,
                                        "postgiro": None}  # fmt: skip
    # unknown creditor and no creditors frame: nulls stay null
    assert (
        invoice_bodies(_invoices([row]), _rows())[0]["invoice"]["parties"]["sellerParty"]["businessId"]
        is None
    )


def test_nullable_fields_and_credit_note():
    row = {
        **EXAMPLE_COLUMNS,
        "invoice_type": "CREDIT_NOTE",
        "credited_invoice_number": 251600999,
        "buyer_customer_account_id": "",
        "description": "",
        "recipient_name": "Recipient Oy",
        "recipient_language_code": "SV",
    }
    body = invoice_bodies(_invoices([row]), _rows())[0]
    assert body["invoice"]["references"]["creditedInvoiceNumber"] == 251600999
    assert body["invoice"]["header"]["description"] == ""  # '' stays '' (only null is null)
    assert body["invoice"]["parties"]["invoiceRecipientParty"]["name"] == "Recipient Oy"
    assert body["invoice"]["parties"]["invoiceRecipientParty"]["languageCode"] == "SV"
    assert invoice_bodies(_invoices([row]).iloc[:0], _rows()) == []


def test_mapping_groups_every_row_under_its_own_invoice():
    """Speed is measured in bench/bench_validation.py; here, that the grouping is exact at volume."""
    invoices, rows = sample_invoices(2_000, 5)
    bodies = invoice_bodies(invoices, rows, sample_creditors(3))
    assert len(bodies) == 2_000 and sum(len(b["invoice"]["rows"]) for b in bodies) == 10_000
    assert [b["invoice"]["header"]["number"] for b in bodies] == invoices["invoice_number"].tolist()
