"""The fail-safe rule for reading a distribution look-up (push/recovery.py): "absent" only on an answer
that is positively understood; every other shape is "not understood", so the row is never resent."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from confirma_pipeline.push.recovery import Listing, NotUnderstood, interpret_listing

DAY = dt.date(2026, 2, 20)


def answer(records=(), *, key="distributions", total="auto", filters="auto", drop_meta=False) -> bytes:
    meta = {"successfulCount": 0, "failedCount": 0}
    if total == "auto":
        meta["totalCount"] = len(records)
    elif total is not None:
        meta["totalCount"] = total
    if filters == "auto":
        meta["filtersApplied"] = {
            "fromInvDate": "2026-02-19",
            "toInvDate": "2026-02-21",
            "defaultLast30Days": False,
        }
    elif filters is not None:
        meta["filtersApplied"] = filters
    body = {key: list(records)} if drop_meta else {"metaData": meta, key: list(records)}
    return json.dumps(body).encode()


def record(number, day="2026-02-20", case_id=None):
    return {"invoiceNumber": number, "invoiceDate": day, "caseId": case_id}


def test_understood_listing_reports_found_numbers_and_case_ids():
    result = interpret_listing(answer([record(7, case_id=99), record(8)]), DAY, known_submitted=[8])
    assert isinstance(result, Listing)
    assert result.numbers == {7: 99, 8: None}


def test_an_empty_understood_listing_means_absent():
    assert interpret_listing(answer([]), DAY) == Listing({})


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (answer([record(7)], key="items"), "no record list under 'distributions'"),
        (answer([], key="items"), "no record list"),
        (answer([record(7)], total=None), "totalCount missing"),
        (answer([], total=None), "totalCount missing"),
        (answer([], drop_meta=True), "totalCount missing"),
        (answer([record(7)], total=2), "totalCount 2 but 1"),
        (answer([record(7)], total="1"), "not an integer"),
        (answer([{"number": 7}], total=1), "without an integer invoiceNumber"),
        (answer([record("7")]), "without an integer invoiceNumber"),
        (answer([record(7, day="2025-12-01")]), "outside the window"),
        (answer([], filters=None), "filtersApplied missing"),
        (
            answer(
                [],
                filters={"fromInvDate": "2026-02-19", "toInvDate": "2026-02-21", "defaultLast30Days": True},
            ),
            "30-day default",
        ),
        (answer([], filters={"fromInvDate": "2026-02-21", "toInvDate": "2026-03-21"}), "does not cover"),
        (answer([], filters={}), "does not cover"),
    ],
)
def test_anything_not_positively_understood_is_not_absent(raw, reason):
    result = interpret_listing(raw, DAY)
    assert isinstance(result, NotUnderstood)
    assert reason in result.reason


def test_a_listing_missing_a_known_accepted_invoice_is_not_trusted():
    result = interpret_listing(answer([record(7)]), DAY, known_submitted=[7, 8])
    assert isinstance(result, NotUnderstood) and "known to be accepted" in result.reason
