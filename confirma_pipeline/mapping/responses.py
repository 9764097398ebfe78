"""API responses -> warehouse frames, one function per table (the one place where API field names meet column
names).

Frames are built column by column from lists (one pass over the records, no per-row DataFrame appends) with the
columns of the target table in `confirma` (sql/migrations/0003_owned_tables.sql). They are not yet typed: the
pulled tables' models in `validation/pulled.py` (the one list of each table's columns, in order) coerce and
check them (`Model.validate(frame)`).

Choices made here (the docs are silent):
- payment_day is the calendar date of paymentDate as the API states it (its date part in UTC), which is the date
  the API's fromDate/toDate filter on, so every row of an answer lies inside the window asked for. A payment
  without paymentDate falls back to bookingDate.
- payment_key = sha256 over the payment's content (every field the API gives, amounts normalised to cents),
  96 bits in hex, plus "-<n>": the ordinal of the row among identical rows of the same client, so two
  identical payments on one day stay two rows, and a rerun produces the same keys.
- settlements.api_fetch_date: the API shows apiFetchDate as it was *before* the current fetch (null on the
  first one), so a null is replaced by the answer's createdAt (the moment of that first fetch). The pull
  stores it once (`keep_columns` of the upsert): a later answer, even one whose apiFetchDate is still null
  because the API does not mark range fetches, neither changes the row nor the first fetch date.
- breakdown line_no: 1-based position of the item inside its allocation (`breakdown`, or the older `events`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandera.pandas import DataFrameModel

from confirma_pipeline.api import models as m
from confirma_pipeline.validation.pulled import (
    AllocationModel,
    BreakdownItemModel,
    CaseModel,
    DistributionModel,
    EInvoiceAddressModel,
    PaymentModel,
    SettlementModel,
)
from confirma_pipeline.validation.pulled import columns as model_columns

_SEP = "\x1f"
_NULL = "\x00"
_CENT = Decimal("0.01")
_UTC_US = pd.DatetimeTZDtype("us", "UTC")
_DATE_US = np.dtype("datetime64[us]")  # a plain date, as the write-back models hold it


def _frame(model: type[DataFrameModel], data: dict[str, list]) -> pd.DataFrame:
    """A frame with exactly the model's columns, in table order (the model is the one list of them; a key of
    `data` that is no column, or a column without a key, is a bug here). Lists are object columns (None stays
    None) until the model coerces them."""
    names = model_columns(model)
    if set(data) != set(names):
        raise KeyError(
            f"{model.__name__}: frame keys differ from the model's columns: {set(data) ^ set(names)}"
        )
    return pd.DataFrame({name: pd.Series(data[name], dtype=object) for name in names}, columns=list(names))


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _cents(value: Decimal | None) -> str:
    return _NULL if value is None else str(Decimal(value).quantize(_CENT))


def _text(value: object) -> str:
    if value is None:
        return _NULL
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    return str(value)


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --- payments ---------------------------------------------------------------------------------------------


def payment_day(record: m.PaymentRecord) -> date | None:
    moment = record.payment_date or record.booking_date
    return None if moment is None else _utc(moment).date()


def payment_content_hash(record: m.PaymentRecord) -> str:
    """Hash of everything the API says about one payment (it gives no payment id)."""
    parts = (
        _text(record.case_id), _text(record.invoice_number), _text(record.invoice_payment_reference),
        _text(record.original_payment_reference), _text(record.account_name), _text(record.booking_date),
        _text(record.payment_date), _cents(record.amount), _text(record.currency),
    )  # fmt: skip
    return hashlib.sha256(_SEP.join(parts).encode()).hexdigest()[:24]


def payments_frame(
    creditor_id: str, records: Sequence[m.PaymentRecord], fetched_at: datetime | None = None
) -> pd.DataFrame:
    """confirma.payments rows of one client's payments answer."""
    fetched_at = fetched_at or _now()
    hashes = [payment_content_hash(r) for r in records]
    data = {
        "creditor_id": [creditor_id] * len(records),
        "payment_key": _payment_keys(hashes),
        "payment_day": [payment_day(r) for r in records],
        "case_id": [r.case_id for r in records],
        "invoice_number": [r.invoice_number for r in records],
        "invoice_payment_reference": [r.invoice_payment_reference for r in records],
        "original_payment_reference": [r.original_payment_reference for r in records],
        "account_name": [r.account_name for r in records],
        "booking_date": [_utc(r.booking_date) for r in records],
        "payment_date": [_utc(r.payment_date) for r in records],
        "amount": [_money(r.amount) for r in records],
        "currency": [r.currency for r in records],
        "fetched_at": [fetched_at] * len(records),
    }
    return _frame(PaymentModel, data)


def _payment_keys(hashes: list[str]) -> list[str]:
    """`<hash>-<n>`, n the ordinal of the row among identical rows (in answer order)."""
    series = pd.Series(hashes, dtype=object)
    if not series.duplicated().any():
        return [f"{h}-0" for h in hashes]
    ordinals = series.groupby(hashes, sort=False).cumcount().tolist()
    return [f"{h}-{n}" for h, n in zip(hashes, ordinals, strict=True)]


def payments_frame_from_columns(
    creditor_id: str, columns: pa.Table, fetched_at: datetime | None = None
) -> pd.DataFrame:
    """`payments_frame` of an answer decoded to columns (`api.columnar`): the same rows, keys and dtypes
    (those of `PaymentModel`), built column-wise. The content hash joins the same texts as
    `payment_content_hash`, made column by column; only sha256 itself runs once per row."""
    fetched_at = fetched_at or _now()
    n = columns.num_rows
    parts = [
        pc.cast(columns["case_id"], pa.string()), columns["invoice_number"],
        columns["invoice_payment_reference"], columns["original_payment_reference"], columns["account_name"],
        _moment_texts(columns["booking_date"]), _moment_texts(columns["payment_date"]),
        _cent_texts(columns["amount"]), columns["currency"],
    ]  # fmt: skip
    joined = pc.binary_join_element_wise(*[pc.fill_null(p, _NULL) for p in parts], _SEP)
    hashes = [hashlib.sha256(b).hexdigest()[:24] for b in pc.cast(joined, pa.binary()).to_pylist()]
    booking = _utc_series(columns["booking_date"])
    paid = _utc_series(columns["payment_date"])
    moment = paid.fillna(booking) if booking.notna().any() else paid
    data = {
        "creditor_id": pd.Series([creditor_id] * n, dtype="str"),
        "payment_key": pd.Series(_payment_keys(hashes), dtype="str"),
        "payment_day": moment.dt.tz_localize(None).dt.floor("D").astype(_DATE_US),
        "case_id": columns["case_id"].to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get),
        **{
            name: pd.Series(columns[name].to_pandas(), dtype="str")
            for name in (
                "invoice_number",
                "invoice_payment_reference",
                "original_payment_reference",
                "account_name",
            )
        },
        "booking_date": booking,
        "payment_date": paid,
        "amount": pd.Series(columns["amount"].to_numpy(), dtype="float64"),
        "currency": pd.Series(columns["currency"].to_pandas(), dtype="str"),
        "fetched_at": pd.Series([fetched_at] * n, dtype=_UTC_US) if n else pd.Series([], dtype=_UTC_US),
    }
    return pd.DataFrame(
        {name: pd.Series(data[name]).reset_index(drop=True) for name in model_columns(PaymentModel)}
    )


def _utc_series(moments: pa.ChunkedArray) -> pd.Series:
    return pd.Series(moments.to_pandas(), dtype=_UTC_US)


def _moment_texts(moments: pa.ChunkedArray) -> pa.Array:
    """`_text` of UTC timestamps: `datetime.isoformat()`, i.e. `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`."""
    micros = pc.fill_null(pc.cast(moments, pa.int64()), 0).to_numpy()
    valid = pc.is_valid(moments).to_numpy()
    fraction = np.mod(micros, 1_000_000)
    seconds = pa.array((micros - fraction) // 1_000_000, pa.timestamp("s"), mask=~valid)
    text = pc.utf8_replace_slice(pc.cast(seconds, pa.string()), 10, 11, "T")  # "YYYY-MM-DD HH:MM:SS"
    if fraction.any():
        digits = pc.utf8_lpad(pc.cast(pa.array(fraction), pa.string()), 6, "0")
        suffix = pc.if_else(pa.array(fraction != 0), pc.binary_join_element_wise(".", digits, ""), "")
        text = pc.binary_join_element_wise(text, suffix, "")
    return pc.binary_join_element_wise(text, "+00:00", "")


def _cent_texts(amounts: pa.ChunkedArray) -> pa.Array:
    """`_cents` of amounts the columnar decoder let through (finite, below 1e12): `Decimal.quantize(0.01)`."""
    cents = np.round(amounts.to_numpy() * 100).astype(np.int64)
    whole, part = np.divmod(np.abs(cents), 100)
    sign = pc.if_else(pa.array(cents < 0), "-", "")
    digits = pc.utf8_lpad(pc.cast(pa.array(part), pa.string()), 2, "0")
    return pc.binary_join_element_wise(sign, pc.cast(pa.array(whole), pa.string()), ".", digits, "")


# --- settlements ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettlementFrames:
    settlements: pd.DataFrame
    allocations: pd.DataFrame
    breakdown: pd.DataFrame

    @property
    def counts(self) -> dict[str, int]:
        return {
            "settlements": len(self.settlements),
            "allocations": len(self.allocations),
            "breakdown_items": len(self.breakdown),
        }


def settlement_frames(
    creditor_id: str, answer: m.SettlementsResponse, fetched_at: datetime | None = None
) -> SettlementFrames:
    """Normalise one client's settlements answer into settlements, allocations and breakdown items."""
    fetched_at = fetched_at or _now()
    first_fetch = _utc(answer.created_at)
    settlements = answer.settlements
    allocations = [(s.settlement_id, a) for s in settlements for a in s.allocations]
    items = [(a.allocation_id, n, b) for _, a in allocations for n, b in enumerate(a.breakdown, start=1)]
    beneficiaries = [s.beneficiary or m.Beneficiary() for s in settlements]
    settlement_data = {
        "settlement_id": [s.settlement_id for s in settlements],
        "creditor_id": [creditor_id] * len(settlements),
        "settlement_date": [s.settlement_date for s in settlements],
        "agency": [s.agency for s in settlements],
        "remittance_reference": [s.remittance_reference for s in settlements],
        "beneficiary_name": [b.name for b in beneficiaries],
        "beneficiary_iban": [b.iban for b in beneficiaries],
        "beneficiary_bic": [b.bic for b in beneficiaries],
        "settlement_amount": [_money(s.settlement_amount) for s in settlements],
        "currency": [s.currency for s in settlements],
        "api_fetch_date": [_utc(s.api_fetch_date) or first_fetch for s in settlements],
        "fetched_at": [fetched_at] * len(settlements),
    }
    allocation_data = {
        "allocation_id": [a.allocation_id for _, a in allocations],
        "settlement_id": [sid for sid, _ in allocations],
        "allocated_total_amount": [_money(a.allocated_total_amount) for _, a in allocations],
        "allocation_date": [a.allocation_date for _, a in allocations],
        "currency": [a.currency for _, a in allocations],
        "case_id": [a.case_id for _, a in allocations],
        "original_invoice_number": [a.original_invoice_number for _, a in allocations],
        "original_payment_reference": [a.original_payment_reference for _, a in allocations],
    }
    breakdown_data = {
        "allocation_id": [aid for aid, _, _ in items],
        "line_no": [n for _, n, _ in items],
        "type": [b.type for _, _, b in items],
        "amount": [_money(b.amount) for _, _, b in items],
    }
    return SettlementFrames(
        _frame(SettlementModel, settlement_data),
        _frame(AllocationModel, allocation_data),
        _frame(BreakdownItemModel, breakdown_data),
    )


# --- distribution and cases -------------------------------------------------------------------------------


def distribution_frame(
    creditor_id: str, records: Sequence[m.DistributionRecord], fetched_at: datetime | None = None
) -> pd.DataFrame:
    fetched_at = fetched_at or _now()
    data = {
        "creditor_id": [creditor_id] * len(records),
        "invoice_number": [r.invoice_number for r in records],
        "invoice_date": [r.invoice_date for r in records],
        "distribution_method": [r.distribution_method for r in records],
        "distribution_status": [r.distribution_status for r in records],
        "distributed_at": [_utc(r.distributed_at) for r in records],
        "payment_control_status": [r.payment_control_status for r in records],
        "case_id": [r.case_id for r in records],
        "created_at": [_utc(r.created_at) for r in records],
        "fetched_at": [fetched_at] * len(records),
    }
    return _frame(DistributionModel, data)


@dataclass(frozen=True)
class FetchedCase:
    creditor_id: str
    invoice_number: int | None  # from the ledger, when the answer does not carry it
    details: m.CaseDetails


def cases_frame(cases: Sequence[FetchedCase], fetched_at: datetime | None = None) -> pd.DataFrame:
    fetched_at = fetched_at or _now()
    summaries = [c.details.summary for c in cases]
    balances = [c.details.balance for c in cases]
    data = {
        "case_id": [s.case_id for s in summaries],
        "creditor_id": [c.creditor_id for c in cases],
        "invoice_number": [
            s.invoice_number if s.invoice_number is not None else c.invoice_number
            for s, c in zip(summaries, cases, strict=True)
        ],
        "status": [s.status for s in summaries],
        "stage": [s.stage for s in summaries],
        "created_at": [_utc(s.created_at) for s in summaries],
        "closed_at": [s.closed_at for s in summaries],
        "active_days": [s.active_days for s in summaries],
        "creditor": [s.creditor for s in summaries],
        "currency": [s.currency for s in summaries],
        "agency": [s.agency for s in summaries],
        "capital_amount": [_money(b.capital_amount) for b in balances],
        "interest_amount": [_money(b.interest_amount) for b in balances],
        "costs_amount": [_money(b.costs_amount) for b in balances],
        "total_amount": [_money(b.total_amount) for b in balances],
        "fetched_at": [fetched_at] * len(cases),
        "due_date": [s.due_date for s in summaries],
        "paused": [s.paused for s in summaries],
    }
    return _frame(CaseModel, data)


# --- e-invoice (Finvoice) addresses ------------------------------------------------------------------------


def einvoice_addresses_frame(
    business_id: str, credentials: Sequence[m.FinvoiceCredential], fetched_at: datetime | None = None
) -> pd.DataFrame:
    """One row per e-invoice address of `business_id` (the answer is always an array, maybe empty)."""
    fetched_at = fetched_at or _now()
    data = {
        "business_id": [business_id] * len(credentials),
        "e_invoice_address": [c.e_invoice_address for c in credentials],
        "e_invoice_operator_id": [c.e_invoice_operator_id or "" for c in credentials],
        "e_invoice_address_name": [c.e_invoice_address_name for c in credentials],
        "e_invoice_address_type": [c.e_invoice_address_type for c in credentials],
        "e_invoice_operator_name": [c.e_invoice_operator_name for c in credentials],
        "last_modified": [_utc(c.last_modified) for c in credentials],
        "fetched_at": [fetched_at] * len(credentials),
    }
    return _frame(EInvoiceAddressModel, data)
