"""pandera models of the pulled tables: what the pulls write from the API's answers into the pipeline's own tables
(`confirma.payments`, `settlements`, `distribution`, `cases`, ...; DDL in sql/migrations), and the settlement
consistency checks.

A pulled table's columns are written twice only: here (names, order, dtypes, nullability, checks) and in its
migration. Everything else derives from the model: the frame builders of `mapping/responses.py` order their
columns by `columns(Model)`, and tests/pull/test_pulled_tables.py holds model and DDL together (it reads the
columns of the migrated warehouse from information_schema).

Dtypes follow the project contract: ids `int64` (NOT NULL) / `Int64` (nullable), money `float64` with at most two
decimals, plain dates `datetime64[us]`, date-times `datetime64[us, UTC]`, text `str`. These models COERCE
(`Config.coerce = True`): `Model.validate(frame)` returns the frame converted to those dtypes (e.g. ISO strings to
timestamps), so a writer can validate and normalise in one call. Columns the database fills by default
(`fetched_at`, `updated_at`) are optional. Checks are about integrity (keys, decimals, enums the pipeline owns),
not about second-guessing the API's data formats.

`breakdown_sums_equal_allocation_total` and `allocations_sum_to_settlement_amount` take the three settlement
frames and return the offending ids (empty = consistent).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from confirma_pipeline.validation import identifiers as ids
from confirma_pipeline.validation._checks import field as _f
from confirma_pipeline.validation._checks import nullable_field as _n
from confirma_pipeline.validation.dtypes import DateUS, UTCTimestamp

TOKEN_STATUSES = ("unknown", "valid", "expiring", "expired", "invalid")


class _Pulled(pa.DataFrameModel):
    class Config:
        strict = True
        coerce = True


@cache
def columns(model: type[pa.DataFrameModel]) -> tuple[str, ...]:
    """The model's columns in table order: the one list a frame builder or a writer needs."""
    return tuple(model.to_schema().columns)


def _two_decimals(s: pd.Series) -> pd.Series:
    return ids.has_max_decimals(s, 2)


class PaymentModel(_Pulled):
    """confirma.payments: received payments (may still change until settled)."""

    creditor_id: Series[str] = _f("The client the payment belongs to.")
    payment_key: Series[str] = _f("Content hash identifying the payment (the API gives no payment id).")
    payment_day: Series[DateUS] = _f(
        "UTC calendar day of paymentDate, which the API's fromDate/toDate filter on (the replaced window)."
    )
    case_id: Series[pd.Int64Dtype] = _n("caseId.")
    invoice_number: Series[str] = _n("invoiceNumber (a string in this endpoint).")
    invoice_payment_reference: Series[str] = _n("invoicePaymentReference.")
    original_payment_reference: Series[str] = _n("originalPaymentReference.")
    account_name: Series[str] = _n("accountName.")
    booking_date: Series[UTCTimestamp] = _n("bookingDate (UTC).")
    payment_date: Series[UTCTimestamp] = _n("paymentDate (UTC).")
    amount: Series[float] = _n("Paid amount.")
    currency: Series[str] = _n("Currency of the amount.")
    fetched_at: Series[UTCTimestamp] | None = _f("When it was fetched (UTC).")

    class Config:
        name = "payment"
        unique = ["creditor_id", "payment_key"]

    @pa.check("amount", name="amount_has_two_decimals", error="must have at most 2 decimals")
    def _amount(cls, s: pd.Series) -> pd.Series:
        return _two_decimals(s)


class SettlementModel(_Pulled):
    """confirma.settlements: payouts to the client."""

    settlement_id: Series[int] = _f("settlementId (exceeds int32).", unique=True)
    creditor_id: Series[str] = _f("The client paid out to.")
    settlement_date: Series[DateUS] = _f("settlementDate.")
    agency: Series[str] = _n("agency.")
    remittance_reference: Series[str] = _n("remittanceReference.")
    beneficiary_name: Series[str] = _n("beneficiary.name.")
    beneficiary_iban: Series[str] = _n("beneficiary.iban.")
    beneficiary_bic: Series[str] = _n("beneficiary.bic.")
    settlement_amount: Series[float] = _f("settlementAmount = sum of the allocations.")
    currency: Series[str] = _n("currency.")
    api_fetch_date: Series[UTCTimestamp] = _n("apiFetchDate (UTC).")
    fetched_at: Series[UTCTimestamp] | None = _f("When it was fetched (UTC).")

    class Config:
        name = "settlement"

    @pa.check("settlement_amount", name="amount_has_two_decimals", error="must have at most 2 decimals")
    def _amount(cls, s: pd.Series) -> pd.Series:
        return _two_decimals(s)


class AllocationModel(_Pulled):
    """confirma.settlement_allocations: how a settlement divides over invoices / cases."""

    allocation_id: Series[int] = _f("allocationId.", unique=True)
    settlement_id: Series[int] = _f("The settlement this allocation belongs to.")
    allocated_total_amount: Series[float] = _f("allocatedTotalAmount = sum of the breakdown items.")
    allocation_date: Series[DateUS] = _n("allocationDate.")
    currency: Series[str] = _n("currency.")
    case_id: Series[pd.Int64Dtype] = _n("caseId.")
    original_invoice_number: Series[str] = _n("originalInvoiceNumber.")
    original_payment_reference: Series[str] = _n("originalPaymentReference.")

    class Config:
        name = "settlement_allocation"

    @pa.check("allocated_total_amount", name="amount_has_two_decimals", error="must have at most 2 decimals")
    def _amount(cls, s: pd.Series) -> pd.Series:
        return _two_decimals(s)


class BreakdownItemModel(_Pulled):
    """confirma.allocation_breakdown: CAPITAL / INTEREST / FEES parts of an allocation (older API: `events`)."""

    allocation_id: Series[int] = _f("The allocation this item belongs to.")
    line_no: Series[int] = _f("Position of the item in the allocation, 1-based.", ge=1)
    type: Series[str] = _f("Item type, e.g. CAPITAL, INTEREST, FEES.")
    amount: Series[float] = _f("Item amount.")

    class Config:
        name = "allocation_breakdown"
        unique = ["allocation_id", "line_no"]

    @pa.check("amount", name="amount_has_two_decimals", error="must have at most 2 decimals")
    def _amount(cls, s: pd.Series) -> pd.Series:
        return _two_decimals(s)


class DistributionModel(_Pulled):
    """confirma.distribution: delivery records per client and invoice number."""

    creditor_id: Series[str] = _f("The client.")
    invoice_number: Series[int] = _f("Invoice number (header.number).")
    invoice_date: Series[DateUS] = _n("invoiceDate.")
    distribution_method: Series[str] = _n("distributionMethod.")
    distribution_status: Series[str] = _n("distributionStatus.")
    distributed_at: Series[UTCTimestamp] = _n("distributedAt (UTC).")
    payment_control_status: Series[str] = _n("paymentControlStatus.")
    case_id: Series[pd.Int64Dtype] = _n("caseId (save it to fetch case details).")
    created_at: Series[UTCTimestamp] = _n("createdAt (UTC).")
    fetched_at: Series[UTCTimestamp] | None = _f("When it was fetched (UTC).")

    class Config:
        name = "distribution"
        unique = ["creditor_id", "invoice_number"]


class CaseModel(_Pulled):
    """confirma.cases: payment control / collection case details."""

    case_id: Series[int] = _f("caseId.", unique=True)
    creditor_id: Series[str] = _f("The client.")
    invoice_number: Series[pd.Int64Dtype] = _n("Invoice number of the case.")
    status: Series[str] = _n("summary.status.")
    stage: Series[str] = _n("summary.stage.")
    created_at: Series[UTCTimestamp] = _n("summary.createdAt (UTC).")
    closed_at: Series[DateUS] = _n("summary.closedAt (a plain date).")
    active_days: Series[pd.Int64Dtype] = _n("summary.activeDays.")
    creditor: Series[str] = _n("summary.creditor.")
    currency: Series[str] = _n("summary.currency.")
    agency: Series[str] = _n("summary.agency.")
    capital_amount: Series[float] = _n("balance.capitalAmount.")
    interest_amount: Series[float] = _n("balance.interestAmount.")
    costs_amount: Series[float] = _n("balance.costsAmount.")
    total_amount: Series[float] = _n("balance total.")
    fetched_at: Series[UTCTimestamp] | None = _f("When it was fetched (UTC).")
    due_date: Series[DateUS] = _n("summary.dueDate: the case due date (an invoice action DUEDATE moves it).")
    paused: Series[pd.BooleanDtype] = _n(
        "summary.paused: the case's stages are paused (invoice action PAUSE)."
    )

    class Config:
        name = "case"

    @pa.check("capital_amount", "interest_amount", "costs_amount", "total_amount", name="amount_has_two_decimals",
              error="must have at most 2 decimals")  # fmt: skip
    def _amounts(cls, s: pd.Series) -> pd.Series:
        return _two_decimals(s)


class ClientTokenModel(_Pulled):
    """confirma.client_credentials (the view of client_tokens without the ciphertext): token status per client.
    The view keeps its historical name; in code these are "client tokens"."""

    creditor_id: Series[str] = _f("The client.", unique=True)
    fingerprint: Series[str] = _f("Short non-reversible fingerprint of the token (never the token).")
    status: Series[str] = _f(f"Token status: {', '.join(TOKEN_STATUSES)}.", isin=list(TOKEN_STATUSES))
    status_message: Series[str] = _n("Message from the last validation.")
    expires_at: Series[UTCTimestamp] = _n("Token expiry (UTC), when known.")
    last_validated_at: Series[UTCTimestamp] = _n("Last validation (UTC).")
    last_renewed_at: Series[UTCTimestamp] = _n("Last renewal (UTC).")
    updated_at: Series[UTCTimestamp] | None = _f("Last change (UTC).")

    class Config:
        name = "client_credential"


class EInvoiceAddressModel(_Pulled):
    """confirma.finvoice_credentials: e-invoice (Finvoice) addresses of a company, by business id. The table
    keeps the API's name (GET /finvoice/credentials); in code these are "e-invoice addresses"."""

    business_id: Series[str] = _f("Business id (Y-tunnus) looked up.")
    e_invoice_address: Series[str] = _f("eInvoiceAddress.")
    e_invoice_operator_id: Series[str] = _f("eInvoiceOperatorId ('' when none).")
    e_invoice_address_name: Series[str] = _n("eInvoiceAddressName.")
    e_invoice_address_type: Series[str] = _n("eInvoiceAddressType, e.g. EDI, IBAN.")
    e_invoice_operator_name: Series[str] = _n("eInvoiceOperatorName.")
    last_modified: Series[UTCTimestamp] = _n("lastModified (UTC).")
    fetched_at: Series[UTCTimestamp] | None = _f("When it was fetched (UTC).")

    class Config:
        name = "finvoice_credential"
        unique = ["business_id", "e_invoice_address", "e_invoice_operator_id"]


PULLED_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "confirma.payments": PaymentModel,
    "confirma.settlements": SettlementModel,
    "confirma.settlement_allocations": AllocationModel,
    "confirma.allocation_breakdown": BreakdownItemModel,
    "confirma.distribution": DistributionModel,
    "confirma.cases": CaseModel,
    "confirma.client_credentials": ClientTokenModel,
    "confirma.finvoice_credentials": EInvoiceAddressModel,
}


def table_of(model: type[pa.DataFrameModel]) -> str:
    """The pulled table a model describes."""
    return next(table for table, known in PULLED_MODELS.items() if known is model)


# --- settlement consistency -------------------------------------------------------------------------------


def _sum_by(keys: pd.Series, amounts: pd.Series) -> pd.Series:
    return amounts.astype(float).groupby(keys.to_numpy(), sort=False).sum()


def breakdown_sums_equal_allocation_total(
    settlements: pd.DataFrame | None, allocations: pd.DataFrame, breakdown: pd.DataFrame
) -> list[int]:
    """allocation_ids whose breakdown items do not add up to `allocated_total_amount` (within half a cent).
    An allocation without breakdown items is not judged (the older API version may omit them).
    `settlements` is accepted for a uniform signature and not needed."""
    if allocations.empty or breakdown.empty:
        return []
    sums = _sum_by(breakdown["allocation_id"], breakdown["amount"])
    totals = allocations.set_index("allocation_id")["allocated_total_amount"].astype(float)
    common = totals.index.intersection(sums.index)
    ok = ids.money_equal(totals.loc[common].to_numpy(), sums.loc[common].to_numpy())
    return sorted(int(a) for a in np.asarray(common)[~ok])


def allocations_sum_to_settlement_amount(
    settlements: pd.DataFrame, allocations: pd.DataFrame, breakdown: pd.DataFrame | None = None
) -> list[int]:
    """settlement_ids whose allocations do not add up to `settlement_amount` (within half a cent); a settlement
    with a non-zero amount and no allocations is offending. `breakdown` is accepted for a uniform signature."""
    if settlements.empty:
        return []
    if allocations.empty:
        sums = pd.Series(dtype=float)
    else:
        sums = _sum_by(allocations["settlement_id"], allocations["allocated_total_amount"])
    amounts = settlements.set_index("settlement_id")["settlement_amount"].astype(float)
    allocated = sums.reindex(amounts.index, fill_value=0.0)
    ok = ids.money_equal(amounts.to_numpy(), allocated.to_numpy())
    return sorted(int(s) for s in np.asarray(amounts.index)[~ok])
