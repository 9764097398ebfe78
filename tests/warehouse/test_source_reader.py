"""The source reader against the real embedded PostgreSQL: dtypes, null vs '', dates, numerics, Int64,
chunking, filters and configurable relation names."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import psycopg
import pytest
from psycopg import sql

from confirma_pipeline.errors import ConfigError
from confirma_pipeline.validation.input_contract import (
    CREDITORS_CONTRACT,
    INVOICE_ROWS_CONTRACT,
    INVOICES_CONTRACT,
)
from confirma_pipeline.warehouse.source import iter_invoices, read_creditors, read_invoices


def _insert(conn, table: str, row: dict) -> None:
    cols = list(row)
    conn.execute(
        sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.SQL(table),
            sql.SQL(", ").join(map(sql.Identifier, cols)),
            sql.SQL(", ").join(sql.Placeholder() * len(cols)),
        ),
        [row[c] for c in cols],
    )


def _invoice(invoice_id: str, creditor_id: str = "C1", number: int = 1, **extra) -> dict:
    row = {
        "invoice_id": invoice_id,
        "creditor_id": creditor_id,
        "invoice_number": number,
        "invoice_date": dt.date(2025, 12, 1),
        "due_date": dt.date(2025, 12, 15),
        "buyer_name": "Buyer Company Oy",
        "buyer_street": "Kauppakatu 1",
        "buyer_postal_code": "00100",
        "buyer_postal_district": "HELSINKI",
        "net_amount": "100.00",
        "vat_amount": "25.50",
        "gross_amount": "125.50",
    }
    row.update(extra)
    return row


def _row(invoice_id: str, row_number: int, **extra) -> dict:
    row = {
        "invoice_id": invoice_id,
        "row_number": row_number,
        "name": "Consulting",
        "quantity": "2.500",
        "unit_price": "40.00",
        "vat_percentage": "25.50",
        "net_amount": "100.00",
        "vat_amount": "25.50",
        "gross_amount": "125.50",
    }
    row.update(extra)
    return row


@pytest.fixture
def conn(warehouse_dsn):
    with psycopg.connect(warehouse_dsn) as c:
        yield c


def test_creditors_round_trip_keeps_empty_strings_and_types(conn):
    _insert(
        conn,
        "confirma_source.creditors",
        {
            "creditor_id": "C1",
            "name": 'Test "Customer" Oy, Ltd',
            "business_code": "0646115-8",
            "postal_address": "Testikuja 7\nB 12",
            "postal_code": "12345",
            "postal_district": "HELSINKI",
            "email": "email@testcustomer.fi",
            "primary_contact_name": "Matti Meikäläinen",
            "telephone": "",
            "updated_at": dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        },
    )
    _insert(conn, "confirma_source.creditors", {**_min_creditor("C2"), "website": "NULL"})
    frame = read_creditors(conn)

    assert list(frame.columns) == list(CREDITORS_CONTRACT)
    for column, spec in CREDITORS_CONTRACT.items():
        assert frame[column].dtype == spec.dtype, column
    c1 = frame.iloc[0]
    assert c1["creditor_id"] == "C1"
    assert c1["telephone"] == "" and c1["website"] == ""  # '' stays '' (NOT NULL DEFAULT '')
    assert c1["name"] == 'Test "Customer" Oy, Ltd'
    assert c1["postal_address"] == "Testikuja 7\nB 12"
    assert c1["primary_contact_name"] == "Matti Meikäläinen"
    assert c1["service_type"] == "LIFECYCLE" and c1["country_code"] == "FI"
    assert c1["updated_at"] == pd.Timestamp("2026-01-02 01:04:05.678901", tz="UTC")
    assert frame.iloc[1]["website"] == "NULL"  # the text 'NULL' is not a null

    only = read_creditors(conn, creditor_ids=["C2"])
    assert only["creditor_id"].tolist() == ["C2"]


def _min_creditor(creditor_id: str) -> dict:
    return {
        "creditor_id": creditor_id,
        "name": "X Oy",
        "business_code": "0646115-8",
        "postal_address": "Street 1",
        "postal_code": "00100",
        "postal_district": "HELSINKI",
        "email": "x@example.fi",
    }


def test_invoices_null_versus_empty_dates_numerics_and_int64(conn):
    _insert(
        conn,
        "confirma_source.invoices",
        _invoice(
            "I1",
            number=251601000,
            description="",
            additional_information=None,
            order_date=dt.date(2025, 11, 30),
            credited_invoice_number=9_876_543_210,
            payment_reference="2516000013",
            show_product_code_enabled=True,
            updated_at=dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC),
        ),
    )
    _insert(conn, "confirma_source.invoices", _invoice("I2", number=2, description=None))
    _insert(conn, "confirma_source.invoice_rows", _row("I1", 1, product_code=""))
    _insert(conn, "confirma_source.invoice_rows", _row("I1", 2, product_code=None, quantity="0.125"))
    conn.commit()

    invoices, rows = read_invoices(conn)
    for column, spec in INVOICES_CONTRACT.items():
        assert invoices[column].dtype == spec.dtype, column
    for column, spec in INVOICE_ROWS_CONTRACT.items():
        assert rows[column].dtype == spec.dtype, column

    i1, i2 = invoices.iloc[0], invoices.iloc[1]
    assert i1["description"] == "" and pd.isna(i2["description"])
    assert pd.isna(i1["additional_information"])
    assert i1["invoice_number"] == 251601000
    assert i1["credited_invoice_number"] == 9_876_543_210
    assert invoices["credited_invoice_number"].isna().tolist() == [False, True]
    assert i1["invoice_date"] == pd.Timestamp("2025-12-01") and i1["due_date"] == pd.Timestamp("2025-12-15")
    assert i1["order_date"] == pd.Timestamp("2025-11-30") and pd.isna(i2["order_date"])
    assert i1["net_amount"] == 100.0 and i1["vat_amount"] == 25.5 and i1["gross_amount"] == 125.5
    assert bool(i1["show_product_code_enabled"]) is True and bool(i2["show_product_code_enabled"]) is False
    assert i1["payment_reference"] == "2516000013" and pd.isna(i2["payment_reference"])
    assert i1["updated_at"] == pd.Timestamp("2026-03-01 12:00", tz="UTC")

    assert rows["row_number"].tolist() == [1, 2]
    assert rows.iloc[0]["product_code"] == "" and pd.isna(rows.iloc[1]["product_code"])
    assert rows["quantity"].tolist() == [2.5, 0.125]
    assert rows["unit_code"].tolist() == ["kpl", "kpl"]


def test_iter_invoices_chunks_hold_exactly_their_rows_and_filters_apply(conn):
    for n in range(1, 6):
        creditor = "C1" if n % 2 else "C2"
        _insert(
            conn, "confirma_source.invoices", _invoice(f"I{n}", creditor, n, invoice_date=dt.date(2025, 1, n))
        )
        for r in range(1, n + 1):
            _insert(conn, "confirma_source.invoice_rows", _row(f"I{n}", r))
    conn.commit()

    chunks = list(iter_invoices(conn, chunk_size=2))
    assert [c[0]["invoice_id"].tolist() for c in chunks] == [["I1", "I2"], ["I3", "I4"], ["I5"]]
    for invoices, rows in chunks:
        assert set(rows["invoice_id"]) == set(invoices["invoice_id"])
        expected = sum(int(i[1:]) for i in invoices["invoice_id"])
        assert len(rows) == expected

    c1 = pd.concat([c[0] for c in iter_invoices(conn, creditor_ids=["C1"], chunk_size=10)])
    assert c1["invoice_id"].tolist() == ["I1", "I3", "I5"]

    dated = pd.concat(
        [c[0] for c in iter_invoices(conn, date_from=dt.date(2025, 1, 2), date_to=dt.date(2025, 1, 3))]
    )
    assert dated["invoice_id"].tolist() == ["I2", "I3"]

    conn.execute("CREATE TABLE public.done (invoice_id text)")
    conn.execute("INSERT INTO public.done VALUES ('I2'), ('I4'), (NULL)")
    rest = [
        c[0]["invoice_id"].tolist()
        for c in iter_invoices(conn, exclude_invoice_ids_sql="SELECT * FROM public.done")
    ]
    assert rest == [["I1", "I3", "I5"]]

    assert list(iter_invoices(conn, creditor_ids=["nobody"])) == []


def test_relation_names_are_configurable_and_quoted(conn):
    _insert(conn, "confirma_source.invoices", _invoice("I1"))
    _insert(conn, "confirma_source.invoice_rows", _row("I1", 1))
    conn.execute('CREATE SCHEMA "My Schema"')
    conn.execute('CREATE VIEW "My Schema"."open invoices" AS SELECT * FROM confirma_source.invoices')
    invoices, rows = read_invoices(conn, relation="My Schema.open invoices")
    assert invoices["invoice_id"].tolist() == ["I1"] and len(rows) == 1

    with pytest.raises(ConfigError, match="no_such_table"):
        read_creditors(conn, relation="confirma_source.no_such_table")
    with pytest.raises(ConfigError, match="not of the form"):
        read_creditors(conn, relation="a..b")
    # an injection attempt is just an odd (missing) identifier
    with pytest.raises(ConfigError):
        read_creditors(conn, relation="confirma_source.creditors; DROP TABLE confirma_source.creditors")
    assert conn.execute("SELECT count(*) FROM confirma_source.creditors").fetchone()[0] == 0


def test_a_view_that_breaks_the_dtype_contract_is_a_config_error(conn):
    _insert(conn, "confirma_source.invoices", _invoice("I1"))
    cols = ", ".join(
        "('No. ' || invoice_number) AS invoice_number" if c == "invoice_number" else f'"{c}"'
        for c in INVOICES_CONTRACT
    )
    conn.execute(f"CREATE VIEW public.bad_invoices AS SELECT {cols} FROM confirma_source.invoices")
    with pytest.raises(ConfigError, match="public.bad_invoices"):
        read_invoices(conn, relation="public.bad_invoices")


def test_empty_tables_give_typed_empty_frames(conn):
    frame = read_creditors(conn)
    assert frame.empty and list(frame.columns) == list(CREDITORS_CONTRACT)
    assert frame["updated_at"].dtype == CREDITORS_CONTRACT["updated_at"].dtype
    invoices, rows = read_invoices(conn)
    assert invoices.empty and rows.empty
    assert invoices["invoice_date"].dtype == np.dtype("datetime64[us]")
