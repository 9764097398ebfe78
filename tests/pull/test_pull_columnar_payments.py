"""The payments answer decoded column-wise (api/columnar.py) gives exactly the frame, keys and drift of the
model's path (`PaymentsResponse` + `payments_frame`), and declines what the model would coerce or refuse."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pandas as pd
import pytest
from test_pull_mapping_and_checks import PAYMENT

from confirma_pipeline.api import models as m
from confirma_pipeline.api.columnar import NotColumnar, columns_from_records, decode_payments
from confirma_pipeline.api.drift import walk
from confirma_pipeline.mapping.responses import payments_frame, payments_frame_from_columns
from confirma_pipeline.validation.pulled import PaymentModel

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
PLAIN = PAYMENT
ANSWERS = {
    "plain, with an identical twin": [PLAIN, {**PLAIN, "amount": 7}, PLAIN],
    "offsets, fractions, naive, pre-1970, nulls, negative": [
        {**PLAIN, "paymentDate": "2026-03-27T01:30:00.5+02:00", "bookingDate": "2026-03-26T23:59:59.000001"},
        {**PLAIN, "paymentDate": None, "bookingDate": "1965-11-03T23:34:00.25-05:30", "amount": -0.5},
        {**PLAIN, "caseId": None, "invoiceNumber": None, "currency": None, "amount": 99999999999.99},
    ],
    "fields missing or unknown": [
        {"amount": 1, "paymentDate": "2026-03-27T00:00:00Z", "extra": {"a": 1}},
        {**PLAIN, "extra": "x", "another": None},
    ],
    "empty": [],
}
DECLINED = {
    "caseId as a string": [{**PLAIN, "caseId": "481920"}],
    "snake_case name": [{"case_id": 5, "amount": 1, "paymentDate": "2026-03-27T00:00:00Z"}],
    "amount as a string": [{**PLAIN, "amount": "100.50"}],
    "a date without time": [{**PLAIN, "paymentDate": "2026-03-27"}],
    "amount null": [{**PLAIN, "amount": None}],
    "amount missing": [{k: v for k, v in PLAIN.items() if k != "amount"}],
    "amount a boolean": [{**PLAIN, "amount": True}],
    "currency a number": [{**PLAIN, "currency": 978}],
    "amount beyond exact cents": [{**PLAIN, "amount": 1e15}],
    "not an array": {"payments": [PLAIN]},
    "an impossible date": [{**PLAIN, "paymentDate": "2026-02-30T00:00:00Z"}],
}


def _reference(content: bytes) -> pd.DataFrame:
    return PaymentModel.validate(
        payments_frame("c1", m.PaymentsResponse.model_validate_json(content).root, AT)
    )


@pytest.mark.parametrize("name", ANSWERS)
def test_columns_give_the_models_frame_keys_and_drift(name):
    content = json.dumps(ANSWERS[name]).encode()
    columns, drift = decode_payments(content)
    frame = PaymentModel.validate(payments_frame_from_columns("c1", columns, AT))
    pd.testing.assert_frame_equal(frame, _reference(content))
    assert drift == walk(m.PaymentsResponse, json.loads(content))


@pytest.mark.parametrize("name", DECLINED)
def test_what_the_model_would_coerce_or_refuse_is_declined(name):
    content = json.dumps(DECLINED[name]).encode()
    with pytest.raises(NotColumnar):
        decode_payments(content)


@pytest.mark.parametrize(
    "answer",
    [
        ANSWERS["offsets, fractions, naive, pre-1970, nulls, negative"],
        DECLINED["caseId as a string"] + DECLINED["amount as a string"],
    ],
)
def test_the_models_path_gives_the_same_columns(answer):
    """An answer the fast path declines but the model accepts (lax coercion) is written as the model reads it."""
    content = json.dumps(answer).encode()
    records = m.PaymentsResponse.model_validate_json(content).root
    frame = PaymentModel.validate(payments_frame_from_columns("c1", columns_from_records(records), AT))
    pd.testing.assert_frame_equal(frame, _reference(content))
