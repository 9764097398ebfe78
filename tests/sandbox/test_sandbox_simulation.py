"""Simulated time: 60 days of distribution, cases, payments and settlements whose sums hold exactly."""

from __future__ import annotations

from decimal import Decimal

from confirma_pipeline.api import ConfirmaClient, models
from confirma_pipeline.sandbox import SandboxServer
from confirma_pipeline.sandbox.examples import sample_invoice

INT32_MAX = 2**31 - 1


def _push(client: ConfirmaClient, token: str, count: int) -> list[int]:
    numbers = [250_000 + i for i in range(count)]
    for n in numbers:
        client.create_invoice(token, sample_invoice(n, rows=2, payment_days=10 + n % 20))
    return numbers


def test_sixty_days_produce_payments_and_settlements_whose_sums_hold(
    sandbox: SandboxServer, client: ConfirmaClient, client_token: str
) -> None:
    numbers = _push(client, client_token, 40)
    before = client.get_distribution(client_token, invoice_number=numbers[0]).distributions[0]
    assert before.distribution_status == "RECEIVED" and before.case_id is None

    happened = sandbox.control.advance(60)["happened"]
    assert happened["distributed"] + happened["failed"] == 40

    records = client.get_distribution(client_token, from_inv_date="2025-01-01", to_inv_date="2026-12-31")
    assert records.meta_data.total_count == 40
    assert records.meta_data.successful_count == happened["distributed"]
    distributed = [r for r in records.distributions if r.distribution_status == "DISTRIBUTED"]
    assert all(r.case_id is not None and r.distributed_at is not None for r in distributed)

    payments = client.get_payments(client_token, "2025-12-01", "2026-02-28")
    assert payments, "60 days should bring payments"
    assert all(isinstance(p.invoice_number, str) and p.amount > 0 for p in payments)
    assert all(p.payment_date.tzinfo is not None for p in payments)

    settlements = client.get_settlements(
        client_token, from_date="2025-12-01", to_date="2026-02-28"
    ).settlements
    assert settlements
    kinds = set()
    for settlement in settlements:
        assert settlement.settlement_id > INT32_MAX
        assert (
            sum((a.allocated_total_amount for a in settlement.allocations), Decimal(0))
            == settlement.settlement_amount
        )
        for allocation in settlement.allocations:
            assert allocation.breakdown
            assert (
                sum((b.amount for b in allocation.breakdown), Decimal(0)) == allocation.allocated_total_amount
            )
            kinds |= {b.type for b in allocation.breakdown}
    assert kinds <= {"CAPITAL", "INTEREST", "FEES"} and "CAPITAL" in kinds
    # every settled payment appears in exactly one allocation, with the same amount
    settled_total = sum((s.settlement_amount for s in settlements), Decimal(0))
    assert settled_total <= sum((p.amount for p in payments), Decimal(0))

    closed = [
        r for r in distributed if client.get_case(client_token, r.case_id).case.summary.status == "CLOSED"
    ]
    assert closed, "fully paid cases close"
    case = client.get_case(client_token, closed[0].case_id).case
    assert case.balance.total_amount == 0 and case.summary.closed_at is not None


def test_unfetched_only_returns_each_settlement_once(
    sandbox: SandboxServer, client: ConfirmaClient, client_token: str
) -> None:
    _push(client, client_token, 30)
    sandbox.control.advance(30)
    first = client.get_settlements(client_token, unfetched_only=True).settlements
    assert first and all(s.api_fetch_date is None for s in first)
    assert client.get_settlements(client_token, unfetched_only=True).settlements == []
    sandbox.control.advance(30)
    second = client.get_settlements(client_token, unfetched_only=True).settlements
    assert {s.settlement_id for s in first}.isdisjoint({s.settlement_id for s in second})
    everything = client.get_settlements(
        client_token, from_date="2025-01-01", to_date="2026-12-31"
    ).settlements
    assert {s.settlement_id for s in everything} == {s.settlement_id for s in first + second}
    assert all(s.api_fetch_date is not None for s in everything)  # the fetch was recorded


def test_older_events_shape_parses_into_breakdown() -> None:
    older = {
        "settlements": [{
            "settlementId": 202603280001, "settlementDate": "2026-03-28", "agency": "CashIn",
            "remittanceReference": None, "beneficiary": None, "settlementAmount": 1240.50, "currency": "EUR",
            "allocations": [
                {"allocationId": 9001001, "allocatedTotalAmount": 1000.00, "allocationDate": "2026-03-28",
                 "currency": "EUR", "originalInvoiceNumber": "202600145",
                 "events": [{"type": "CAPITAL", "amount": 900.00}, {"type": "INTEREST", "amount": 75.00},
                            {"type": "FEES", "amount": 25.00}]},
                {"allocationId": 9001002, "allocatedTotalAmount": 240.50, "allocationDate": "2026-03-28",
                 "currency": "EUR", "originalInvoiceNumber": "202600146",
                 "events": [{"type": "CAPITAL", "amount": 200.00}, {"type": "INTEREST", "amount": 30.00},
                            {"type": "FEES", "amount": 10.50}]},
            ],
        }]
    }  # fmt: skip
    parsed = models.SettlementsResponse.model_validate(older).settlements[0]
    assert parsed.settlement_id == 202603280001 and parsed.api_fetch_date is None
    assert [len(a.breakdown) for a in parsed.allocations] == [3, 3]
    assert parsed.allocations[1].breakdown[2].amount == Decimal("10.50")
    assert sum((a.allocated_total_amount for a in parsed.allocations), Decimal(0)) == parsed.settlement_amount
    assert parsed.allocations[0].model_dump(mode="json")["breakdown"][0] == {
        "type": "CAPITAL",
        "amount": 900.0,
    }
