"""The models agree with the reader's dtype contract and with the SQL tables; column schemas for Dagster;
pulled-table models and settlement consistency checks."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from confirma_pipeline.paths import sql_dir
from confirma_pipeline.validation import (
    CreditorModel,
    InvoiceModel,
    InvoiceRowModel,
    column_checks,
    column_schema,
    table_keys,
)
from confirma_pipeline.validation.actions import InvoiceActionModel
from confirma_pipeline.validation.input_contract import (
    CREDITORS_CONTRACT,
    INVOICE_ROWS_CONTRACT,
    INVOICES_CONTRACT,
)
from confirma_pipeline.validation.pulled import (
    PULLED_MODELS,
    AllocationModel,
    BreakdownItemModel,
    PaymentModel,
    SettlementModel,
    allocations_sum_to_settlement_amount,
    breakdown_sums_equal_allocation_total,
)
from confirma_pipeline.warehouse.action_ledger import ACTIONS_CONTRACT
from confirma_pipeline.warehouse.source import empty_frame

PAIRS = [
    (CreditorModel, CREDITORS_CONTRACT, "confirma_source.creditors"),
    (InvoiceModel, INVOICES_CONTRACT, "confirma_source.invoices"),
    (InvoiceRowModel, INVOICE_ROWS_CONTRACT, "confirma_source.invoice_rows"),
    (InvoiceActionModel, ACTIONS_CONTRACT, "confirma_source.invoice_actions"),
]


def _sql_columns(table: str) -> dict[str, str]:
    """column -> SQL type text, parsed from the migrations."""
    text = "\n".join(p.read_text() for p in sorted(sql_dir().joinpath("migrations").glob("*.sql")))
    body = re.search(rf"CREATE TABLE IF NOT EXISTS {re.escape(table)} \((.*?)\n\);", text, re.S).group(1)
    out = {}
    for line in body.splitlines():
        line = line.strip()
        if not line or line.startswith(("--", "PRIMARY KEY", "UNIQUE", "CHECK")):
            continue
        name, rest = line.split(None, 1)
        out[name] = rest
    # later migrations add columns with ALTER TABLE ... ADD COLUMN IF NOT EXISTS name type;
    added = rf"ALTER TABLE {re.escape(table)} ADD COLUMN IF NOT EXISTS (\w+) (.*?);"
    out.update(dict(re.findall(added, text)))
    return out


@pytest.mark.parametrize(("model", "contract", "table"), PAIRS)
def test_models_match_the_dtype_contract_and_the_sql(model, contract, table):
    schema = model.to_schema()
    assert list(schema.columns) == list(contract)
    assert list(_sql_columns(table)) == list(contract)
    for name, spec in contract.items():
        column = schema.columns[name]
        assert column.nullable == spec.nullable, name
        sql_type = _sql_columns(table)[name]
        assert ("NOT NULL" in sql_type or "PRIMARY KEY" in sql_type) == (not spec.nullable), name
    # an empty frame typed by the contract passes the model's dtype checks
    model.validate(empty_frame(contract))


@pytest.mark.parametrize(("model", "contract", "table"), PAIRS)
def test_contract_typed_frame_with_wrong_dtype_fails(model, contract, table):
    frame = empty_frame(contract)
    first_non_str = next(c for c, s in contract.items() if s.kind != "str")
    with pytest.raises(pa.errors.SchemaError):
        model.validate(frame.assign(**{first_non_str: frame[first_non_str].astype(object)}))


def test_column_schema_for_dagster():
    cols = {c["name"]: c for c in column_schema(InvoiceModel)}
    assert list(cols) == list(INVOICES_CONTRACT)
    assert set(next(iter(cols.values()))) == {"name", "type", "description", "nullable", "unique"}
    assert cols["invoice_id"] == {
        "name": "invoice_id", "type": "str", "description": cols["invoice_id"]["description"],
        "nullable": False, "unique": True,
    }  # fmt: skip
    assert cols["invoice_id"]["description"]
    assert cols["invoice_date"]["type"] == "datetime64[us]"
    assert cols["updated_at"]["type"] == "datetime64[us, UTC]"
    assert cols["credited_invoice_number"]["type"] == "Int64" and cols["credited_invoice_number"]["nullable"]
    assert cols["net_amount"]["type"] == "float64"
    assert cols["payment_control_enabled"]["type"] == "bool"
    assert all(c["description"] for c in cols.values())
    assert table_keys(InvoiceModel) == [["invoice_id"], ["creditor_id", "invoice_number"]]
    assert "row_amounts_match_quantity_price_vat" in column_checks(InvoiceRowModel)["net_amount"]
    assert "business_id_check_digit" in column_checks(CreditorModel)["business_code"]


@pytest.mark.parametrize("table", list(PULLED_MODELS))
def test_pulled_models_match_owned_tables(table):
    model = PULLED_MODELS[table]
    schema = model.to_schema()
    if table == "confirma.client_credentials":  # a view over client_tokens, without the ciphertext
        sql_cols = {
            k: v for k, v in _sql_columns("confirma.client_tokens").items() if k != "token_ciphertext"
        }
        sql_cols.pop("key_id")
    else:
        sql_cols = _sql_columns(table)
    assert list(schema.columns) == list(sql_cols)
    for name, column in schema.columns.items():
        sql_type = sql_cols[name]
        if "DEFAULT now()" in sql_type:
            assert not column.required, name  # the database fills it
            continue
        assert column.nullable == ("NOT NULL" not in sql_type and "PRIMARY KEY" not in sql_type), name
        if sql_type.startswith(("bigint", "integer")):
            assert str(column.dtype) in ("int64", "Int64"), name
        if sql_type.startswith("numeric"):
            assert str(column.dtype) == "float64", name
        if sql_type.startswith("timestamptz"):
            assert str(column.dtype) == "datetime64[us, UTC]", name
        if sql_type.startswith("date"):
            assert str(column.dtype) == "datetime64[us]", name


def test_pulled_models_coerce_api_shapes_and_check_decimals():
    frame = pd.DataFrame(
        {
            "creditor_id": ["C1", "C1"],
            "payment_key": ["k1", "k2"],
            "payment_day": ["2026-03-27", "2026-03-28"],
            "case_id": [481920, None],
            "invoice_number": ["202600145", None],
            "invoice_payment_reference": ["RF71234567890123456789", None],
            "original_payment_reference": [None, None],
            "account_name": ["ACME Oy", None],
            "booking_date": ["2026-03-27T00:00:00Z", None],
            "payment_date": ["2026-03-27T00:00:00Z", "2026-03-28T00:00:00Z"],
            "amount": [1240.5, 10.0],
            "currency": ["EUR", "EUR"],
        }
    )
    out = PaymentModel.validate(frame)
    assert out["payment_day"].dtype == np.dtype("datetime64[us]")
    assert str(out["payment_date"].dtype) == "datetime64[us, UTC]"
    assert str(out["case_id"].dtype) == "Int64"
    with pytest.raises(pa.errors.SchemaErrors) as err:
        PaymentModel.validate(frame.assign(amount=[1240.505, 1.0], payment_key=["k", "k"]), lazy=True)
    checks = set(err.value.failure_cases["check"])
    assert "must have at most 2 decimals" in checks and "multiple_fields_uniqueness" in checks


def _settlement_frames():
    settlements = SettlementModel.validate(
        pd.DataFrame(
            {
                "settlement_id": [202603280001, 202603280002, 202603280003],
                "creditor_id": ["C1", "C1", "C1"],
                "settlement_date": ["2026-03-28"] * 3,
                "agency": ["CASH-IN"] * 3,
                "remittance_reference": ["8090801781763", None, None],
                "beneficiary_name": ["Partner Test Customer", None, None],
                "beneficiary_iban": ["", None, None],
                "beneficiary_bic": ["", None, None],
                "settlement_amount": [1240.50, 100.00, 50.00],
                "currency": ["EUR"] * 3,
                "api_fetch_date": [None] * 3,
            }
        )
    )
    allocations = AllocationModel.validate(
        pd.DataFrame(
            {
                "allocation_id": [9001001, 9001002, 9002001],
                "settlement_id": [202603280001, 202603280001, 202603280002],
                "allocated_total_amount": [1000.00, 240.50, 90.00],
                "allocation_date": ["2026-03-28"] * 3,
                "currency": ["EUR"] * 3,
                "case_id": [None, None, 7],
                "original_invoice_number": ["202600145", "202600146", "1"],
                "original_payment_reference": ["", "", ""],
            }
        )
    )
    breakdown = BreakdownItemModel.validate(
        pd.DataFrame(
            {
                "allocation_id": [9001001] * 3 + [9001002] * 3 + [9002001],
                "line_no": [1, 2, 3, 1, 2, 3, 1],
                "type": ["CAPITAL", "INTEREST", "FEES"] * 2 + ["CAPITAL"],
                "amount": [900.00, 75.00, 25.00, 200.00, 30.00, 10.50, 89.99],
            }
        )
    )
    return settlements, allocations, breakdown


def test_settlement_consistency_checks_return_offending_ids():
    settlements, allocations, breakdown = _settlement_frames()
    # the docs' example (first settlement) is consistent; allocation 9002001 is one cent short;
    # settlement 2 allocates 90.00 of 100.00; settlement 3 has no allocations at all
    assert breakdown_sums_equal_allocation_total(settlements, allocations, breakdown) == [9002001]
    assert allocations_sum_to_settlement_amount(settlements, allocations, breakdown) == [
        202603280002, 202603280003,
    ]  # fmt: skip
    fixed = breakdown.assign(amount=breakdown["amount"].where(breakdown["allocation_id"] != 9002001, 90.0))
    assert breakdown_sums_equal_allocation_total(settlements, allocations, fixed) == []
    only_first = settlements.iloc[[0]]
    assert allocations_sum_to_settlement_amount(only_first, allocations, fixed) == []
