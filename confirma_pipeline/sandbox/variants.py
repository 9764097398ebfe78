"""Contract variants: the sandbox answering the way the real API MIGHT, where api/contract.py only chose.

The standard sandbox implements every CHOSEN point of api/contract.py, so it can never show that a
choice is wrong. A variant switches one choice to a plausible alternative, so tests (and an operator,
with `confirma-pipeline sandbox --variant NAME` or `POST /_sandbox/variants {"variants": [...]}`) can
prove that the contract check names the difference and that recovery stays safe. Variants combine;
`POST /_sandbox/reset` switches them all off.

- records_key:        distribution records come under "records" instead of "distributions".
- no_total_count:     distribution answers carry no metaData.totalCount.
- cut_30_days:        distribution look-ups only see invoices dated in the last 30 days, whatever range
                      is asked for; filtersApplied echoes the range actually applied (defaultLast30Days
                      stays false: the cut is silent but for the echoed range).
- accepts_duplicates: create-invoice accepts a number the client already has (no 409): a resend is a
                      second acceptance, so a crash trial can count invoices accepted twice.
- unknown_field:      every JSON object a partner route answers with on success carries one more
                      top-level field, `apiRevision`, that api/models.py does not know: contract drift
                      on every endpoint at once, as a newer API release might bring.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from confirma_pipeline.api import contract as c

VARIANTS: dict[str, str] = {
    "records_key": "distribution records under 'records' instead of 'distributions'",
    "no_total_count": "distribution answers without metaData.totalCount",
    "cut_30_days": "distribution look-ups see only invoices dated in the last 30 days",
    "accepts_duplicates": "create-invoice accepts a number the client already has (no 409)",
    "unknown_field": "every JSON object answer carries a field the models do not know ('apiRevision')",
}
UNKNOWN_FIELD = "apiRevision"
# Variants where the contract check must report a contradiction (accepts_duplicates is invisible to GETs).
SHAPE_VARIANTS = ("records_key", "no_total_count", "cut_30_days")


def parse_variants(names) -> frozenset[str]:
    """A validated set of variant names (ValueError naming the unknown ones)."""
    chosen = frozenset(n.strip() for n in names if n and n.strip() and n.strip() != "standard")
    unknown = sorted(chosen - set(VARIANTS))
    if unknown:
        raise ValueError(f"unknown sandbox variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    return chosen


def distribution_range(
    variants: frozenset[str], today: date, start: date | None, end: date | None
) -> tuple[date | None, date | None]:
    """(start, end) of the range a distribution look-up really applies."""
    if "cut_30_days" not in variants:
        return start, end
    floor = today - timedelta(days=c.DEFAULT_WINDOW_DAYS)
    if start is None or start < floor:
        return floor, end if end is not None else today
    return start, end


def shape_distribution(variants: frozenset[str], body: dict[str, Any]) -> dict[str, Any]:
    """The distribution answer as the variant would send it."""
    if "no_total_count" in variants:
        body["metaData"].pop("totalCount", None)
    if "records_key" in variants:
        body["records"] = body.pop(c.DISTRIBUTION_RECORDS_KEY)
    return body


def with_unknown_field(content: bytes) -> bytes | None:
    """unknown_field: the answer with UNKNOWN_FIELD added, or None when it is not a JSON object (a bare
    array, as payments answer, has no place for it)."""
    try:
        body = json.loads(content)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    return json.dumps({**body, UNKNOWN_FIELD: "2026-11"}, separators=(",", ":")).encode()
