"""Sign and length rules (CHOSEN in api/contract.py) hold the same in local validation and the sandbox, and
hostile-but-valid text reaches Confirma byte for byte."""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd
import pytest

from confirma_pipeline.api.client import encode_body
from confirma_pipeline.api.contract import TEXT_MAX_LENGTHS, text_max_length
from confirma_pipeline.mapping.clients import client_bodies
from confirma_pipeline.mapping.invoices import invoice_bodies
from confirma_pipeline.sandbox.validation import validate_client, validate_invoice
from confirma_pipeline.validation import validate_invoices
from confirma_pipeline.validation.samples import sample_creditors, sample_invoices
from confirma_pipeline.validation.text_lengths import (
    CREDITOR_TEXT_PATHS,
    INVOICE_ROW_TEXT_PATHS,
    INVOICE_TEXT_PATHS,
)

HOSTILE = [
    'O\'Brien "Quoted" Oy',
    "Robert'); DROP TABLE invoices;--",
    "Kahvila ☕ 🇫🇮 Oy",
    "Zalgo Z̷̢a̵l̴g̷o̶ text",
    "שלום עולם مرحبا",
    "tab\tand\\backslash",
]


def _frames(n=6, rows=2):
    creditors = sample_creditors(3)
    invoices, inv_rows = sample_invoices(n, rows, creditor_ids=creditors["creditor_id"].tolist())
    return creditors, invoices, inv_rows


def _by_key(result) -> dict[str, str]:
    return dict(zip(result.rejected_df["entity_key"], result.rejected_df["reason"], strict=True))


def _sandbox_fields(body: dict, validate=validate_invoice) -> dict[str, str]:
    """The sandbox's verdict on a body as it would arrive over HTTP (numbers parsed as Decimal)."""
    errors = validate(json.loads(encode_body(body), parse_float=Decimal))
    items = errors[0].items if isinstance(errors, tuple) else errors.items
    return {e["field"]: e["message"] for e in items}


def _negate(invoices, rows, invoice_id):
    for c in ("quantity", "net_amount", "vat_amount", "gross_amount"):
        rows.loc[rows["invoice_id"] == invoice_id, c] *= -1
    for c in ("net_amount", "vat_amount", "gross_amount"):
        invoices.loc[invoices["invoice_id"] == invoice_id, c] *= -1


def test_negative_rows_only_on_credit_notes_and_totals_fit_the_type():
    creditors, invoices, rows = _frames()
    ids = invoices["invoice_id"].tolist()
    _negate(invoices, rows, ids[0])  # an INVOICE with negative rows and totals: rejected
    _negate(invoices, rows, ids[1])  # a CREDIT_NOTE with the same: accepted
    invoices.loc[1, ["invoice_type", "credited_invoice_number"]] = ["CREDIT_NOTE", 5]
    invoices.loc[2, ["invoice_type", "credited_invoice_number"]] = ["CREDIT_NOTE", 5]  # positive totals
    result = validate_invoices(invoices, rows)
    reasons = _by_key(result)
    assert set(reasons) == {ids[0], ids[2]}
    assert (
        "negative on invoice_type 'INVOICE' (fails no_negative_row_on_this_document_type)" in reasons[ids[0]]
    )
    assert "fail totals_sign_fits_invoice_type" in reasons[ids[0]]
    assert "fail totals_sign_fits_invoice_type for invoice_type 'CREDIT_NOTE'" in reasons[ids[2]]

    # the sandbox draws the same line
    bodies = dict(zip(ids, invoice_bodies(invoices, rows, creditors), strict=True))
    fields = {i: set(_sandbox_fields(bodies[i])) for i in ids[:3]}
    assert "invoice.rows[0].quantity" in fields[ids[0]] and "invoice.amounts.grossAmount" in fields[ids[0]]
    assert fields[ids[1]] == set()
    assert fields[ids[2]] == {
        "invoice.amounts.netAmount",
        "invoice.amounts.vatAmount",
        "invoice.amounts.grossAmount",
    }


def test_every_text_column_has_the_limit_of_its_body_field_and_the_sandbox_applies_it():
    # every mapped text path has a CHOSEN limit (codes are checked by their own lists)
    for paths in (CREDITOR_TEXT_PATHS, INVOICE_TEXT_PATHS, INVOICE_ROW_TEXT_PATHS):
        for column, path in paths.items():
            assert path in TEXT_MAX_LENGTHS or column.endswith(
                ("country_code", "language_code", "currency_code")
            )
    # one invoice per text column, that column one character too long: validation names the column, the
    # sandbox the field, with the same limit
    columns = [*INVOICE_TEXT_PATHS, *(f"row:{c}" for c in INVOICE_ROW_TEXT_PATHS)]
    creditors, invoices, rows = _frames(n=len(columns), rows=1)
    invoices = invoices.astype({c: object for c in INVOICE_TEXT_PATHS})
    rows = rows.astype({c: object for c in INVOICE_ROW_TEXT_PATHS})
    for i, column in enumerate(columns):
        if column.startswith("row:"):
            rows.loc[i, column[4:]] = "x" * (text_max_length(INVOICE_ROW_TEXT_PATHS[column[4:]]) + 1)
        else:
            invoices.loc[i, column] = "x" * (text_max_length(INVOICE_TEXT_PATHS[column]) + 1)
    reasons = _by_key(validate_invoices(invoices, rows))
    bodies = invoice_bodies(invoices, rows, creditors)
    for i, column in enumerate(columns):
        path = INVOICE_ROW_TEXT_PATHS[column[4:]] if column.startswith("row:") else INVOICE_TEXT_PATHS[column]
        limit = text_max_length(path)
        name = column.removeprefix("row:")
        reason = reasons[invoices.loc[i, "invoice_id"]]
        assert f"{name} has {limit + 1} characters, more than {limit} (fails max_length)" in reason, column
        fields = _sandbox_fields(bodies[i])
        assert fields.get(path.replace("[]", "[0]")) == f"must be at most {limit} characters", (
            column,
            fields,
        )
    for column, path in CREDITOR_TEXT_PATHS.items():
        if path not in TEXT_MAX_LENGTHS:
            continue
        cred = creditors.head(1).copy()
        cred.loc[0, column] = "x" * (TEXT_MAX_LENGTHS[path] + 1)
        assert path in _sandbox_fields(client_bodies(cred)[0], validate_client), column


def test_the_issue_s_overlong_texts_are_rejected():
    _, invoices, rows = _frames()
    invoices["description"] = invoices["description"].astype(object)
    invoices["buyer_name"] = invoices["buyer_name"].astype(object)
    rows["name"] = rows["name"].astype(object)
    invoices.loc[0, "description"] = "d" * 100_000
    invoices.loc[1, "buyer_name"] = "b" * 5_000
    rows.loc[rows["invoice_id"] == invoices.loc[2, "invoice_id"], "name"] = "r" * 12_000
    reasons = _by_key(validate_invoices(invoices, rows))
    assert "description has 100000 characters, more than 512" in reasons[invoices.loc[0, "invoice_id"]]
    assert "buyer_name has 5000 characters, more than 70" in reasons[invoices.loc[1, "invoice_id"]]
    assert "row 1: name has 12000 characters, more than 100" in reasons[invoices.loc[2, "invoice_id"]]
    assert len(reasons) == 3


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_but_valid_text_is_accepted_and_sent_byte_for_byte(text, client, client_token, sandbox):
    creditors, invoices, rows = _frames(n=1, rows=1)
    for frame, column in ((invoices, "buyer_name"), (invoices, "description"), (rows, "name")):
        frame[column] = pd.Series([text] * len(frame), dtype="str", index=frame.index)
    result = validate_invoices(invoices, rows)
    assert result.rejected_df.empty
    body = encode_body(invoice_bodies(result.valid_invoices, result.valid_rows, creditors)[0])
    sent = json.loads(body)
    assert sent["invoice"]["parties"]["buyerParty"]["name"] == text
    assert sent["invoice"]["header"]["description"] == text
    assert sent["invoice"]["rows"][0]["name"] == text
    assert not _sandbox_fields(sent)
    client.create_invoice(client_token, body)
    stored = [inv for per_client in sandbox.sandbox.state.invoices.values() for inv in per_client.values()]
    assert [inv["buyerName"] for inv in stored] == [text]


def test_xml_characters_rule_is_xml_1_0_char_production_on_both_paths():
    """`ids.xml_safe` (a byte-range pass, then a regex only for a column that might hold one) marks exactly the
    characters XML 1.0's Char production excludes, whether the column takes the fast path or the regex; the
    sandbox's `re` reads the same CHOSEN class."""
    import re

    from confirma_pipeline.api.contract import XML_FORBIDDEN_CHARACTERS
    from confirma_pipeline.validation import identifiers as ids

    def xml_char(cp: int) -> bool:  # https://www.w3.org/TR/xml/#charsets
        return cp in (0x9, 0xA, 0xD) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or cp >= 0x10000

    code_points = [*range(0x0, 0x250), *range(0xE000, 0xE010), *range(0xEFF0, 0x10010), 0x1F600, 0x10FFFF]
    texts = [f"a{chr(cp)}b" for cp in code_points]
    expected = [xml_char(cp) for cp in code_points]
    as_column = pd.Series(texts, dtype="str")
    assert ids.xml_safe(as_column).tolist() == expected
    assert [re.search(XML_FORBIDDEN_CHARACTERS, t) is None for t in texts] == expected
    # one value per column: each plain one takes the fast path, each other one the regex
    assert [bool(ids.xml_safe(pd.Series([t], dtype="str"))[0]) for t in texts] == expected
