"""The demo's sample: the project's generator (`validation.samples`) with demo ids and dates, and a few
deliberately invalid rows of each kind (each labelled, so tests can assert which check rejects it).

Identifiers are generated valid by construction (check digits from python-stdnum and `identifiers`), so
every rejection comes from a planted fault, not from noise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from confirma_pipeline.validation import samples

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


@dataclass
class Sample:
    creditors: pd.DataFrame
    invoices: pd.DataFrame
    invoice_rows: pd.DataFrame
    invalid: dict[str, str] = field(default_factory=dict)  # entity key -> the check it should fail


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
    """Creditors CRED-0001..; invoices INV-<creditor>-<k> numbered per creditor, dated over `days` from
    `start`; 1-5 rows each unless `rows_per_invoice`; faults planted deterministically.
    `partner_code=""` leaves the code to CONFIRMA_PARTNER_CODE (as the demo does)."""
    start = start or dt.date.today() - dt.timedelta(days=60)
    creditor_ids = [f"CRED-{i:04d}" for i in range(1, n_creditors + 1)]
    creditors = samples.sample_creditors(n_creditors, seed=seed, ids=creditor_ids, partner_code=partner_code)
    per = invoices_per_creditor
    owner = np.repeat(np.arange(1, n_creditors + 1), per)
    k = np.tile(np.arange(1, per + 1), n_creditors)
    invoices, rows = samples.sample_invoices(
        n_creditors * per,
        rows_per_invoice or (1, 5),
        creditor_ids=[creditor_ids[c - 1] for c in owner.tolist()],
        seed=seed,
        start=start,
        days=max(days, 1),
        invoice_ids=[f"INV-{c:04d}-{j:05d}" for c, j in zip(owner.tolist(), k.tolist(), strict=True)],
        invoice_numbers=(26_000_000 + owner * 10_000 + k).tolist(),
    )
    # the source tables stamp updated_at themselves; dates as `datetime.date`, as a reader of the sample sets them
    creditors, invoices = creditors.drop(columns="updated_at"), invoices.drop(columns="updated_at")
    for column in ("invoice_date", "due_date", "order_date"):
        invoices[column] = invoices[column].dt.date
    invalid: dict[str, str] = {}
    kinds = list(INVALID_CREDITOR_KINDS.items())
    for j in range(min(invalid_creditors, n_creditors)):
        check, (column, spoil) = kinds[j % len(kinds)]
        p = n_creditors - 1 - j
        creditors.loc[p, column] = spoil(creditors.at[p, column])
        invalid[creditors.at[p, "creditor_id"]] = check
    _plant_invoice_faults(invoices, rows, invalid, invalid_invoices_per_kind, set(invalid))
    return Sample(creditors=creditors, invoices=invoices, invoice_rows=rows, invalid=invalid)


def _plant_invoice_faults(
    invoices: pd.DataFrame, rows: pd.DataFrame, invalid, per_kind, bad_creditors
) -> None:
    """Spoil a few invoices of valid creditors, one fault each, spread across creditors."""
    candidates = np.flatnonzero(~invoices["creditor_id"].isin(list(bad_creditors)).to_numpy())
    step = max(1, len(candidates) // (len(INVALID_INVOICE_KINDS) * per_kind + 1))
    picks = iter(candidates[step - 1 :: step].tolist())
    first_row = rows.drop_duplicates("invoice_id").set_index("invoice_id")["row_number"]
    for kind in INVALID_INVOICE_KINDS:
        for _ in range(per_kind):
            p = next(picks, None)
            if p is None:
                return
            invoice_id = invoices.at[p, "invoice_id"]
            if kind == "due_date_not_before_invoice_date":
                invoices.loc[p, "due_date"] = invoices.at[p, "invoice_date"] - dt.timedelta(days=3)
            elif kind == "row_sums_equal_invoice_totals":
                invoices.loc[p, "gross_amount"] = round(invoices.at[p, "gross_amount"] + 10.0, 2)
            elif kind == "payment_reference_checksum":
                ref = invoices.at[p, "payment_reference"]
                invoices.loc[p, "payment_reference"] = ref[:-1] + str((int(ref[-1]) + 1) % 10)
            elif kind == "buyer_postal_code_matches_country":
                invoices.loc[p, "buyer_postal_code"] = "1234"
            elif kind == "currency_is_iso4217":
                invoices.loc[p, "currency_code"] = "EUX"
            elif kind == "row_amounts_match_quantity_price_vat":
                r = np.flatnonzero(
                    (
                        (rows["invoice_id"] == invoice_id) & (rows["row_number"] == first_row[invoice_id])
                    ).to_numpy()
                )[0]
                rows.loc[r, "net_amount"] = round(rows.at[r, "net_amount"] + 1.0, 2)
                rows.loc[r, "gross_amount"] = round(rows.at[r, "net_amount"] + rows.at[r, "vat_amount"], 2)
                # keep the invoice totals equal to the row sums, so only the row check fails
                invoices.loc[p, "net_amount"] = round(invoices.at[p, "net_amount"] + 1.0, 2)
                invoices.loc[p, "gross_amount"] = round(invoices.at[p, "gross_amount"] + 1.0, 2)
            invalid[invoice_id] = kind


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
                    [None if v is None or v is pd.NA or v is pd.NaT or v != v else v for v in record]
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
