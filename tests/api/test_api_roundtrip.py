"""Every endpoint round-trips through ConfirmaClient against the sandbox over real HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest

from confirma_pipeline.api import ConfirmaClient, DuplicateError, RejectedError, models
from confirma_pipeline.sandbox import SandboxServer
from confirma_pipeline.sandbox.examples import CREATE_CLIENT_EXAMPLE, sample_invoice

LEDGER = {
    "ledgers": {
        "ledgerIdentifier": "abc-123-def-456", "companyIdentifier": "123456-7", "documentType": "ML",
        "documentName": "1001", "documentDate": "2025-12-13",
        "documentDescription": "Here comes the description, max 210 chars long", "calculationMode": "GROSS",
        "ledgerRows": [
            {"bookingDate": "2025-12-12", "accountNumber": "1701", "vatAccountNumber": None, "vatType": None,
             "vatPercentage": 0, "vatCode": "", "amount": 2990.0, "netAmount": 2990.0, "isVatRow": 0,
             "projectNumber": "PN12345", "transactionType": None, "transactionDescription": "1763",
             "ledgerDimensions": [{"dimensionType": "COST_CENTER", "dimensionValue": "1000"}]},
            {"bookingDate": "2025-12-12", "accountNumber": "3000", "vatAccountNumber": None, "vatType": None,
             "vatPercentage": 25.5, "vatCode": "20", "amount": -2990.0, "netAmount": -2382.47, "isVatRow": 0,
             "projectNumber": "PN12345", "transactionType": None, "transactionDescription": "1763",
             "ledgerDimensions": []},
            {"bookingDate": "2025-12-12", "accountNumber": "2939", "vatAccountNumber": None, "vatType": None,
             "vatPercentage": 0, "vatCode": "", "amount": -607.53, "netAmount": -607.53, "isVatRow": 1,
             "projectNumber": "PN12345", "transactionType": None, "transactionDescription": "1763",
             "ledgerDimensions": []},
        ],
    }
}  # fmt: skip
ACCOUNTING_PAYMENTS = {
    "payments": [
        {"paymentIdentifier": "abc-123-def-456", "invoiceNumber": "133720800", "paymentDate": "2025-12-05",
         "bookingDate": None, "amount": 110.0, "currency": "EUR", "targetIdentifier": "invoicenumber",
         "paymentReference": "1337109", "sourceName": "Matti Meikäläinen"}
    ]
}  # fmt: skip


def test_every_endpoint_round_trips(sandbox: SandboxServer, client: ConfirmaClient) -> None:
    created = client.create_client(
        models.CreateClientRequest.model_validate(CREATE_CLIENT_EXAMPLE)
    )  # a model body
    assert created.message == "New client created" and created.client_identifier > 0
    token = created.access_token

    validation = client.validate_token(token)
    assert validation.is_valid is True and validation.message == "Token is valid"

    model_body = models.SalesInvoiceRequest.model_validate(sample_invoice(4001, rows=2))
    answer = client.create_invoice(token, model_body)
    assert (answer.invoice_number, answer.status) == (4001, "RECEIVED") and answer.received_at is not None
    assert client.create_invoice(token, sample_invoice(4002)).invoice_number == 4002  # a plain dict body
    with pytest.raises(DuplicateError) as duplicate:
        client.create_invoice(token, sample_invoice(4002))
    assert duplicate.value.status == 409 and duplicate.value.field_errors[0].field == "invoice.header.number"

    looked_up = client.get_distribution(token, invoice_number=4001)
    assert [r.invoice_number for r in looked_up.distributions] == [4001]
    assert looked_up.distributions[0].distribution_status == "RECEIVED"
    assert looked_up.meta_data.filters_applied.default_last30_days is False
    default_window = client.get_distribution(token)
    assert default_window.meta_data.filters_applied.default_last30_days is True
    assert default_window.meta_data.total_count == 2

    sandbox.control.advance(3)
    record = client.get_distribution(token, invoice_number=4001, fetch_type="SUCCESSFUL").distributions
    case_id = (
        record[0].case_id
        if record
        else client.get_distribution(token, invoice_number=4002).distributions[0].case_id
    )
    assert case_id is not None
    case = client.get_case(token, case_id).case
    assert case.summary.case_id == case_id and case.summary.status == "OPEN"
    assert (
        case.balance.total_amount
        == case.balance.capital_amount + case.balance.interest_amount + case.balance.costs_amount
    )
    with pytest.raises(RejectedError) as missing:
        client.get_case(token, 999_999_999)
    assert missing.value.status == 404

    invoice_number = case.summary.invoice_number
    queued = client.invoice_actions(token, {"actions": [
        {"code": "COMMENT", "comment": "Customer requested extension",
         "data": {"invoiceNumber": invoice_number, "caseId": case_id}},
        {"code": "DUEDATE", "comment": "extension", "data": {"invoiceNumber": invoice_number, "caseId": case_id,
                                                            "dueDate": "2026-03-15"}},
    ]})  # fmt: skip
    assert queued.queued_count == 2
    with pytest.raises(RejectedError) as unknown:
        client.invoice_actions(
            token, {"actions": [{"code": "PAUSE", "comment": "", "data": {"invoiceNumber": 1}}]}
        )
    assert unknown.value.status == 404

    assert isinstance(client.get_payments(token, "2025-12-01", "2025-12-31"), list)
    settlements = client.get_settlements(token, unfetched_only=True)
    assert isinstance(settlements, models.SettlementsResponse) and settlements.created_at is not None

    assert client.get_ledger_status(token).ledgers == []  # 204 before anything was sent
    assert client.post_ledger(token, LEDGER).queued_count == 1
    ledgers = client.get_ledger_status(token, from_date="2025-12-01", to_date="2025-12-31").ledgers
    assert [(x.source_identifier, x.status) for x in ledgers] == [("abc-123-def-456", 0)]
    assert client.post_accounting_payments(token, ACCOUNTING_PAYMENTS).queued_count == 1
    sandbox.control.advance(1)
    payments = client.get_accounting_payment_status(token).payments
    assert [(p.source_identifier, p.status) for p in payments] == [("abc-123-def-456", 1)]
    unbalanced = {"ledgers": {**LEDGER["ledgers"], "ledgerRows": LEDGER["ledgers"]["ledgerRows"][:1]}}
    with pytest.raises(RejectedError) as rejected:
        client.post_ledger(token, unbalanced)
    assert rejected.value.field_errors[0].field == "ledgers.ledgerRows"

    credentials = client.get_finvoice_credentials(token, "0646115-8")
    assert isinstance(credentials, list) and credentials
    assert credentials[0].e_invoice_address and credentials[0].e_invoice_address_type in ("EDI", "IBAN")
    with pytest.raises(RejectedError):
        client.get_finvoice_credentials(token, "not-a-business-id")

    renewed = client.renew_token(token)
    assert renewed.new_token != token and "*" in repr(renewed)
    assert client.validate_token(renewed.new_token).is_valid is True
    assert client.calls_made >= 20


def test_response_models_keep_unknown_fields_and_use_decimal_and_int64() -> None:
    record = models.PaymentRecord.model_validate_json(
        b'{"caseId": 481920, "invoiceNumber": "202600145", "amount": 1240.50, "bookingDate": "2026-03-27T00:00:00Z",'
        b' "newField": {"x": 1}}'
    )
    assert record.amount == Decimal("1240.50") and isinstance(record.amount, Decimal)
    assert record.model_extra == {"newField": {"x": 1}}
    settlement = models.Settlement.model_validate(
        {
            "settlementId": 202603280001,
            "settlementDate": "2026-03-28",
            "settlementAmount": 0.1,
            "surprise": True,
        }
    )
    assert settlement.settlement_id == 202603280001 and settlement.settlement_amount == Decimal("0.1")
    assert settlement.model_extra == {"surprise": True}
