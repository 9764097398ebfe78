"""The payments pull writes exactly the rows the model's path gives (`PaymentsResponse` + `payments_frame`,
the path before the column-wise decoding of issue 16): same keys, same values."""

from __future__ import annotations

from datetime import timedelta

from pull_world import LAST_DAY, SANDBOX_START, materialize, range_tags

from confirma_pipeline.defs.receivables.assets import payments
from confirma_pipeline.mapping.responses import payments_frame
from confirma_pipeline.validation.pulled import PaymentModel, columns

COMPARED = [c for c in columns(PaymentModel) if c not in ("creditor_id", "fetched_at")]


def _model_rows(world, creditor_id: str) -> set[tuple]:
    # The asset re-reads its 7 look-back days too.
    records = world.api.get_payments(world.tokens[creditor_id], SANDBOX_START - timedelta(days=7), LAST_DAY)
    frame = PaymentModel.validate(payments_frame(creditor_id, records))
    frame["payment_day"] = frame["payment_day"].dt.date
    frame = frame.astype(object).where(frame.notna(), None)
    return {tuple(row) for row in frame[COMPARED].itertuples(index=False)}


def _stored_rows(world, creditor_id: str) -> set[tuple]:
    with world.connect() as conn:
        rows = conn.execute(
            f"SELECT {', '.join(COMPARED)} FROM confirma.payments WHERE creditor_id = %s", (creditor_id,)
        ).fetchall()
    return {tuple(float(v) if name == "amount" and v is not None else v for name, v in zip(COMPARED, row, strict=True))
            for row in rows}  # fmt: skip


def test_pulled_payments_are_the_rows_of_the_models_path(world):
    assert materialize(world, [payments], tags=range_tags(SANDBOX_START, LAST_DAY)).success
    total = 0
    for creditor_id in world.tokens:
        expected = _model_rows(world, creditor_id)
        assert _stored_rows(world, creditor_id) == expected
        total += len(expected)
    assert total > 0
