"""The bookkeeping rules on the docs' own example, and what one request's answer means for its items."""

from __future__ import annotations

from decimal import Decimal as D

from confirma_pipeline.api import contract as c
from confirma_pipeline.api.errors import AmbiguousOutcomeError, FieldError, RejectedError, UnauthorizedError
from confirma_pipeline.push.accounting import batch_outcomes

# POST accounting/ledger example (reference 2.11): (amount, netAmount, isVatRow, vatPercentage)
DOCS_ROWS = [
    (D("2990.0"), D("2990.0"), 0, D(0)),
    (D("-2990.0"), D("-2382.47"), 0, D("25.5")),
    (D("-607.53"), D("-607.53"), 1, D(0)),
]


def test_the_docs_example_balances_and_its_net_amounts_are_consistent():
    assert c.ledger_imbalance("GROSS", [(a, n, v) for a, n, v, _ in DOCS_ROWS]) is None
    assert [c.ledger_net_amount(a, p, v, "GROSS") for a, _, v, p in DOCS_ROWS] == [
        n for _, n, _, _ in DOCS_ROWS
    ]


def test_a_voucher_without_its_vat_row_or_with_one_side_missing_does_not_balance():
    without_vat_row = [(a, n, v) for a, n, v, _ in DOCS_ROWS[:2]]
    assert c.ledger_imbalance("GROSS", without_vat_row) == "row netAmounts sum to 607.53, not 0"
    assert c.ledger_imbalance("GROSS", [(a, n, v) for a, n, v, _ in DOCS_ROWS[1:]]).startswith(
        "non-VAT row amounts"
    )
    assert c.ledger_imbalance("NET", [(D("10.00"), D("10.00"), 0), (D("-10.00"), D("-10.00"), 0)]) is None


def test_a_refused_payment_batch_rejects_the_named_items_and_looks_the_others_up():
    refused = RejectedError(
        "400",
        status=400,
        reason="Validation failed",
        field_errors=[FieldError("payments[1].amount", "must be a number")],
    )
    outcomes = batch_outcomes(["p0", "p1", "p2"], refused)
    assert [o.state for o in outcomes] == ["in_flight", "rejected", "in_flight"]
    assert "payments[1].amount: must be a number" in outcomes[1].error
    # a refusal naming no item rejects the batch (resending it unchanged would be refused again)
    assert {o.state for o in batch_outcomes(["p0", "p1"], RejectedError("400", status=400))} == {"rejected"}
    assert {o.state for o in batch_outcomes(["p0"], AmbiguousOutcomeError("dropped"))} == {"in_flight"}
    assert {o.state for o in batch_outcomes(["p0"], ValueError("unreadable 202 body"))} == {"in_flight"}
    assert {o.state for o in batch_outcomes(["p0"], UnauthorizedError("401", status=401))} == {"pending"}
    assert {o.state for o in batch_outcomes(["p0", "p1"], None)} == {"submitted"}
