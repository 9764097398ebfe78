"""The project's one sample-data generator: realistic, valid, contract-typed frames (creditors, invoices,
invoice rows), built vectorised.

Used by the tests, the corpus (`corpus.py`), the benchmarks and the demo (`local/sample_data.py` gives the
frames demo ids and dates and plants labelled faults). Every value passes the models: check digits come from
python-stdnum (Y-tunnus, IBAN) and `identifiers` (7-3-1), amounts follow the rounding rule with exact
integer-cent arithmetic, and invoice totals are the sums of their rows. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from stdnum import iban
from stdnum.fi import alv

from confirma_pipeline.validation.input_contract import (
    CREDITORS_CONTRACT,
    INVOICE_ROWS_CONTRACT,
    INVOICES_CONTRACT,
    STR_DTYPE,
)
from confirma_pipeline.validation.reference import finnish_reference_check_digits

VAT_RATES_HUNDREDTHS = np.array([2550, 1400, 1000, 0])  # Finnish VAT 25.5 %, 14 %, 10 %, 0 %


def business_ids(bases: np.ndarray) -> np.ndarray:
    """Valid Y-tunnus strings for 7-digit integer bases, check digit from python-stdnum's checksum (a base
    that has none is bumped by one). Distinct bases are computed once."""
    bases = np.asarray(bases, dtype=np.int64) % 10_000_000
    uniques, codes = np.unique(bases, return_inverse=True)
    found = [_business_id(int(b)) for b in uniques.tolist()]
    return np.array(found)[codes]


def business_id_check_digit(digits: str) -> int | None:
    """The Y-tunnus check digit of 7 digits from python-stdnum's weighted sum (the check digit has weight 1),
    or None when the digits have no valid one."""
    check = -alv.checksum(digits + "0") % 11
    return check if check < 10 else None


def _business_id(base: int) -> str:
    while (check := business_id_check_digit(f"{base:07d}")) is None:
        base = (base + 1) % 10_000_000
    return f"{base:07d}-{check}"


def finnish_references(bases: np.ndarray) -> np.ndarray:
    """Finnish 7-3-1 references for positive integer bases (3-19 digits)."""
    bases = np.asarray(bases, dtype=np.int64)
    digits = (bases[:, None] // 10 ** np.arange(18, -1, -1, dtype=np.int64)) % 10
    check = finnish_reference_check_digits(digits)
    return np.char.add(bases.astype(str), check.astype(str))


def finnish_iban(bban: str) -> str:
    """A Finnish IBAN for a 14-digit BBAN (python-stdnum computes the check digits)."""
    return "FI" + iban.calc_check_digits("FI00" + bban) + bban


def _round_half_up_div(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """round(numerator / denominator) half away from zero, in exact integer arithmetic."""
    sign = np.sign(numerator)
    return sign * ((np.abs(numerator) * 2 + denominator) // (2 * denominator))


def _str(values) -> pd.Series:
    return pd.Series(values, dtype=STR_DTYPE)


def sample_creditors(
    n: int, *, seed: int = 1, ids: list[str] | None = None, partner_code: str = "QUICK3"
) -> pd.DataFrame:
    """`n` creditors (ids C000000.. unless `ids`); `partner_code=""` leaves it to CONFIRMA_PARTNER_CODE."""
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    ids = np.array(ids) if ids is not None else np.char.add("C", np.char.zfill(i.astype(str), 6))
    bids = business_ids(rng.integers(100_000, 9_999_999, n))
    ibans = [finnish_iban(f"{bban:014d}") for bban in rng.integers(0, 10**13, n).tolist()]
    data = {
        "creditor_id": ids,
        "service_type": np.full(n, "LIFECYCLE"),
        "partner_code": np.full(n, partner_code),
        "name": np.char.add("Creditor ", i.astype(str)) + " Oy",
        "business_code": bids,
        "vat_reg_nbr": np.char.add("FI", np.char.replace(bids, "-", "")),
        "postal_address": np.char.add("Testikuja ", (i % 90 + 1).astype(str)),
        "postal_code": np.char.zfill((i * 7 % 99_999).astype(str), 5),
        "postal_district": np.full(n, "HELSINKI"),
        "country_code": np.full(n, "FI"),
        "telephone": np.full(n, ""),
        "email": np.char.add(np.char.add("billing", i.astype(str)), "@creditor.fi"),
        "website": np.full(n, ""),
        "language_code": np.full(n, "FI"),
        "currency_code": np.full(n, "EUR"),
        "iban_account": ibans,
        "bic": np.full(n, "DABAFIHH"),
        "bankgiro": np.full(n, ""),
        "plusgiro": np.full(n, ""),
        "primary_contact_name": np.full(n, "Matti Meikäläinen"),
        "primary_contact_telephone": np.full(n, ""),
        "primary_contact_mobile": np.full(n, "+358441234567"),
        "primary_contact_email": np.char.add(np.char.add("matti", i.astype(str)), "@creditor.fi"),
        "technical_contact_name": np.full(n, ""),
        "technical_contact_email": np.full(n, ""),
        "accountant_contact_name": np.full(n, ""),
        "accountant_contact_email": np.full(n, ""),
    }
    frame = pd.DataFrame({k: _str(v) for k, v in data.items()})
    frame["updated_at"] = pd.Series(pd.Timestamp("2026-01-01", tz="UTC"), index=frame.index).astype(
        CREDITORS_CONTRACT["updated_at"].dtype
    )
    return frame[list(CREDITORS_CONTRACT)]


def sample_invoices(
    n_invoices: int,
    rows_per_invoice: int | tuple[int, int] = (1, 9),
    *,
    creditor_ids: list[str] | None = None,
    seed: int = 7,
    start: dt.date = dt.date(2025, 1, 1),
    days: int = 365,
    invoice_ids: list[str] | None = None,
    invoice_numbers: list[int] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`(invoices, rows)`; `rows_per_invoice` fixed or a (low, high) range (uniform, mean (low+high)/2).
    Invoice i belongs to `creditor_ids[i % len(creditor_ids)]` and is dated `start + i % days`; ids
    INV000000000.. and numbers 251600000.. unless given."""
    rng = np.random.default_rng(seed)
    creditor_ids = creditor_ids or ["C000000", "C000001", "C000002"]
    i = np.arange(n_invoices)
    if isinstance(rows_per_invoice, tuple):
        counts = rng.integers(rows_per_invoice[0], rows_per_invoice[1] + 1, n_invoices)
    else:
        counts = np.full(n_invoices, rows_per_invoice)
    n_rows = int(counts.sum())
    if invoice_ids is None:
        invoice_ids = np.char.add("INV", np.char.zfill(i.astype(str), 9))
    invoice_ids = np.asarray(invoice_ids)
    numbers = (251_600_000 + i) if invoice_numbers is None else np.asarray(invoice_numbers)

    # rows: integer arithmetic in cents / thousandths
    inv_of_row = np.repeat(i, counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    row_number = np.arange(n_rows) - starts + 1
    qty_milli = rng.integers(1, 20, n_rows) * 500  # 0.5 .. 9.5
    price_cents = rng.integers(100, 100_000, n_rows)
    vat_h = VAT_RATES_HUNDREDTHS[rng.integers(0, len(VAT_RATES_HUNDREDTHS), n_rows)]
    net_c = _round_half_up_div(qty_milli * price_cents, 1000)
    vat_c = _round_half_up_div(net_c * vat_h, 10_000)
    gross_c = net_c + vat_c
    rows = pd.DataFrame(
        {
            "invoice_id": _str(invoice_ids[inv_of_row]),
            "row_number": row_number.astype(np.int64),
            "product_code": _str(np.char.add("P", (row_number * 17 % 1000).astype(str))),
            "name": _str(np.char.add("Service item ", row_number.astype(str))),
            "quantity": qty_milli / 1000.0,
            "unit_code": _str(np.full(n_rows, "kpl")),
            "unit_price": price_cents / 100.0,
            "vat_percentage": vat_h / 100.0,
            "net_amount": net_c / 100.0,
            "vat_amount": vat_c / 100.0,
            "gross_amount": gross_c / 100.0,
            "discount_percentage": np.full(n_rows, np.nan),
        }
    )
    net_tot = np.bincount(inv_of_row, weights=net_c, minlength=n_invoices).astype(np.int64)
    vat_tot = np.bincount(inv_of_row, weights=vat_c, minlength=n_invoices).astype(np.int64)

    cred = np.array(creditor_ids)[i % len(creditor_ids)]
    inv_date = np.datetime64(start, "D") + (i % days).astype("timedelta64[D]")
    due_date = inv_date + np.array([14, 21, 30])[i % 3].astype("timedelta64[D]")
    null = np.full(n_invoices, None, dtype=object)
    buyer_se = i % 10 == 9
    buyer_bid = business_ids(rng.integers(100_000, 9_999_999, n_invoices))
    data: dict[str, object] = {
        "invoice_id": invoice_ids,
        "creditor_id": cred,
        "payment_control_enabled": np.ones(n_invoices, bool),
        "manual_approval_enabled": np.zeros(n_invoices, bool),
        "accounting_invoice_enabled": np.zeros(n_invoices, bool),
        "show_product_code_enabled": (i % 2 == 0),
        "distribution_method": np.full(n_invoices, "EMAIL"),
        "distribution_enabled": np.ones(n_invoices, bool),
        "invoice_number": numbers.astype(np.int64),
        "invoice_type": np.full(n_invoices, "INVOICE"),
        "invoice_date": inv_date.astype("datetime64[us]"),
        "due_date": due_date.astype("datetime64[us]"),
        "description": null,
        "additional_information": null,
        "currency_code": np.full(n_invoices, "EUR"),
        "language_code": np.full(n_invoices, "FI"),
        "sales_reference": np.char.add("SF", i.astype(str)),
        "buyer_reference": null,
        "agreement_reference": null,
        "payment_reference": finnish_references(2_516_000 + i),
        "order_number": null,
        "order_date": np.full(n_invoices, np.datetime64("NaT"), dtype="datetime64[us]"),
        "electronic_payment_code": null,
        "credited_invoice_number": pd.array([pd.NA] * n_invoices, dtype="Int64"),
        "invoice_copy_url": null,
        "buyer_entity_type": np.full(n_invoices, "BUSINESS"),
        "buyer_name": np.char.add("Buyer ", (i % 5000).astype(str)),
        "buyer_customer_account_id": np.full(n_invoices, ""),
        "buyer_personal_identity_number": null,
        "buyer_business_id": np.where(buyer_se, None, buyer_bid),
        "buyer_vat_code": null,
        "buyer_electronic_invoice_account": null,
        "buyer_electronic_routing_address": null,
        "buyer_gln_number": null,
        "buyer_language_code": np.where(buyer_se, "SV", "FI"),
        "buyer_disable_collection": np.zeros(n_invoices, bool),
        "buyer_street": np.char.add("Kauppakatu ", (i % 99 + 1).astype(str)),
        "buyer_street2": null,
        "buyer_street3": null,
        "buyer_postal_code": np.where(buyer_se, "114 55", np.char.zfill((i * 13 % 99_999).astype(str), 5)),
        "buyer_postal_district": np.where(buyer_se, "STOCKHOLM", "HELSINKI"),
        "buyer_country_code": np.where(buyer_se, "SE", "FI"),
        "buyer_contact_person_name": null,
        "buyer_contact_person_email": null,
        "buyer_email": np.char.add(np.char.add("ap", (i % 5000).astype(str)), "@buyer.fi"),
        "buyer_phone": null,
        "net_amount": net_tot / 100.0,
        "vat_amount": vat_tot / 100.0,
        "gross_amount": (net_tot + vat_tot) / 100.0,
    }
    for col, spec in INVOICES_CONTRACT.items():
        if col.startswith("seller_") or col.startswith("recipient_") or col not in data:
            data[col] = null if spec.kind == "str" else np.full(n_invoices, np.nan)
    frame = pd.DataFrame(index=pd.RangeIndex(n_invoices))
    for col, spec in INVOICES_CONTRACT.items():
        if col == "updated_at":
            frame[col] = pd.Series(pd.Timestamp("2026-01-01", tz="UTC"), index=frame.index).astype(spec.dtype)
        elif spec.kind == "str":
            frame[col] = _str(data[col])
        else:
            frame[col] = pd.Series(data[col]).astype(spec.dtype)
    return frame, rows[list(INVOICE_ROWS_CONTRACT)]
