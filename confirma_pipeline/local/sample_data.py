"""A realistic, deterministic sample of Finnish creditors and invoices for the demo, the tests
and the benchmarks, with a few deliberately invalid rows of each kind (each labelled, so tests
can assert which check rejects it).

Identifiers are generated valid by construction (Y-tunnus check digit, IBAN mod 97, Finnish
7-3-1 references), so every rejection comes from a planted fault, not from noise.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

import pandas as pd

from confirma_pipeline.validation import samples

FIRST = ["Aalto", "Berg", "Halla", "Kivi", "Lumi", "Meri", "Niemi", "Puro", "Ranta", "Salo", "Tuuli", "Vaara"]
SUFFIX = ["Oy", "Ab", "Oy Ab", "Ky", "Tmi"]
TRADES = ["Rakennus", "Kuljetus", "Konsultointi", "Kiinteistöhuolto", "Sähkö", "Putki", "Ravintola", "IT"]
STREETS = ["Mannerheimintie", "Hämeenkatu", "Kauppakatu", "Teirinkatu", "Aleksanterinkatu", "Satamakatu"]
CITIES = [
    ("00100", "HELSINKI"),
    ("33100", "TAMPERE"),
    ("20100", "TURKU"),
    ("65100", "VAASA"),
    ("90100", "OULU"),
]
PERSONS = ["Matti Meikäläinen", "Maija Virtanen", "Teppo Testaaja", "Liisa Korhonen", "Juha Mäkinen"]
PRODUCTS = [
    ("Asennustyö", "h", 65.0),
    ("Huoltokäynti", "kpl", 120.0),
    ("Tarvike", "kpl", 12.9),
    ("Kuljetus", "km", 1.45),
    ("Konsultointi", "h", 110.0),
    ("Lisenssi", "kk", 49.0),
]
VAT_RATES = [25.5, 14.0, 13.5, 10.0, 0.0]

INVALID_CREDITOR_KINDS = {
    "business_id_check_digit": ("business_code", lambda v: v[:-1] + str((int(v[-1]) + 1) % 10)),
    "postal_code_matches_country": ("postal_code", lambda v: "123"),
    "iban_checksum": ("iban_account", lambda v: v[:4] + ("0" if v[4] != "0" else "1") + v[5:]),
    "email_format": ("email", lambda v: v.replace("@", " at ")),
}
INVALID_INVOICE_KINDS = (
    "due_date_not_before_invoice_date",
    "row_sums_equal_invoice_totals",
    "payment_reference_checksum",
    "buyer_postal_code_matches_country",
    "currency_is_iso4217",
    "row_amounts_match_quantity_price_vat",
)


def business_id(rng: random.Random) -> str:
    while True:
        digits = f"{rng.randrange(1_000_000, 9_999_999):07d}"
        if (check := samples.business_id_check_digit(digits)) is not None:
            return f"{digits}-{check}"


def finnish_iban(rng: random.Random) -> str:
    return samples.finnish_iban(f"{rng.randrange(10**13):014d}")


def finnish_reference(base: int) -> str:
    return str(samples.finnish_references([base])[0])


@dataclass
class Sample:
    creditors: pd.DataFrame
    invoices: pd.DataFrame
    invoice_rows: pd.DataFrame
    invalid: dict[str, str] = field(default_factory=dict)  # entity key -> the check it should fail


def _creditor(rng: random.Random, i: int, partner_code: str) -> dict:
    name = f"{rng.choice(FIRST)} {rng.choice(TRADES)} {rng.choice(SUFFIX)}"
    postal, city = rng.choice(CITIES)
    bid = business_id(rng)
    person = rng.choice(PERSONS)
    slug = f"c{i:04d}"
    return {
        "creditor_id": f"CRED-{i:04d}",
        "service_type": "LIFECYCLE",
        "partner_code": partner_code,
        "name": name,
        "business_code": bid,
        "vat_reg_nbr": "FI" + bid.replace("-", ""),
        "postal_address": f"{rng.choice(STREETS)} {rng.randrange(1, 80)}",
        "postal_code": postal,
        "postal_district": city,
        "country_code": "FI",
        "telephone": "",
        "email": f"laskutus@{slug}.example.fi",
        "website": "" if i % 3 else f"https://www.{slug}.example.fi",
        "language_code": "FI",
        "currency_code": "EUR",
        "iban_account": finnish_iban(rng),
        "bic": "NDEAFIHH",
        "bankgiro": "",
        "plusgiro": "",
        "primary_contact_name": person,
        "primary_contact_telephone": "",
        "primary_contact_mobile": f"+35840{rng.randrange(10**6, 10**7)}",
        "primary_contact_email": f"{person.split()[0].lower()}@{slug}.example.fi",
        "technical_contact_name": "",
        "technical_contact_email": "",
        "accountant_contact_name": "",
        "accountant_contact_email": "",
    }


def _invoice(rng: random.Random, creditor: dict, number: int, day: dt.date, serial: int, n_rows: int | None):
    postal, city = rng.choice(CITIES)
    rows = []
    for r in range(1, (n_rows or rng.randint(1, 5)) + 1):
        product, unit, price = rng.choice(PRODUCTS)
        quantity = float(rng.randint(1, 12))
        vat = rng.choice(VAT_RATES)
        net = round(quantity * price, 2)
        vat_amount = round(net * vat / 100, 2)
        rows.append(
            {
                "row_number": r,
                "product_code": f"P{rng.randrange(100, 999)}",
                "name": product,
                "quantity": quantity,
                "unit_code": unit,
                "unit_price": price,
                "vat_percentage": vat,
                "net_amount": net,
                "vat_amount": vat_amount,
                "gross_amount": round(net + vat_amount, 2),
            }
        )
    buyer = f"{rng.choice(FIRST)} {rng.choice(TRADES)} {rng.choice(SUFFIX)}"
    invoice = {
        "creditor_id": creditor["creditor_id"],
        "payment_control_enabled": True,
        "manual_approval_enabled": False,
        "accounting_invoice_enabled": False,
        "show_product_code_enabled": False,
        "distribution_method": "EMAIL",
        "distribution_enabled": True,
        "invoice_number": number,
        "invoice_type": "INVOICE",
        "invoice_date": day,
        "due_date": day + dt.timedelta(days=rng.choice([7, 14, 14, 21, 30])),
        "currency_code": "EUR",
        "language_code": "FI",
        "sales_reference": f"SF{serial:05d}",
        "payment_reference": finnish_reference(number),
        "buyer_entity_type": "BUSINESS",
        "buyer_name": buyer,
        "buyer_customer_account_id": f"A{rng.randrange(1000, 9999)}",
        "buyer_business_id": business_id(rng),
        "buyer_language_code": "FI",
        "buyer_disable_collection": False,
        "buyer_street": f"{rng.choice(STREETS)} {rng.randrange(1, 80)}",
        "buyer_postal_code": postal,
        "buyer_postal_district": city,
        "buyer_country_code": "FI",
        "buyer_email": f"ostoreskontra{serial}@buyer.example.fi",
        "net_amount": round(sum(r["net_amount"] for r in rows), 2),
        "vat_amount": round(sum(r["vat_amount"] for r in rows), 2),
        "gross_amount": round(sum(r["gross_amount"] for r in rows), 2),
    }
    return invoice, rows


def build_sample(
    n_creditors: int = 30,
    invoices_per_creditor: int = 10,
    *,
    start: dt.date | None = None,
    days: int = 20,
    seed: int = 7,
    invalid_creditors: int = 4,
    invalid_invoices_per_kind: int = 2,
    rows_per_invoice: int | None = None,
    partner_code: str = "DEMO1",
) -> Sample:
    """Creditors CRED-0001..; invoices numbered per creditor; faults planted deterministically.
    `partner_code=""` leaves the code to CONFIRMA_PARTNER_CODE (as the demo does)."""
    rng = random.Random(seed)
    start = start or dt.date.today() - dt.timedelta(days=60)
    creditors, invoices, rows, invalid = [], [], [], {}
    for i in range(1, n_creditors + 1):
        creditors.append(_creditor(rng, i, partner_code))
    kinds = list(INVALID_CREDITOR_KINDS.items())
    for j in range(min(invalid_creditors, n_creditors)):
        check, (column, spoil) = kinds[j % len(kinds)]
        target = creditors[-(j + 1)]
        target[column] = spoil(target[column])
        invalid[target["creditor_id"]] = check
    serial = 0
    for c_index, creditor in enumerate(creditors, start=1):
        for k in range(invoices_per_creditor):
            serial += 1
            number = 26_000_000 + c_index * 10_000 + k + 1
            day = start + dt.timedelta(days=rng.randrange(days))
            invoice, invoice_rows = _invoice(rng, creditor, number, day, serial, rows_per_invoice)
            invoice["invoice_id"] = f"INV-{c_index:04d}-{k + 1:05d}"
            invoices.append(invoice)
            rows += [{"invoice_id": invoice["invoice_id"], **r} for r in invoice_rows]
    _plant_invoice_faults(invoices, rows, invalid, invalid_invoices_per_kind, set(invalid))
    return Sample(
        creditors=pd.DataFrame(creditors),
        invoices=pd.DataFrame(invoices),
        invoice_rows=pd.DataFrame(rows),
        invalid=invalid,
    )


def _plant_invoice_faults(invoices, rows, invalid, per_kind, bad_creditors) -> None:
    """Spoil a few invoices of valid creditors, one fault each, spread across creditors."""
    candidates = [inv for inv in invoices if inv["creditor_id"] not in bad_creditors]
    rows_by_invoice: dict[str, list[dict]] = {}
    for r in rows:
        rows_by_invoice.setdefault(r["invoice_id"], []).append(r)
    step = max(1, len(candidates) // (len(INVALID_INVOICE_KINDS) * per_kind + 1))
    picks = iter(candidates[step - 1 :: step])
    for kind in INVALID_INVOICE_KINDS:
        for _ in range(per_kind):
            inv = next(picks, None)
            if inv is None:
                return
            first_row = rows_by_invoice[inv["invoice_id"]][0]
            if kind == "due_date_not_before_invoice_date":
                inv["due_date"] = inv["invoice_date"] - dt.timedelta(days=3)
            elif kind == "row_sums_equal_invoice_totals":
                inv["gross_amount"] = round(inv["gross_amount"] + 10.0, 2)
            elif kind == "payment_reference_checksum":
                ref = inv["payment_reference"]
                inv["payment_reference"] = ref[:-1] + str((int(ref[-1]) + 1) % 10)
            elif kind == "buyer_postal_code_matches_country":
                inv["buyer_postal_code"] = "1234"
            elif kind == "currency_is_iso4217":
                inv["currency_code"] = "EUX"
            elif kind == "row_amounts_match_quantity_price_vat":
                first_row["net_amount"] = round(first_row["net_amount"] + 1.0, 2)
                first_row["gross_amount"] = round(first_row["net_amount"] + first_row["vat_amount"], 2)
                # keep the invoice totals equal to the row sums, so only the row check fails
                inv["net_amount"] = round(inv["net_amount"] + 1.0, 2)
                inv["gross_amount"] = round(inv["gross_amount"] + 1.0, 2)
            invalid[inv["invoice_id"]] = kind


def seed_warehouse(conn, sample: Sample) -> dict[str, int]:
    """Insert the sample into confirma_source (idempotent: existing keys are left as they are)."""
    counts = {}
    for table, frame, keys in (
        ("confirma_source.creditors", sample.creditors, ["creditor_id"]),
        ("confirma_source.invoices", sample.invoices, ["invoice_id"]),
        ("confirma_source.invoice_rows", sample.invoice_rows, ["invoice_id", "row_number"]),
    ):
        counts[table] = _insert_missing(conn, frame, table, keys)
    conn.commit()
    return counts


def _insert_missing(conn, frame: pd.DataFrame, table: str, keys: list[str]) -> int:
    from psycopg import sql

    schema, name = table.split(".")
    columns = list(frame.columns)
    temp = sql.Identifier(f"seed_{name}")
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("CREATE TEMP TABLE {} (LIKE {}.{} INCLUDING DEFAULTS) ON COMMIT DROP").format(
                temp, sql.Identifier(schema), sql.Identifier(name)
            )
        )
        cols = sql.SQL(", ").join(map(sql.Identifier, columns))
        with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(temp, cols)) as copy:
            for record in frame.itertuples(index=False, name=None):
                copy.write_row(
                    [None if (v is None or (isinstance(v, float) and v != v)) else v for v in record]
                )
        cur.execute(
            sql.SQL("INSERT INTO {}.{} ({}) SELECT {} FROM {} ON CONFLICT ({}) DO NOTHING").format(
                sql.Identifier(schema),
                sql.Identifier(name),
                cols,
                cols,
                temp,
                sql.SQL(", ").join(map(sql.Identifier, keys)),
            )
        )
        return cur.rowcount
