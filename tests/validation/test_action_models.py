"""Each invoice-action code has its own pandera model (issue 14), read from the warehouse as a run reads it:
the codes whose data is only invoiceNumber/caseId refuse a field of another code (mapping would drop it
silently), and an OBJECTION needs its comment."""

from __future__ import annotations

import datetime as dt

import psycopg

from confirma_pipeline.api.contract import ACTION_CODES
from confirma_pipeline.validation.actions import MODELS_BY_CODE, InvoiceActionModel, validate_actions
from confirma_pipeline.warehouse.action_ledger import read_open_actions

ROWS = [  # action_id, code, comment, due_date, amount
    ("OK-WITHDRAW", "WITHDRAW", None, None, None),
    ("OK-PAUSE", "PAUSE", "holiday", None, None),
    ("OK-PAYMENTPLAN", "PAYMENTPLAN", None, None, None),
    ("OK-OBJECTION", "OBJECTION", "the goods never arrived", None, None),
    ("BAD-WITHDRAW-due-date", "WITHDRAW", None, dt.date(2099, 1, 1), None),
    ("BAD-PAUSE-amount", "PAUSE", None, None, 10),
    ("BAD-PAYMENTPLAN-due-date", "PAYMENTPLAN", None, dt.date(2099, 1, 1), None),
    ("BAD-OBJECTION-no-comment", "OBJECTION", None, None, None),
]


def test_every_code_has_its_own_model():
    assert set(MODELS_BY_CODE) == set(ACTION_CODES)
    models = list(MODELS_BY_CODE.values())
    assert len(set(models)) == len(models) and InvoiceActionModel not in models


def test_each_code_is_validated_by_its_model(warehouse_dsn):
    with psycopg.connect(warehouse_dsn) as conn:
        for row in ROWS:
            conn.execute(
                "INSERT INTO confirma_source.invoice_actions (action_id, invoice_id, code, comment, due_date, amount) "
                "VALUES (%s, 'INV-1', %s, %s, %s, %s)",
                (row[0], *row[1:]),
            )
        outcome = validate_actions(read_open_actions(conn))
    assert sorted(outcome.valid_df["action_id"]) == sorted(r[0] for r in ROWS if r[0].startswith("OK"))
    rejected = {r["entity_key"]: (r["checks"], r["reason"]) for r in outcome.rejected_df.to_dict("records")}
    assert set(rejected) == {r[0] for r in ROWS if r[0].startswith("BAD")}
    for key in ("BAD-WITHDRAW-due-date", "BAD-PAUSE-amount", "BAD-PAYMENTPLAN-due-date"):
        assert any("no_data_of_another_code" in c for c in rejected[key][0]), rejected[key]
    assert "comment is null (fails not_null)" in rejected["BAD-OBJECTION-no-comment"][1]


def test_inherited_checks_keep_their_names_in_every_model():
    """pandera 0.35 loses an inherited check's name after the first schema is built: reasons would then name
    `_comment_length` instead of `comment_length` for all but one code."""
    for model in [InvoiceActionModel, *MODELS_BY_CODE.values(), *MODELS_BY_CODE.values()]:
        schema = model.to_schema()
        assert "comment_length" in [c.name for c in schema.columns["comment"].checks], model
        assert [c.name for c in schema.columns["action_id"].checks] == ["not_blank"], model
