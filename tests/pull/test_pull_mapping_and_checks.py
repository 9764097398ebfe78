"""Response mapping (payment keys, both settlement shapes) and the warehouse-side settlement checks."""

from __future__ import annotations

import json

import dagster as dg
import psycopg

from confirma_pipeline.api import models as m
from confirma_pipeline.defs.receivables.checks import (
    settlement_allocations_match_invoices,
    settlement_allocations_sum_to_amount,
    settlement_breakdowns_sum_to_allocations,
    settlements_not_lost,
)
from confirma_pipeline.defs.resources import WarehouseResource
from confirma_pipeline.mapping.responses import payments_frame, settlement_frames
from confirma_pipeline.validation.pulled import BreakdownItemModel, PaymentModel

PAYMENT = {
    "caseId": 481920, "invoiceNumber": "202600145", "invoicePaymentReference": "RF71234567890123456789",
    "originalPaymentReference": "RF71999999999999999999", "accountName": "ACME Oy",
    "bookingDate": "2026-03-27T00:00:00Z", "paymentDate": "2026-03-27T00:00:00Z", "amount": 100.5,
    "currency": "EUR",
}  # fmt: skip
NEWER = {
    "createdAt": "2026-04-01T09:34:12.123Z",
    "settlements": [{
        "settlementId": 202603280001, "settlementDate": "2026-03-28", "agency": "CASH-IN",
        "remittanceReference": "8090801781763", "beneficiary": {"name": "Partner Test Customer", "iban": "", "bic": ""},
        "settlementAmount": 1240.50, "currency": "EUR", "apiFetchDate": None,
        "allocations": [
            {"allocationId": 9001001, "allocatedTotalAmount": 1000.00, "allocationDate": "2026-03-28",
             "currency": "EUR", "caseId": None, "originalInvoiceNumber": "202600145", "originalPaymentReference": "",
             "breakdown": [{"type": "CAPITAL", "amount": 900.00}, {"type": "INTEREST", "amount": 75.00},
                           {"type": "FEES", "amount": 25.00}]},
            {"allocationId": 9001002, "allocatedTotalAmount": 240.50, "allocationDate": "2026-03-28",
             "currency": "EUR", "caseId": None, "originalInvoiceNumber": "202600146", "originalPaymentReference": "",
             "breakdown": [{"type": "CAPITAL", "amount": 200.00}, {"type": "INTEREST", "amount": 30.00},
                           {"type": "FEES", "amount": 10.50}]},
        ],
    }],
}  # fmt: skip


def _older(newer: dict) -> dict:
    """The older documented shape: `events` instead of `breakdown`, no apiFetchDate, null beneficiary."""
    old = json.loads(json.dumps(newer))
    for s in old["settlements"]:
        s.update(agency="CashIn", remittanceReference=None, beneficiary=None)
        del s["apiFetchDate"]
        for a in s["allocations"]:
            a["events"] = a.pop("breakdown")
            del a["caseId"], a["originalPaymentReference"]
    return old


def test_payment_keys_are_content_hashes_unique_per_client_and_stable():
    twin = m.PaymentRecord.model_validate(PAYMENT)
    other = m.PaymentRecord.model_validate({**PAYMENT, "amount": 100.51})
    frame = PaymentModel.validate(payments_frame("c1", [twin, other, twin]))
    keys = frame["payment_key"].tolist()
    assert len(set(keys)) == 3  # two identical payments stay two rows
    assert keys[0].rsplit("-", 1)[0] == keys[2].rsplit("-", 1)[0] and keys[0] != keys[2]
    assert keys[1].rsplit("-", 1)[0] != keys[0].rsplit("-", 1)[0]  # content decides the hash
    assert payments_frame("c1", [twin, other, twin])["payment_key"].tolist() == keys  # rerun: same keys
    assert str(frame["payment_day"].iloc[0].date()) == "2026-03-27"


def test_both_settlement_shapes_normalise_to_the_same_rows():
    newer = settlement_frames("c1", m.SettlementsResponse.model_validate(NEWER))
    older = settlement_frames("c1", m.SettlementsResponse.model_validate(_older(NEWER)))
    assert newer.counts == older.counts == {"settlements": 1, "allocations": 2, "breakdown_items": 6}
    assert newer.breakdown.equals(older.breakdown)
    items = BreakdownItemModel.validate(older.breakdown)
    assert items["line_no"].tolist() == [1, 2, 3, 1, 2, 3]
    assert items.groupby("allocation_id")["amount"].sum().to_dict() == {9001001: 1000.0, 9001002: 240.5}
    # A null apiFetchDate (first fetch) is stored as the answer's createdAt, so a later fetch stores the same.
    assert str(newer.settlements["api_fetch_date"].iloc[0]) == "2026-04-01 09:34:12.123000+00:00"


def test_settlement_checks_fail_on_inconsistent_rows(warehouse_dsn):
    warehouse = WarehouseResource(dsn=warehouse_dsn, auto_migrate=False)
    checks = (settlement_breakdowns_sum_to_allocations, settlement_allocations_sum_to_amount)
    assert all(check(warehouse=warehouse).passed for check in checks)
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO confirma.clients (creditor_id, state) VALUES ('c1', 'created')")
        conn.execute(
            "INSERT INTO confirma.invoice_ledger (invoice_id, creditor_id, invoice_number, state, payload_hash) "
            "VALUES ('i1', 'c1', 202600145, 'submitted', 'h')"
        )
        conn.execute(
            "INSERT INTO confirma.settlements (settlement_id, creditor_id, settlement_date, settlement_amount) "
            "VALUES (202603280001, 'c1', '2026-03-28', 1240.50)"
        )
        conn.execute(
            "INSERT INTO confirma.settlement_allocations (allocation_id, settlement_id, allocated_total_amount, "
            "original_invoice_number) VALUES (1, 202603280001, 1000.00, '202600145'), "
            "(2, 202603280001, 240.00, '999999')"
        )
        conn.execute(
            "INSERT INTO confirma.allocation_breakdown VALUES (1, 1, 'CAPITAL', 900), (1, 2, 'FEES', 100), "
            "(2, 1, 'CAPITAL', 200)"
        )
        conn.execute(
            "INSERT INTO confirma.api_inbox (creditor_id, kind, payload) VALUES ('c1', 'settlements', '{}')"
        )
    breakdown = settlement_breakdowns_sum_to_allocations(warehouse=warehouse)
    amount = settlement_allocations_sum_to_amount(warehouse=warehouse)
    assert not breakdown.passed and breakdown.metadata["failing"].value == 1  # allocation 2: 200 <> 240
    assert not amount.passed and amount.metadata["failing"].value == 1  # 1240.00 <> 1240.50
    assert breakdown.severity == amount.severity == dg.AssetCheckSeverity.ERROR
    unmatched = settlement_allocations_match_invoices(warehouse=warehouse)
    assert not unmatched.passed and unmatched.severity == dg.AssetCheckSeverity.WARN
    assert unmatched.metadata["failing"].value == 1
    assert unmatched.metadata["invoice_numbers_sample"].value == "999999"
    gap = settlements_not_lost(warehouse=warehouse)
    assert not gap.passed and gap.metadata["failing"].value == 1


def test_sum_checks_are_blocking():
    for check in (settlement_breakdowns_sum_to_allocations, settlement_allocations_sum_to_amount):
        assert all(spec.blocking for spec in check.check_specs)
