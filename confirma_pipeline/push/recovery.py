"""How an interrupted invoice is settled: the fail-safe rule for reading a distribution look-up.

An invoice left `in_flight` may or may not be at Confirma. Resending one that is there bills a buyer
twice, so "absent" needs positive evidence, and everything else leaves the row `in_flight` (counted
unknown, failing the `invoices_stuck` check with the reason below) for a later look-up or an operator.

The look-up asks for the client's distribution records of a window around the invoice's date
(`fromInvDate`/`toInvDate`, `RECOVERY_MARGIN_DAYS` either side; one request per client and date).
The answer is read from its raw JSON (model defaults would turn a missing field into an empty list
or a zero count) and counts as understood only when ALL of these hold:

1. it is a JSON object with the records as a list under `distributions` (CHOSEN key);
2. `metaData.totalCount` is an integer equal to the number of records (no paging, no truncation);
3. every record is an object with an integer `invoiceNumber` (and, when given, an `invoiceDate`
   inside the window asked for);
4. `metaData.filtersApplied` echoes a date range covering the invoice's date and does not say the
   30-day default was applied instead (the docs say an omitted range means the last 30 days);
5. every invoice of that client the ledger already holds as submitted with a date in the window is
   among the records (a listing that misses a known accepted invoice is not trusted: it catches a
   silent date cut, or records that appear only after distribution).

Understood and listing the number -> `submitted` (not resent). Understood and not listing it -> `pending`
(resent). Not understood, an error, a missing token or date, or a source changed since the send -> stays
`in_flight` with the reason. The rule is listed in `api/contract.py` (CHOSEN recovery rule).

Pure functions only: the push (push/invoice_recovery.py) asks, this module decides.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from confirma_pipeline.api import contract as c

RECOVERY_MARGIN_DAYS = 1  # CHOSEN: the window asked for is [date - 1, date + 1]


@dataclass(frozen=True)
class Listing:
    """An understood answer: the invoice numbers listed (and their case ids, when given)."""

    numbers: dict[int, int | None]


@dataclass(frozen=True)
class NotUnderstood:
    reason: str


def window(invoice_date: dt.date) -> tuple[dt.date, dt.date]:
    margin = dt.timedelta(days=RECOVERY_MARGIN_DAYS)
    return invoice_date - margin, invoice_date + margin


def _date(value) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def interpret_listing(
    raw: bytes, invoice_date: dt.date, known_submitted: Iterable[int] = ()
) -> Listing | NotUnderstood:
    """Read one distribution answer for the window around `invoice_date` under the rule above."""
    start, end = window(invoice_date)
    try:
        data = json.loads(raw)
    except ValueError:
        return NotUnderstood("distribution answer is not JSON")
    if not isinstance(data, dict):
        return NotUnderstood("distribution answer is not a JSON object")
    records = data.get(c.DISTRIBUTION_RECORDS_KEY)
    if not isinstance(records, list):
        keys = ", ".join(sorted(k for k in data if isinstance(k, str)))[:200]
        return NotUnderstood(f"no record list under '{c.DISTRIBUTION_RECORDS_KEY}' (keys: {keys})")
    meta = data.get("metaData")
    total = meta.get("totalCount") if isinstance(meta, dict) else None
    if not isinstance(total, int) or isinstance(total, bool):
        return NotUnderstood("metaData.totalCount missing or not an integer")
    if total != len(records):
        return NotUnderstood(f"totalCount {total} but {len(records)} record(s) listed")
    numbers: dict[int, int | None] = {}
    for record in records:
        number = record.get("invoiceNumber") if isinstance(record, dict) else None
        if not isinstance(number, int) or isinstance(number, bool):
            return NotUnderstood("a record without an integer invoiceNumber")
        if "invoiceDate" in record:
            day = _date(record["invoiceDate"])
            if day is None or not start <= day <= end:
                return NotUnderstood("a record dated outside the window asked for")
        case_id = record.get("caseId")
        numbers[number] = case_id if isinstance(case_id, int) and not isinstance(case_id, bool) else None
    filters = meta.get("filtersApplied")
    if not isinstance(filters, dict):
        return NotUnderstood("metaData.filtersApplied missing: the date range applied is unknown")
    applied_from, applied_to = _date(filters.get(c.Q_FROM_INV_DATE)), _date(filters.get(c.Q_TO_INV_DATE))
    if filters.get("defaultLast30Days") is True or filters.get("defaultLast30Day") is True:
        return NotUnderstood("the answer applied the 30-day default instead of the date range asked for")
    if applied_from is None or applied_to is None or not applied_from <= invoice_date <= applied_to:
        return NotUnderstood("the date range applied does not cover the invoice's date")
    missing = [n for n in known_submitted if n not in numbers]
    if missing:
        return NotUnderstood(
            f"{len(missing)} invoice(s) known to be accepted in this window are not listed (e.g. {missing[0]})"
        )
    return Listing(numbers)
