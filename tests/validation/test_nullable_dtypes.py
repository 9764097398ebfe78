"""A user's relation yields nullable dtypes (boolean, Int64, object, string): one NULL rejects its own row only,
with a reason naming the column and the check, and never leaks into another row's reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from confirma_pipeline.validation import InvoiceModel, validate_invoices, validate_with_reasons
from confirma_pipeline.validation.samples import sample_invoices


def _by_id(rejected: pd.DataFrame) -> dict[str, str]:
    return dict(zip(rejected["entity_key"], rejected["reason"], strict=True))


@pytest.mark.parametrize(
    ("column", "dtype"),
    [
        ("payment_control_enabled", "boolean"),
        ("payment_control_enabled", object),
        ("distribution_enabled", "boolean"),
        ("invoice_number", "Int64"),
        ("invoice_number", object),
        ("buyer_name", object),
        ("buyer_name", "string"),
        ("net_amount", "Float64"),
        ("net_amount", object),
    ],
)
def test_a_null_in_a_not_null_column_rejects_only_its_row(column, dtype):
    invoices, rows = sample_invoices(100, 2)
    invoices[column] = invoices[column].astype(dtype)
    invoices.loc[7, column] = None
    invoices.loc[3, "currency_code"] = "XXX"  # another row's own reason
    result = validate_invoices(invoices, rows)
    reasons = _by_id(result.rejected_df)
    bad, other = invoices.loc[7, "invoice_id"], invoices.loc[3, "invoice_id"]
    assert set(reasons) == {bad, other}
    assert f"{column} is null (fails not_null)" in reasons[bad]
    assert reasons[other] == "currency_code 'XXX' fails currency_is_iso4217"
    assert len(result.valid_invoices) == 98 and len(result.valid_rows) == 196
    assert str(result.valid_invoices[column].dtype) == str(
        InvoiceModel.to_schema().columns[column].dtype
    ) or (
        column in ("buyer_name", "net_amount")  # the valid frame keeps the input's own dtype
    )


def test_nullable_dtypes_without_nulls_pass_as_the_contract_dtypes():
    invoices, rows = sample_invoices(20, 2)
    invoices = invoices.astype(
        {"payment_control_enabled": "boolean", "invoice_number": "Int64", "buyer_name": object}
    )
    rows = rows.astype({"row_number": "Int64", "name": "string", "quantity": object})
    result = validate_invoices(invoices, rows)
    assert result.rejected_df.empty and len(result.valid_invoices) == 20


def test_null_rows_in_every_dtype_of_a_relaxed_row_frame():
    invoices, rows = sample_invoices(30, 3)
    rows = rows.astype({"row_number": "Int64", "quantity": "Float64", "name": object})
    rows.loc[0, "row_number"] = pd.NA
    rows.loc[10, "quantity"] = pd.NA
    rows.loc[20, "name"] = None
    out = validate_with_reasons(
        __import__("confirma_pipeline.validation", fromlist=["InvoiceRowModel"]).InvoiceRowModel,
        rows,
        ["invoice_id", "row_number"],
    )
    keys = rows["invoice_id"].iloc[[10, 20]] + "/" + rows["row_number"].iloc[[10, 20]].astype(str)
    assert set(out.rejected_df["entity_key"]) == {*keys, f"{rows['invoice_id'].iloc[0]}/"}
    text = " | ".join(out.rejected_df["reason"])
    for col in ("row_number", "quantity", "name"):
        assert f"{col} is null (fails not_null)" in text
    assert len(out.valid_df) == len(rows) - 3
    assert np.isin([0, 10, 20], out.valid_df.index).sum() == 0
