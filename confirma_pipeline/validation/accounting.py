"""pandera models of the accounting input contract, and the voucher rules a bookkeeper expects.

Per frame (pandera, so every failure of a row is listed, see `reasons.validate_with_reasons`):
- vouchers: company identifier a valid Y-tunnus, documentType / calculationMode from the contract's
  lists, documentDate given, description at most 210 characters (SEEN);
- rows: bookingDate and accountNumber given, amount and netAmount given with at most 2 decimals,
  vatPercentage in [0, 100), isVatRow 0 or 1;
- dimensions: dimensionType from the contract's list, a value given;
- payments: paymentDate given, invoiceNumber given, amount with at most 2 decimals, ISO 4217 currency,
  targetIdentifier from the contract's list, paymentReference a valid Finnish or RF reference when given.

Across frames (`validate_vouchers`): a voucher is rejected when any of its rows or dimensions fails (the
reason names the row), when it has no rows, when a row's netAmount differs from what amount and
vatPercentage give by more than a cent, or when its rows do not balance (`contract.ledger_imbalance`).
Dates are SQL `date` columns in the input contract, so a non-ISO date cannot load; the mapping writes
YYYY-MM-DD. Each rejection carries the payload hash of the item, so an unchanged bad item found again the
next night is the same rejection, and a corrected one is judged afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from confirma_pipeline.api import contract as c
from confirma_pipeline.validation import identifiers as ids
from confirma_pipeline.validation._checks import field as _f
from confirma_pipeline.validation.dtypes import DateUS, UTCTimestamp
from confirma_pipeline.validation.reasons import format_value, validate_with_reasons

VOUCHER_ENTITY = "ledger_voucher"
PAYMENT_ENTITY = "accounting_payment"
BALANCE_CHECK = "voucher_rows_balance"
NET_AMOUNT_CHECK = "net_amount_matches_amount_and_vat"
HAS_ROWS_CHECK = "voucher_has_rows"


def _money_ok(s: pd.Series) -> pd.Series:
    return ids.has_max_decimals(s, c.MONEY_DECIMALS)


class LedgerVoucherModel(pa.DataFrameModel):
    """One ledger voucher (the `ledgers` object of POST accounting/ledger)."""

    creditor_id: Series[str] = _f("The creditor (Confirma client) whose bookkeeping this is.")
    ledger_identifier: Series[str] = _f(
        "ledgerIdentifier: chosen by the creditor, unique per creditor (key)."
    )
    company_identifier: Series[str] = _f("companyIdentifier: the company's Y-tunnus.", nullable=True)
    document_type: Series[str] = _f("documentType, e.g. ML (memo voucher).", nullable=True)
    document_name: Series[str] = _f("documentName, e.g. the voucher number.", nullable=True)
    document_date: Series[DateUS] = _f("documentDate (YYYY-MM-DD).", nullable=True)
    document_description: Series[str] = _f("documentDescription, at most 210 characters.", nullable=True)
    calculation_mode: Series[str] = _f("calculationMode: GROSS or NET.", nullable=True)
    updated_at: Series[UTCTimestamp] = _f("When the source row last changed (UTC).")

    class Config:
        strict = True
        coerce = False
        name = VOUCHER_ENTITY
        unique = ["creditor_id", "ledger_identifier"]
        description = "Ledger vouchers to send (confirma_source.ledger_vouchers)."

    @pa.check("creditor_id", "ledger_identifier", name="not_blank", error="must not be blank")
    def _not_blank(cls, s: pd.Series) -> pd.Series:
        return ~ids.is_blank(s)

    @pa.check("company_identifier", name="company_identifier_is_y_tunnus", error="must be a valid Y-tunnus")
    def _company(cls, s: pd.Series) -> pd.Series:
        return ids.is_business_id(s)

    @pa.check("document_type", name="document_type_known", error=f"must be one of {c.LEDGER_DOCUMENT_TYPES}")
    def _document_type(cls, s: pd.Series) -> pd.Series:
        return s.isin(c.LEDGER_DOCUMENT_TYPES).fillna(False).astype(bool)

    @pa.check(
        "calculation_mode", name="calculation_mode_known", error=f"must be one of {c.CALCULATION_MODES}"
    )
    def _mode(cls, s: pd.Series) -> pd.Series:
        return s.isin(c.CALCULATION_MODES).fillna(False).astype(bool)

    @pa.check("document_date", name="date_given", error="must be given")
    def _date(cls, s: pd.Series) -> pd.Series:
        return s.notna()

    @pa.check(
        "document_description",
        name="description_at_most_210_chars",
        error=f"must be at most {c.LEDGER_DESCRIPTION_MAX} characters",
    )
    def _description(cls, s: pd.Series) -> pd.Series:
        return (s.str.len().fillna(0) <= c.LEDGER_DESCRIPTION_MAX).astype(bool)


class LedgerRowModel(pa.DataFrameModel):
    """One row of a voucher (`ledgers.ledgerRows[]`)."""

    creditor_id: Series[str] = _f("The creditor.")
    ledger_identifier: Series[str] = _f("The voucher this row belongs to.")
    row_number: Series[int] = _f("Order of the row in the voucher (1, 2, ...).", ge=1)
    booking_date: Series[DateUS] = _f("bookingDate (YYYY-MM-DD).", nullable=True)
    account_number: Series[str] = _f("accountNumber in the chart of accounts.", nullable=True)
    vat_account_number: Series[str] = _f("vatAccountNumber, if any.", nullable=True)
    vat_type: Series[str] = _f("vatType, if any.", nullable=True)
    vat_percentage: Series[float] = _f("vatPercentage, e.g. 25.5.", nullable=True)
    vat_code: Series[str] = _f("vatCode, e.g. 20.", nullable=True)
    amount: Series[float] = _f("amount, signed (debit +, credit -), 2 decimals.", nullable=True)
    net_amount: Series[float] = _f("netAmount: amount without VAT, 2 decimals.", nullable=True)
    is_vat_row: Series[pd.Int64Dtype] = _f("isVatRow: 1 for the VAT row, else 0.", nullable=True)
    project_number: Series[str] = _f("projectNumber, if any.", nullable=True)
    transaction_type: Series[str] = _f("transactionType, if any.", nullable=True)
    transaction_description: Series[str] = _f("transactionDescription, if any.", nullable=True)

    class Config:
        strict = True
        coerce = False
        name = "ledger_voucher_row"
        unique = ["creditor_id", "ledger_identifier", "row_number"]

    @pa.check("booking_date", name="date_given", error="must be given")
    def _date(cls, s: pd.Series) -> pd.Series:
        return s.notna()

    @pa.check("account_number", name="not_blank", error="must not be blank")
    def _account(cls, s: pd.Series) -> pd.Series:
        return ~ids.is_blank(s)

    @pa.check("amount", "net_amount", name="money_2_decimals", error="must be given with at most 2 decimals")
    def _money(cls, s: pd.Series) -> pd.Series:
        return _money_ok(s)

    @pa.check("vat_percentage", name="vat_percentage_in_range", error="must be in [0, 100) when given")
    def _vat(cls, s: pd.Series) -> pd.Series:
        return (s.isna() | ((s >= 0) & (s < 100))).astype(bool)

    @pa.check("is_vat_row", name="is_vat_row_0_or_1", error="must be 0 or 1")
    def _flag(cls, s: pd.Series) -> pd.Series:
        return s.isin([0, 1]).fillna(False).astype(bool)


class LedgerDimensionModel(pa.DataFrameModel):
    """One dimension of a row (`ledgerDimensions[]`)."""

    creditor_id: Series[str] = _f("The creditor.")
    ledger_identifier: Series[str] = _f("The voucher.")
    row_number: Series[int] = _f("The row.")
    dimension_number: Series[int] = _f("Order of the dimension on the row.")
    dimension_type: Series[str] = _f("dimensionType, e.g. COST_CENTER.", nullable=True)
    dimension_value: Series[str] = _f("dimensionValue, e.g. 1000.", nullable=True)

    class Config:
        strict = True
        coerce = False
        name = "ledger_row_dimension"

    @pa.check("dimension_type", name="dimension_type_known", error=f"must be one of {c.DIMENSION_TYPES}")
    def _type(cls, s: pd.Series) -> pd.Series:
        return s.isin(c.DIMENSION_TYPES).fillna(False).astype(bool)

    @pa.check("dimension_value", name="not_blank", error="must not be blank")
    def _value(cls, s: pd.Series) -> pd.Series:
        return ~ids.is_blank(s)


class AccountingPaymentModel(pa.DataFrameModel):
    """One accounting payment (`payments[]` of POST accounting/payment)."""

    creditor_id: Series[str] = _f("The creditor (Confirma client).")
    payment_identifier: Series[str] = _f(
        "paymentIdentifier: chosen by the creditor, unique per creditor (key)."
    )
    invoice_number: Series[str] = _f("invoiceNumber the payment is for (text).", nullable=True)
    payment_date: Series[DateUS] = _f("paymentDate (YYYY-MM-DD).", nullable=True)
    booking_date: Series[DateUS] = _f("bookingDate (YYYY-MM-DD), if any.", nullable=True)
    amount: Series[float] = _f("amount paid, 2 decimals.", nullable=True)
    currency: Series[str] = _f("currency, ISO 4217.", nullable=True)
    target_identifier: Series[str] = _f("targetIdentifier: how the target system matches it.", nullable=True)
    payment_reference: Series[str] = _f("paymentReference: Finnish or RF reference, if any.", nullable=True)
    source_name: Series[str] = _f("sourceName: the payer's name.", nullable=True)
    updated_at: Series[UTCTimestamp] = _f("When the source row last changed (UTC).")

    class Config:
        strict = True
        coerce = False
        name = PAYMENT_ENTITY
        unique = ["creditor_id", "payment_identifier"]
        description = "Accounting payments to send (confirma_source.accounting_payments)."

    @pa.check(
        "creditor_id", "payment_identifier", "invoice_number", name="not_blank", error="must not be blank"
    )
    def _not_blank(cls, s: pd.Series) -> pd.Series:
        return ~ids.is_blank(s)

    @pa.check("payment_date", name="date_given", error="must be given")
    def _date(cls, s: pd.Series) -> pd.Series:
        return s.notna()

    @pa.check("amount", name="money_2_decimals", error="must be given with at most 2 decimals")
    def _money(cls, s: pd.Series) -> pd.Series:
        return _money_ok(s)

    @pa.check("currency", name="currency_is_iso4217", error="must be an ISO 4217 code")
    def _currency(cls, s: pd.Series) -> pd.Series:
        return ids.is_currency(s)

    @pa.check(
        "target_identifier",
        name="target_identifier_known",
        error=f"must be one of {c.PAYMENT_TARGET_IDENTIFIERS}",
    )
    def _target(cls, s: pd.Series) -> pd.Series:
        return s.isin(c.PAYMENT_TARGET_IDENTIFIERS).fillna(False).astype(bool)

    @pa.check("payment_reference", name="payment_reference_valid", error="must be a Finnish or RF reference")
    def _reference(cls, s: pd.Series) -> pd.Series:
        return ids.is_payment_reference(s) | ids.is_blank(s)


# --- across frames ----------------------------------------------------------------------------------------


@dataclass
class Verdict:
    """Why an item is rejected: the failed checks and one sentence per failure."""

    checks: list[str]
    fragments: list[str]

    def add(self, checks, fragment: str) -> None:
        self.checks.extend(x for x in checks if x not in self.checks)
        self.fragments.append(fragment)

    @property
    def reason(self) -> str:
        return "; ".join(self.fragments)


def _cents(x: float) -> Decimal:
    return c.round_money(Decimal(str(float(x))))


def _verdicts_of(rejected: pd.DataFrame, key: str, prefix=None) -> dict[tuple[str, str], Verdict]:
    out: dict[tuple[str, str], Verdict] = {}
    for rec in rejected.to_dict("records"):
        item = (str(rec["creditor_id"]), str(rec[key]))
        label = prefix(rec) if prefix else ""
        out.setdefault(item, Verdict([], [])).add(rec["checks"], label + str(rec["reason"]))
    return out


def _merge(into: dict, more: dict) -> None:
    for item, verdict in more.items():
        target = into.setdefault(item, Verdict([], []))
        for fragment in verdict.fragments:
            target.add(verdict.checks, fragment)


def validate_vouchers(
    vouchers: pd.DataFrame, rows: pd.DataFrame, dimensions: pd.DataFrame
) -> dict[tuple[str, str], Verdict]:
    """(creditor_id, ledger_identifier) -> why that voucher is rejected; vouchers absent are valid."""
    key = ["creditor_id", "ledger_identifier"]
    verdicts = _verdicts_of(
        validate_with_reasons(LedgerVoucherModel, vouchers, key).rejected_df, "ledger_identifier"
    )
    row_out = validate_with_reasons(LedgerRowModel, rows, [*key, "row_number"])
    _merge(
        verdicts,
        _verdicts_of(
            row_out.rejected_df, "ledger_identifier", lambda r: f"row {format_value(r['row_number'])}: "
        ),
    )
    dim_out = validate_with_reasons(
        LedgerDimensionModel, dimensions, [*key, "row_number", "dimension_number"]
    )
    _merge(
        verdicts,
        _verdicts_of(
            dim_out.rejected_df,
            "ledger_identifier",
            lambda r: f"row {format_value(r['row_number'])} dimension: ",
        ),
    )
    bad_rows = set(
        zip(row_out.rejected_df["creditor_id"], row_out.rejected_df["ledger_identifier"], strict=True)
    )
    modes = dict(
        zip(
            zip(vouchers["creditor_id"], vouchers["ledger_identifier"], strict=True),
            vouchers["calculation_mode"],
            strict=True,
        )
    )
    grouped = {k: g for k, g in rows.groupby(key, sort=False)} if len(rows) else {}
    for item, mode in modes.items():
        group = grouped.get(item)
        if group is None:
            verdicts.setdefault(item, Verdict([], [])).add(
                [HAS_ROWS_CHECK], f"voucher has no rows (fails {HAS_ROWS_CHECK})"
            )
            continue
        if item in bad_rows or mode not in c.CALCULATION_MODES:
            continue  # already explained; the sums of unreadable rows mean nothing
        _judge_amounts(item, str(mode), group, verdicts)
    return verdicts


def _judge_amounts(item, mode: str, group: pd.DataFrame, verdicts: dict) -> None:
    balance = []
    for number, amount, net, vat, flag in group[
        ["row_number", "amount", "net_amount", "vat_percentage", "is_vat_row"]
    ].itertuples(index=False, name=None):
        amount, net = _cents(amount), _cents(net)
        vat = Decimal(str(vat)) if vat is not None and not pd.isna(vat) else Decimal(0)
        expected = c.ledger_net_amount(amount, vat, int(flag), mode)
        if abs(expected - net) > c.ROW_TOLERANCE:
            verdicts.setdefault(item, Verdict([], [])).add(
                [NET_AMOUNT_CHECK],
                f"row {number}: net_amount {net} but amount {amount} at vat_percentage {vat} gives {expected} "
                f"(fails {NET_AMOUNT_CHECK})",
            )
        balance.append((amount, net, int(flag)))
    imbalance = c.ledger_imbalance(mode, balance)
    if imbalance:
        verdicts.setdefault(item, Verdict([], [])).add(
            [BALANCE_CHECK], f"{imbalance} (fails {BALANCE_CHECK})"
        )


def validate_payments(payments: pd.DataFrame) -> dict[tuple[str, str], Verdict]:
    """(creditor_id, payment_identifier) -> why that payment is rejected."""
    out = validate_with_reasons(AccountingPaymentModel, payments, ["creditor_id", "payment_identifier"])
    return _verdicts_of(out.rejected_df, "payment_identifier")


def valid_mask(frame: pd.DataFrame, key: str, verdicts: dict) -> np.ndarray:
    """True for rows of `frame` whose item has no verdict."""
    bad = set(verdicts)
    return np.array(
        [(cid, k) not in bad for cid, k in zip(frame["creditor_id"], frame[key], strict=True)], dtype=bool
    )


# --- tables the pipeline owns (column schemas for the Dagster asset pages) --------------------------------


class AccountingSubmissionModel(pa.DataFrameModel):
    """`confirma.accounting_submissions`: our exactly-once ledger of what was sent to the accounting add-on."""

    kind: Series[str] = _f("ledger (a voucher) or payment.")
    creditor_id: Series[str] = _f("The creditor (Confirma client).")
    identifier: Series[str] = _f(
        "ledgerIdentifier or paymentIdentifier (the status endpoints' sourceIdentifier)."
    )
    item_date: Series[DateUS] = _f("documentDate or paymentDate: bounds the status look-up.")
    state: Series[str] = _f("pending, in_flight (outcome unknown), submitted, rejected or failed.")
    attempts: Series[int] = _f("POSTs tried.")
    payload_hash: Series[str] = _f("Hash of the body as sent.")
    last_error: Series[str] = _f("Sanitized last error (status and the server's reason).", nullable=True)
    submitted_at: Series[UTCTimestamp] = _f("When Confirma accepted it.", nullable=True)


class AccountingSyncModel(pa.DataFrameModel):
    """`confirma.accounting_sync`: the sync status Confirma reports per voucher and payment."""

    creditor_id: Series[str] = _f("The creditor (Confirma client).")
    kind: Series[str] = _f("ledger or payment.")
    source_identifier: Series[str] = _f("sourceIdentifier: our ledgerIdentifier / paymentIdentifier.")
    item_date: Series[DateUS] = _f("documentDate / paymentDate.", nullable=True)
    sync_date: Series[DateUS] = _f("syncDate: when it reached the accounting system.", nullable=True)
    status: Series[int] = _f("0 pending, 1 synced (SEEN), 2 failed (INFERRED).")
    status_text: Series[str] = _f("description, e.g. 'Successfully synced' or why it failed.", nullable=True)
