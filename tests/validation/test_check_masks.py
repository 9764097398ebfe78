"""The fast validation path gives exactly what the slow one gave: the models' checks run as masks
(`check_masks`) reject the same rows with the same reasons as pandera's `validate(lazy=True)`, and each
vectorised shortcut equals the per-value rule it replaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from confirma_pipeline.validation import (
    CreditorModel,
    InvoiceModel,
    InvoiceRowModel,
    check_masks,
    identifiers,
    reason_texts,
    reasons,
)
from confirma_pipeline.validation.corpus import build_corpus
from confirma_pipeline.validation.row_hashes import content_hash, float_reprs, row_hashes
from confirma_pipeline.validation.samples import sample_invoices


def _through_pandera(monkeypatch) -> None:
    def unsupported(schema, frame):
        raise check_masks.Unsupported("forced")

    monkeypatch.setattr(reasons, "failed_checks", unsupported)


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(checks=frame["checks"].map(tuple)).reset_index(drop=True)


@pytest.mark.parametrize("nullable", [True, False])
def test_masks_reject_the_same_rows_with_the_same_reasons_as_pandera(monkeypatch, nullable):
    corpus = build_corpus(nullable=nullable)
    cases = [
        (InvoiceModel, corpus.invoices, ["invoice_id"]),
        (InvoiceRowModel, corpus.rows, ["invoice_id", "row_number"]),
        (CreditorModel, corpus.creditors, ["creditor_id"]),
    ]
    fast = [reasons.validate_with_reasons(m, df, keys) for m, df, keys in cases]
    fast_invoices = reasons.validate_invoices(corpus.invoices, corpus.rows)
    _through_pandera(monkeypatch)
    slow = [reasons.validate_with_reasons(m, df, keys) for m, df, keys in cases]
    slow_invoices = reasons.validate_invoices(corpus.invoices, corpus.rows)
    for f, s in zip(fast, slow, strict=True):
        assert len(s.rejected_df) > 0
        pd.testing.assert_frame_equal(_comparable(f.rejected_df), _comparable(s.rejected_df))
        assert f.valid_df.index.equals(s.valid_df.index)
        assert f.failure_cases == s.failure_cases
    pd.testing.assert_frame_equal(
        _comparable(fast_invoices.rejected_df), _comparable(slow_invoices.rejected_df)
    )
    assert fast_invoices.valid_rows.index.equals(slow_invoices.valid_rows.index)


def test_masks_and_pandera_agree_on_many_faults_in_unsorted_rows(monkeypatch):
    _, rows = sample_invoices(3000, 4)
    rng = np.random.default_rng(4)
    bad = rows.copy()
    pick = rng.choice(len(bad), 1200, replace=False)
    parts = np.array_split(pick, 6)
    bad.loc[parts[0], "net_amount"] += 0.001
    bad.loc[parts[1], "vat_percentage"] = 150.0
    bad.loc[parts[2], "name"] = "  "
    bad.loc[parts[3], "row_number"] = 1
    bad.loc[parts[4], "unit_price"] = np.nan
    bad.loc[parts[5], "quantity"] *= -1.5
    bad = bad.sample(frac=1, random_state=2)
    keys = ["invoice_id", "row_number"]
    fast = reasons.validate_with_reasons(InvoiceRowModel, bad, keys)
    _through_pandera(monkeypatch)
    slow = reasons.validate_with_reasons(InvoiceRowModel, bad, keys)
    assert len(slow.rejected_df) >= 1000
    pd.testing.assert_frame_equal(_comparable(fast.rejected_df), _comparable(slow.rejected_df))
    assert fast.valid_df.index.equals(slow.valid_df.index)


def test_is_blank_is_strip_then_empty_for_every_code_point():
    points = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    values = (
        points + [c * 3 for c in points] + ["a" + c for c in points] + [c + "a" for c in points] + ["", None]
    )
    s = pd.Series(values, dtype="str")
    expected = ~(s.str.strip().str.len() > 0).to_numpy()
    assert (identifiers.is_blank(s).to_numpy() == expected).all()


def _sample_floats() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.concatenate(
        [
            rng.integers(-(10**11), 10**11, 200_000) / 100.0,
            rng.integers(-(10**12), 10**12, 100_000) / 10_000.0,
            rng.uniform(-1e9, 1e9, 100_000),
            rng.standard_normal(100_000) * 10.0 ** rng.integers(-30, 30, 100_000),
            rng.integers(0, 2**63, 100_000, dtype=np.uint64).view(np.float64),
            [
                0.0,
                -0.0,
                1e-4,
                9.999999999999999e-05,
                1e9,
                999999999.9999999,
                1e15,
                1e16,
                2.0**53,
                np.inf,
                -np.inf,
            ],
        ]
    )


def test_float_reprs_equal_python_repr():
    x = _sample_floats()
    assert float_reprs(x).to_pylist() == [repr(v) for v in x.tolist()]


def test_row_hashes_of_floats_equal_the_hash_of_each_row():
    """The canonical text of floats built in Arrow pieces (money-like values as integers, the rest as
    repr) hashes like `content_hash` of the row, value by value."""
    x = np.random.default_rng(3).permutation(_sample_floats())[:40_000]
    with np.errstate(all="ignore"):
        frame = pd.DataFrame({"x": x, "y": np.round(x, 2), "z": np.where(x > 0, np.nan, x), "w": np.nan})
    expected = [content_hash(row) for row in frame.to_dict("records")]
    assert row_hashes(frame).tolist() == expected


def test_has_max_decimals_equals_the_tolerance_rule():
    x = np.concatenate(
        [_sample_floats(), np.array([0.1, 0.2, 0.3, 1.005, 12.345, 0.1 + 0.2, 1e13 + 0.01, np.nan])]
    )
    for decimals in (2, 4):
        with np.errstate(invalid="ignore", over="ignore"):
            scaled = x * 10.0**decimals
            rule = np.abs(scaled - np.round(scaled)) <= 1e-6 + 8 * np.spacing(np.abs(scaled))
        expected = rule & np.isfinite(x)
        assert (identifiers.has_max_decimals(pd.Series(x), decimals).to_numpy() == expected).all()


@pytest.mark.parametrize("shuffle", [False, True])
def test_duplicated_equals_pandas(shuffle):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "invoice_id": pd.Series(np.char.add("I", rng.integers(0, 500, 5000).astype(str)), dtype="str"),
            "row_number": rng.integers(1, 12, 5000),
            "code": pd.Series(rng.choice(["a", "b", None], 5000), dtype="str"),
        }
    ).sort_values(["invoice_id", "row_number"], ignore_index=True)
    if shuffle:
        frame = frame.sample(frac=1, random_state=3, ignore_index=True)
    for columns in (["invoice_id", "row_number"], ["code", "row_number"], ["invoice_id"]):
        for keep in (False, "first", "last"):
            expected = frame.duplicated(columns, keep=keep).to_numpy()
            assert (check_masks.duplicated(frame, columns, keep) == expected).all()
    unique = frame.drop_duplicates(["invoice_id", "row_number"], ignore_index=True)
    assert not check_masks.duplicated(unique, ["invoice_id", "row_number"]).any()


def test_expected_row_amounts_in_reasons_equal_the_decimal_rule():
    rng = np.random.default_rng(0)
    n = 60_000
    q = np.concatenate(
        [rng.integers(1, 20, n) * 0.5, rng.integers(-2000, 2000, n) / 100, rng.uniform(-1e4, 1e4, n)]
    )
    m = len(q)
    p = np.concatenate([rng.integers(-(10**6), 10**6, m // 2) / 100, rng.uniform(-1e5, 1e5, m - m // 2)])
    v = rng.choice([25.5, 24.0, 14.0, 10.0, 0.0, -0.0, 13.5, 100.0, -100.0, 150.0, 0.001, np.nan], m)
    d = rng.choice([np.nan, np.nan, 0.0, 10.0, 12.5, 99.99, 100.0, -5.0], m)
    q[rng.choice(m, 300)] = np.nan
    q[rng.choice(m, 30)] = np.inf
    q[rng.choice(m, 100)] = -0.0
    p[rng.choice(m, 30)] = 1e12
    frame = pd.DataFrame({"quantity": q, "unit_price": p, "vat_percentage": v, "discount_percentage": d})
    fast = reasons._explain_row_amounts(frame, np.arange(m)).to_pylist()
    slow = [
        reasons._explain_one(*args)
        for args in zip(q, p, v, frame["discount_percentage"].tolist(), strict=True)
    ]
    assert fast == slow


def test_arrow_text_is_what_the_checks_read():
    """The checks take the Arrow array behind the contract's `str` dtype without copying it."""
    s = pd.Series(["a", None, " "], dtype="str")
    assert isinstance(pa.array(s), pa.Array | pa.ChunkedArray)
    assert identifiers.is_blank(s).tolist() == [False, True, True]


@pytest.mark.parametrize("nullable", [True, False])
def test_a_failing_value_after_leading_nulls_is_blamed_on_its_own_row(monkeypatch, nullable):
    """A column's checks run on its non-null values; when the NULLs come first, those values' labels start
    later than 0 (a RangeIndex from 1, say) and must not be read as positions: the row with the bad value
    is rejected for it, the NULL row only for being NULL (a bad invoice action was once sent this way)."""
    import pandera.pandas as pa_

    schema = pa_.DataFrameSchema(
        {
            "key": pa_.Column(str),
            "amount": pa_.Column(float, pa_.Check.gt(0), nullable=nullable),
        },
        name="thing",
    )
    frame = pd.DataFrame(
        {
            "key": pd.Series(["null-1", "null-2", "bad", "good"], dtype="str"),
            "amount": [np.nan, np.nan, -5.0, 3.0],
        }
    )
    fast = reasons.validate_with_reasons(schema, frame, ["key"])
    blamed = dict(zip(fast.rejected_df["entity_key"], fast.rejected_df["reason"], strict=True))
    assert "greater_than" in blamed["bad"]
    assert all("greater_than" not in blamed.get(k, "") for k in ("null-1", "null-2"))
    assert fast.valid_df["key"].tolist() == (["null-1", "null-2", "good"] if nullable else ["good"])
    _through_pandera(monkeypatch)
    slow = reasons.validate_with_reasons(schema, frame, ["key"])
    pd.testing.assert_frame_equal(_comparable(fast.rejected_df), _comparable(slow.rejected_df))


def test_value_texts_equal_format_value_value_by_value():
    """A column's reason texts (Arrow kernels) read exactly as `format_value` of each value."""
    floats = np.random.default_rng(5).permutation(_sample_floats())[:60_000]
    with np.errstate(all="ignore"):
        rounded = np.round(floats, 2)
    text = [
        "plain",
        "it's",
        "'",
        "",
        " ",
        "😀" * 90,
        "e\u0301" * 50,
        "\u05e9\u05dc\u05d5\u05dd",
        "x" * 80,
        "x" * 81,
    ]
    columns = [
        pd.Series(np.concatenate([floats, [np.nan, -0.0, 0.5, -0.5]])),
        pd.Series(rounded),
        pd.Series([0, -1, 2**62, -(2**63)], dtype="int64"),
        pd.Series([True, False]),
        pd.Series([*text, None], dtype="str"),
        pd.Series([*text, None], dtype=pd.StringDtype("python")),
        pd.Series([1, None, 3], dtype="Int64"),
        pd.Series(pd.to_datetime(["2024-01-31", None, "2024-02-01 10:30"], format="mixed")),
    ]
    for values in columns:
        with np.errstate(all="ignore"):
            expected = [reason_texts.format_value(v) for v in values.tolist()]
        assert reason_texts.value_texts(values).to_pylist() == expected, values.dtype


def _per_row_one_by_one(groups):
    """The rule `per_row` implements, row by row (what it replaced)."""
    entries: dict[int, tuple[list[str], list[str]]] = {}
    for positions, name, fragments in groups:
        for position, fragment in zip(positions.tolist(), fragments.to_pylist(), strict=True):
            checks, texts = entries.setdefault(position, ([], []))
            if name not in checks:
                checks.append(name)
            if fragment not in texts:
                texts.append(fragment)
    rows = sorted(entries)
    return rows, [entries[r][0] for r in rows], ["; ".join(entries[r][1]) for r in rows]


def test_per_row_joins_each_rows_own_fragments_in_check_order_each_once():
    rng = np.random.default_rng(7)
    groups = []
    for name in ["a", "b", "a", "c", "b", "d"]:
        positions = np.sort(rng.choice(500, rng.integers(1, 300), replace=False))
        fragments = [f"{name} {rng.integers(0, 3)} at {p % 7}" for p in positions.tolist()]
        groups.append((positions, name, pa.array(fragments)))
    groups.append((np.array([], dtype=np.intp), "e", pa.array([], pa.string())))
    rejected, checks, joined, failures = reason_texts.per_row(groups)
    rows, expected_checks, expected_reasons = _per_row_one_by_one(groups)
    assert rejected.tolist() == rows
    assert checks == expected_checks
    assert joined.to_pylist() == expected_reasons
    assert failures == sum(len(g[0]) for g in groups)
    assert len({id(c) for c in checks}) == len(checks)  # each row's list is its own
