"""Sample accounting input for the demo and the tests: a few ledger vouchers and accounting payments per
creditor, shaped like the docs' examples, plus planted faults a bookkeeper would catch (an unbalanced
voucher, a netAmount that does not match its VAT, a payment with a third decimal).

Keys are deterministic (`<creditor>-V1`, `<creditor>-P1`, ...) and inserts skip existing keys, so seeding
twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

import psycopg

from confirma_pipeline.api.contract import ledger_net_amount

VAT = Decimal("25.5")

PLANTED = {
    "unbalanced": "voucher rows that do not balance",
    "bad_net": "a netAmount inconsistent with amount and vatPercentage",
    "three_decimals": "a payment amount with three decimals",
}


@dataclass
class AccountingSample:
    vouchers: list[tuple] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    dimensions: list[tuple] = field(default_factory=list)
    payments: list[tuple] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)  # "<creditor>/<identifier>" -> planted fault


def _sale(sample: AccountingSample, creditor_id: str, company: str, ident: str, day: dt.date, gross: Decimal):
    """A sales voucher as in the docs: receivable +gross, sales -gross at 25.5 % VAT, VAT row -vat."""
    net = ledger_net_amount(-gross, VAT, 0, "GROSS")
    vat = -gross - net
    sample.vouchers.append(
        (creditor_id, ident, company, "ML", ident.split("-")[-1], day, f"Sales {ident}", "GROSS")
    )
    lines = [
        (1, "1701", Decimal(0), "", gross, gross, 0),
        (2, "3000", VAT, "20", -gross, net, 0),
        (3, "2939", Decimal(0), "", vat, vat, 1),
    ]
    for number, account, pct, code, amount, net_amount, flag in lines:
        sample.rows.append(
            (creditor_id, ident, number, day, account, None, None, pct, code, amount, net_amount, flag,
             "PN12345", None, ident)
        )  # fmt: skip
    sample.dimensions.append((creditor_id, ident, 1, 1, "COST_CENTER", "1000"))


def build_accounting_sample(
    creditors: list[tuple[str, str]], day: dt.date, *, seed: int = 15, plant_faults: bool = True
) -> AccountingSample:
    """Two vouchers and three payments per (creditor_id, business id); faults planted on the first creditor."""
    rng = random.Random(seed)
    sample = AccountingSample()
    for n, (creditor_id, company) in enumerate(creditors):
        for v in (1, 2):
            gross = Decimal(rng.randrange(1000, 500000)) / 100
            _sale(sample, creditor_id, company, f"{creditor_id}-V{v}", day - dt.timedelta(days=v), gross)
        for p in (1, 2, 3):
            amount = Decimal(rng.randrange(1000, 90000)) / 100
            sample.payments.append(
                (creditor_id, f"{creditor_id}-P{p}", str(133720800 + n * 10 + p), day - dt.timedelta(days=p),
                 None, amount, "EUR", "invoicenumber", "1337109", f"Payer {n}-{p}")
            )  # fmt: skip
        if plant_faults and n == 0:
            _plant(sample, creditor_id, company, day)
    return sample


def _plant(sample: AccountingSample, creditor_id: str, company: str, day: dt.date) -> None:
    unbalanced = f"{creditor_id}-V8"
    _sale(sample, creditor_id, company, unbalanced, day, Decimal("100.00"))
    sample.rows = [r[:9] + (Decimal("90.00"), Decimal("90.00")) + r[11:] if r[1] == unbalanced and r[2] == 1 else r
                   for r in sample.rows]  # fmt: skip
    bad_net = f"{creditor_id}-V9"
    _sale(sample, creditor_id, company, bad_net, day, Decimal("2990.00"))
    sample.rows = [r[:10] + (Decimal("-2990.00"),) + r[11:] if r[1] == bad_net and r[2] == 2 else r
                   for r in sample.rows]  # fmt: skip
    sample.payments.append(
        (creditor_id, f"{creditor_id}-P9", "133720899", day, None, Decimal("10.005"), "EUR", "invoicenumber",
         None, "Payer 9")
    )  # fmt: skip
    sample.invalid.update(
        {
            f"{creditor_id}/{unbalanced}": PLANTED["unbalanced"],
            f"{creditor_id}/{bad_net}": PLANTED["bad_net"],
            f"{creditor_id}/{creditor_id}-P9": PLANTED["three_decimals"],
        }
    )


def seed_accounting(conn: psycopg.Connection, sample: AccountingSample) -> int:
    """Insert the sample (existing keys are left alone); returns the number of new vouchers and payments."""
    new = 0
    with conn.cursor() as cur:
        for table, columns, rows in (
            ("ledger_vouchers", "creditor_id, ledger_identifier, company_identifier, document_type, "
             "document_name, document_date, document_description, calculation_mode", sample.vouchers),
            ("ledger_voucher_rows", "creditor_id, ledger_identifier, row_number, booking_date, account_number, "
             "vat_account_number, vat_type, vat_percentage, vat_code, amount, net_amount, is_vat_row, "
             "project_number, transaction_type, transaction_description", sample.rows),
            ("ledger_row_dimensions", "creditor_id, ledger_identifier, row_number, dimension_number, "
             "dimension_type, dimension_value", sample.dimensions),
            ("accounting_payments", "creditor_id, payment_identifier, invoice_number, payment_date, booking_date, "
             "amount, currency, target_identifier, payment_reference, source_name", sample.payments),
        ):  # fmt: skip
            placeholders = ", ".join(["%s"] * len(columns.split(",")))
            for row in rows:
                cur.execute(
                    f"INSERT INTO confirma_source.{table} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",
                    row,
                )
                if table in ("ledger_vouchers", "accounting_payments"):
                    new += cur.rowcount
    conn.commit()
    return new


def creditors_for_accounting(conn: psycopg.Connection, limit: int) -> list[tuple[str, str]]:
    """(creditor_id, business_code) of the first `limit` source creditors."""
    return conn.execute(
        "SELECT creditor_id, business_code FROM confirma_source.creditors ORDER BY creditor_id LIMIT %s",
        (limit,),
    ).fetchall()


def seed_demo_accounting(conn: psycopg.Connection, day: dt.date, n_creditors: int) -> str:
    """Seed the demo's accounting sample for the first creditors; one line for the console."""
    sample = build_accounting_sample(creditors_for_accounting(conn, n_creditors), day)
    new = seed_accounting(conn, sample)
    return (
        f"accounting sample: {len(sample.vouchers)} vouchers, {len(sample.payments)} payments "
        f"({len(sample.invalid)} planted faults); {new} new"
    )


def duplicate_sends(journal: list[dict]) -> int:
    """How many vouchers or payments the sandbox accepted more than once (its journal of accepted requests)."""
    seen: dict[tuple[str, object, str], int] = {}
    for entry in journal:
        if entry.get("kind") == "ledger":
            idents = [entry["sourceIdentifier"]]
        elif entry.get("kind") == "accounting_payment":
            idents = entry["sourceIdentifiers"]
        else:
            continue
        for ident in idents:
            key = (entry["kind"], entry.get("clientIdentifier"), ident)
            seen[key] = seen.get(key, 0) + 1
    return sum(n - 1 for n in seen.values())
