"""The models and the reasons: bad rows are rejected with every check they fail, good rows pass, an invoice with
one bad row is rejected as a whole."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from confirma_pipeline.validation import (
    CreditorModel,
    InvoiceModel,
    InvoiceRowModel,
    validate_invoices,
    validate_with_reasons,
)
from confirma_pipeline.validation.conform import RelationError
from confirma_pipeline.validation.row_hashes import row_hashes
from confirma_pipeline.validation.samples import sample_creditors, sample_invoices


def _by_key(rejected: pd.DataFrame, key: str = "entity_key") -> dict[str, dict]:
    return {r[key]: r for r in rejected.to_dict("records")}


def test_sample_frames_are_valid():
    creditors = sample_creditors(20)
    invoices, rows = sample_invoices(300, (1, 6), creditor_ids=creditors["creditor_id"].tolist())
    assert validate_with_reasons(CreditorModel, creditors, ["creditor_id"]).rejected_df.empty
    result = validate_invoices(invoices, rows)
    assert result.rejected_df.empty, result.rejected_df["reason"].tolist()[:3]
    assert len(result.valid_invoices) == 300 and len(result.valid_rows) == len(rows)


def test_creditor_rows_are_rejected_with_every_failed_check():
    c = sample_creditors(9)
    c.loc[1, ["business_code", "postal_code"]] = ["1234567-8", "123"]
    c.loc[2, ["email", "iban_account", "language_code", "currency_code", "website"]] = [
        "not-an-email", "FI12345678912345678", "XX", "eur", "not a url",
    ]  # fmt: skip
    c.loc[3, ["service_type", "country_code", "technical_contact_email", "bic"]] = [
        "GOLD",
        "UK",
        "tech@",
        "DABA",
    ]
    c.loc[4, "name"] = None
    c.loc[4, "primary_contact_name"] = "  "
    c.loc[6, "creditor_id"] = c.loc[5, "creditor_id"]
    # a Swedish creditor: its org number is not a Y-tunnus and its postal code is "NNN NN" -> valid
    c.loc[7, ["business_code", "country_code", "postal_code", "currency_code", "language_code"]] = [
        "556677-8899", "SE", "114 55", "SEK", "SV",
    ]  # fmt: skip
    c.loc[8, "business_code"] = "123456-7"  # the create-client example's businessCode

    out = validate_with_reasons(CreditorModel, c, ["creditor_id"])
    rejected = _by_key(out.rejected_df)
    ids = c["creditor_id"]

    assert sorted(out.valid_df["creditor_id"]) == sorted([ids[0], ids[7]])
    r1 = rejected[ids[1]]
    assert r1["entity"] == "creditor"
    assert r1["checks"] == ["business_id_check_digit", "postal_code_matches_country"]
    assert "business_code '1234567-8' fails business_id_check_digit" in r1["reason"]
    assert "postal_code '123' fails postal_code_matches_country for country_code 'FI'" in r1["reason"]

    r2 = rejected[ids[2]]
    assert set(r2["checks"]) == {
        "email_format", "iban_checksum", "language_is_iso639_1", "currency_is_iso4217", "url_format",
    }  # fmt: skip
    for fragment in (
        "email 'not-an-email' fails email_format",
        "iban_account 'FI12345678912345678' fails iban_checksum",
        "language_code 'XX' fails language_is_iso639_1",
        "currency_code 'eur' fails currency_is_iso4217",
        "website 'not a url' fails url_format",
    ):
        assert fragment in r2["reason"]

    r3 = rejected[ids[3]]
    assert set(r3["checks"]) == {"service_type_known", "country_is_iso3166", "email_format", "bic_format"}
    assert "technical_contact_email 'tech@' fails email_format" in r3["reason"]

    r4 = rejected[ids[4]]
    assert set(r4["checks"]) == {"not_null", "not_blank"}
    assert "name is null (fails not_null)" in r4["reason"]
    assert "primary_contact_name '  ' fails not_blank" in r4["reason"]

    dup = out.rejected_df[out.rejected_df["creditor_id"] == ids[5]]
    assert len(dup) == 2 and all(ch == ["creditor_id_unique"] for ch in dup["checks"])
    assert "is duplicated (fails creditor_id_unique)" in dup["reason"].iloc[0]

    assert rejected[ids[8]]["checks"] == ["business_id_check_digit"]
    # the columns of confirma.rejected_rows, with the content hash of the input row
    assert r1["content_hash"] == row_hashes(c.iloc[[1]]).iloc[0]
    assert list(out.rejected_df.columns) == [
        "entity",
        "entity_key",
        "creditor_id",
        "content_hash",
        "checks",
        "reason",
    ]
    assert out.check_counts["business_id_check_digit"] == 2
    assert out.failure_cases >= 14


def test_valid_frame_keeps_its_index_and_rejections_name_keys():
    c = sample_creditors(4)
    c.index = pd.Index([100, 200, 300, 400])
    c.loc[300, "email"] = "nope"
    out = validate_with_reasons(CreditorModel, c, ["creditor_id"])
    assert out.valid_df.index.tolist() == [100, 200, 400]
    assert out.rejected_df["creditor_id"].tolist() == [c.loc[300, "creditor_id"]]
    assert out.rejected_df["entity_key"].tolist() == [c.loc[300, "creditor_id"]]


def _bad_invoice_batch():
    invoices, rows = sample_invoices(11, 3, creditor_ids=["C1", "C2"])
    ids = invoices["invoice_id"].tolist()
    invoices.loc[0, "due_date"] = invoices.loc[0, "invoice_date"] - pd.Timedelta(days=1)
    invoices.loc[1, ["payment_reference", "currency_code", "buyer_postal_code"]] = [
        "2516000017",
        "EUR1",
        "123",
    ]
    bad_row = rows.index[(rows["invoice_id"] == ids[2]) & (rows["row_number"] == 2)][0]
    rows.loc[bad_row, "net_amount"] = rows.loc[bad_row, "net_amount"] + 1.0
    invoices.loc[3, "net_amount"] = invoices.loc[3, "net_amount"] + 0.01
    invoices.loc[3, "gross_amount"] = invoices.loc[3, "gross_amount"] + 0.01
    rows = rows[rows["invoice_id"] != ids[4]]
    invoices.loc[5, ["seller_iban", "seller_business_id", "recipient_postal_code", "recipient_country_code"]] = [
        "FI12345678912345678", "1234567-8", "12", "SE",
    ]  # fmt: skip
    invoices.loc[7, "invoice_number"] = invoices.loc[9, "invoice_number"]  # same creditor (C2): duplicate
    invoices.loc[8, ["invoice_type", "buyer_email"]] = ["CREDIT_NOTE", None]
    invoices.loc[10, "payment_reference"] = "RF18539007547034"  # RF references are fine
    rows = pd.concat([rows, rows.iloc[[0]].assign(invoice_id="ORPHAN")], ignore_index=True)
    return invoices, rows, ids


def test_invoices_rejected_with_all_reasons_and_rows_dropped():
    invoices, rows, ids = _bad_invoice_batch()
    result = validate_invoices(invoices, rows)
    rejected = _by_key(result.rejected_df)

    assert result.valid_invoices["invoice_id"].tolist() == [ids[6], ids[10]]
    assert set(result.valid_rows["invoice_id"]) == {ids[6], ids[10]}
    assert len(result.valid_rows) == 6

    assert rejected[ids[0]]["checks"] == ["due_date_not_before_invoice_date"]
    assert "fails due_date_not_before_invoice_date for invoice_date" in rejected[ids[0]]["reason"]

    r1 = rejected[ids[1]]
    assert set(r1["checks"]) == {
        "payment_reference_checksum",
        "currency_is_iso4217",
        "postal_code_matches_country",
    }
    assert "payment_reference '2516000017' fails payment_reference_checksum" in r1["reason"]
    assert (
        "buyer_postal_code '123' fails postal_code_matches_country for buyer_country_code 'FI'"
        in r1["reason"]
    )

    # one bad row rejects the whole invoice; the reason names the row and its check (and the totals follow)
    r2 = rejected[ids[2]]
    assert r2["checks"] == ["row_amounts_match_quantity_price_vat", "row_sums_equal_invoice_totals"]
    assert "row 2: net_amount" in r2["reason"] and "expected net" in r2["reason"]
    assert ids[2] not in set(result.valid_rows["invoice_id"])

    assert set(rejected[ids[3]]["checks"]) == {"row_sums_equal_invoice_totals"}
    assert "net_amount" in rejected[ids[3]]["reason"] and "vs rows" in rejected[ids[3]]["reason"]
    assert rejected[ids[4]]["checks"] == ["invoice_has_rows"]

    r5 = rejected[ids[5]]
    assert set(r5["checks"]) == {"iban_checksum", "business_id_check_digit", "postal_code_matches_country"}
    assert (
        "recipient_postal_code '12' fails postal_code_matches_country for recipient_country_code 'SE'"
        in (r5["reason"])
    )

    for i in (7, 9):
        assert rejected[ids[i]]["checks"] == ["invoice_number_unique_per_creditor_id"]
    r8 = rejected[ids[8]]
    assert set(r8["checks"]) == {
        "credit_note_has_credited_invoice_number",
        "email_distribution_has_email_address",
        "totals_sign_fits_invoice_type",  # a credit note's totals are <= 0 (CHOSEN)
    }

    orphan = result.rejected_df[result.rejected_df["entity"] == "invoice_row"]
    assert orphan["invoice_id"].tolist() == ["ORPHAN"]
    assert orphan["checks"].tolist() == [["row_belongs_to_an_invoice"]]
    assert "ORPHAN" not in set(result.valid_rows["invoice_id"])

    assert set(result.rejected_df.loc[result.rejected_df["entity"] == "invoice", "creditor_id"]) <= {
        "C1",
        "C2",
    }
    valid_i, valid_r, rej = result  # tuple-style unpacking
    assert len(valid_i) == 2 and len(rej) == len(result.rejected_df)

    # the content hash covers the invoice's rows: fixing row 2 changes it, an unrelated invoice does not
    assert result.rejected_df["content_hash"].str.len().eq(64).all()
    fixed_rows = rows.copy()
    target = fixed_rows.index[(fixed_rows["invoice_id"] == ids[2]) & (fixed_rows["row_number"] == 1)][0]
    fixed_rows.loc[target, "name"] = "Renamed"
    again = _by_key(validate_invoices(invoices, fixed_rows).rejected_df)
    assert again[ids[2]]["content_hash"] != rejected[ids[2]]["content_hash"]
    assert again[ids[1]]["content_hash"] == rejected[ids[1]]["content_hash"]

    # a caller that records its own hash (the push) gets the same rejections, reasons and valid rows
    unhashed = validate_invoices(invoices, rows, content_hashes=False)
    assert unhashed.rejected_df["content_hash"].eq("").all()
    pd.testing.assert_frame_equal(
        unhashed.rejected_df.drop(columns="content_hash"), result.rejected_df.drop(columns="content_hash")
    )
    assert unhashed.valid_rows.index.equals(result.valid_rows.index)


def test_row_amount_rule_accepts_either_rounding_of_a_tie_but_not_a_cent_off():
    rows = pd.DataFrame(
        {
            "invoice_id": pd.Series(["I1"] * 4, dtype="str"),
            "row_number": np.arange(1, 5, dtype=np.int64),
            "product_code": pd.Series([None] * 4, dtype="str"),
            "name": pd.Series(["x"] * 4, dtype="str"),
            "quantity": [0.5, 0.5, 0.5, 1.0],
            "unit_price": [0.05, 0.05, 0.05, 10.0],
            "vat_percentage": [0.0, 0.0, 0.0, 25.5],
            "net_amount": [0.03, 0.02, 0.04, 10.0],  # 0.025 -> 0.03 (half up) or 0.02 (half even); 0.04 wrong
            "vat_amount": [0.0, 0.0, 0.0, 2.56],  # 2.55 expected
            "gross_amount": [0.03, 0.02, 0.04, 12.56],
            "discount_percentage": [np.nan] * 4,
        }
    )
    rows["unit_code"] = pd.Series(["kpl"] * 4, dtype="str")
    rows = rows[list(InvoiceRowModel.to_schema().columns)]
    out = validate_with_reasons(InvoiceRowModel, rows, ["invoice_id", "row_number"])
    assert out.rejected_df["row_number"].tolist() == [3, 4]
    assert "(expected net 2.55" not in out.rejected_df["reason"].iloc[1]
    assert "expected net 10.00, vat 2.55, gross 12.55" in out.rejected_df["reason"].iloc[1]


def test_whole_relation_failures_stop_with_one_line_naming_the_column():
    invoices, rows = sample_invoices(3, 1)
    broken = invoices.assign(invoice_number=invoices["invoice_number"].astype(str))
    with pytest.raises(RelationError, match="column invoice_number has dtype .* cannot be read as int64"):
        validate_with_reasons(InvoiceModel, broken, ["invoice_id"])
    with pytest.raises(RelationError, match="column unit_code is missing"):
        validate_with_reasons(InvoiceRowModel, rows.drop(columns=["unit_code"]), ["invoice_id", "row_number"])
    with pytest.raises(RelationError, match="column secret is not in the input contract"):
        validate_with_reasons(InvoiceRowModel, rows.assign(secret=1), ["invoice_id", "row_number"])
    with pytest.raises(RelationError, match="invoice_row input: column quantity") as err:
        validate_invoices(invoices, rows.assign(quantity=rows["quantity"].astype(str)))
    assert str(err.value.naming("my.rows_view")).startswith("relation my.rows_view: column quantity")
    assert "\n" not in str(err.value)
