"""COPY-based bulk writes (confirma_pipeline.warehouse.bulk) against a real embedded PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import psycopg
import pytest

from confirma_pipeline.warehouse import bulk, copy_format
from confirma_pipeline.warehouse.bulk import (
    ReplaceResult,
    UpsertResult,
    copy_frame,
    replace_window,
    stream_query_frames,
    upsert_frame,
)

PAYMENTS = "confirma.payments"
KEYS = ["creditor_id", "payment_key"]
T0 = pd.Timestamp("2025-01-01 08:00", tz="UTC")


@pytest.fixture
def conn(warehouse_dsn):
    with psycopg.connect(warehouse_dsn) as connection:
        # Not UTC, so a timestamp written without an offset under the session time zone would show.
        connection.execute("SET TimeZone = 'Europe/Helsinki'")
        connection.execute(
            "INSERT INTO confirma.clients (creditor_id, state) VALUES ('CRED-A', 'created'), ('CRED-B', 'created')"
        )
        connection.commit()
        yield connection


def payments(
    n: int, creditor: str = "CRED-A", *, start: int = 0, first_day: str | None = None
) -> pd.DataFrame:
    """n payment rows with keys k<start>..k<start+n-1>; row i is paid on 2025-03-01 + i days
    (or on consecutive days from first_day). Every value is a function of the key."""
    idx = np.arange(start, start + n)
    if first_day is None:
        days = pd.Timestamp("2025-03-01") + pd.to_timedelta(idx, unit="D")
    else:
        days = pd.date_range(first_day, periods=n, freq="D")
    return pd.DataFrame(
        {
            "creditor_id": pd.Series([creditor] * n, dtype="str"),
            "payment_key": pd.Series([f"k{i:05d}" for i in idx], dtype="str"),
            "payment_day": days,
            "case_id": pd.array(1_000_000_000_000 + idx, dtype="Int64"),
            "invoice_number": pd.Series([str(10_000 + i) for i in idx], dtype="str"),
            "account_name": pd.Series([f"Maksaja Öy {i}, Ab" for i in idx], dtype="str"),
            "booking_date": pd.Timestamp("2025-03-01 10:15:30.123456", tz="UTC")
            + pd.to_timedelta(idx, unit="h"),
            "amount": np.round(10 + idx * 1.37, 2),
            "currency": pd.Series(["EUR"] * n, dtype="str"),
            "fetched_at": pd.Series([T0] * n),
        }
    )


def table_rows(conn, table: str = PAYMENTS, where: str = "TRUE") -> list[tuple]:
    return conn.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY creditor_id, payment_key").fetchall()


def row_versions(conn, where: str = "TRUE") -> list[tuple]:
    """(key, xmin, xmax) per row: xmin changes whenever a row is rewritten, even with equal values;
    xmax whenever it is locked (as ON CONFLICT DO UPDATE does to every conflicting row it sees)."""
    return conn.execute(
        f"SELECT payment_key, xmin::text, xmax::text FROM {PAYMENTS} WHERE {where} ORDER BY creditor_id, payment_key"
    ).fetchall()


# --------------------------------------------------------------------------- upsert_frame


def test_upsert_into_empty_table_then_identical_rerun_changes_nothing(conn):
    df = payments(50)
    assert upsert_frame(conn, df, PAYMENTS, KEYS) == UpsertResult(50, 50, 0, 0)
    conn.commit()
    before, versions = table_rows(conn), row_versions(conn)
    assert len(before) == 50

    assert upsert_frame(conn, df, PAYMENTS, KEYS) == UpsertResult(50, 0, 0, 50)
    conn.commit()
    assert table_rows(conn) == before
    assert row_versions(conn) == versions  # no row was rewritten or even locked


def test_only_the_changed_row_is_updated_and_fetched_at_alone_is_no_change(conn):
    upsert_frame(conn, payments(20), PAYMENTS, KEYS)
    conn.commit()
    versions = {key: rest for key, *rest in row_versions(conn)}

    later = T0 + pd.Timedelta(days=1)
    df = payments(21)  # one new key (k00020)
    df["fetched_at"] = later  # a newer fetch of every row: not a change on its own
    df.loc[5, "amount"] = 999.99
    df.loc[7, "account_name"] = None  # a value becoming NULL is a change
    result = upsert_frame(conn, df, PAYMENTS, KEYS)
    conn.commit()
    assert result == UpsertResult(rows_in=21, inserted=1, updated=2, unchanged=18)

    rows = {
        r[0]: r[1:]
        for r in conn.execute(f"SELECT payment_key, amount, account_name, fetched_at FROM {PAYMENTS}")
    }
    assert rows["k00005"][0] == Decimal("999.99")
    assert rows["k00007"][1] is None
    assert {k for k, v in rows.items() if v[2] == later} == {"k00005", "k00007", "k00020"}
    assert {k for k, v in rows.items() if v[2] == T0} == {f"k{i:05d}" for i in range(20)} - {
        "k00005",
        "k00007",
    }
    new_versions = {key: rest for key, *rest in row_versions(conn)}
    rewritten = {k for k in versions if versions[k] != new_versions[k]}
    assert rewritten == {"k00005", "k00007"}


def test_update_columns_limit_what_is_compared_and_set(conn):
    upsert_frame(conn, payments(3), PAYMENTS, KEYS)
    df = payments(3)
    df["amount"] = 1.0
    df["currency"] = "SEK"
    assert upsert_frame(conn, df, PAYMENTS, KEYS, update_columns=["currency"]) == UpsertResult(3, 0, 3, 0)
    got = conn.execute(f"SELECT DISTINCT amount = 1.0, currency FROM {PAYMENTS}").fetchall()
    assert got == [(False, "SEK")]


def test_null_empty_string_and_awkward_text_round_trip_exactly(conn):
    texts = [
        None,
        "",
        "plain",
        "comma, inside",
        "double \"quotes\" and 'single'",
        "new\nline and\r\nCRLF",
        "ä ö å € Ä Ö – 😀",
        "NULL",
        "\\N",
        "back\\slash",
        "  padded  ",
        '"',
        ",",
    ]
    n = len(texts)
    df = payments(n)
    df["account_name"] = pd.Series(texts, dtype="str")  # pandas 3 arrow-backed strings
    df["invoice_number"] = pd.Series(texts, dtype=object)  # object strings
    df["original_payment_reference"] = pd.Series([None] * n, dtype=object)  # all-null object column
    df["invoice_payment_reference"] = pd.Series([""] * n, dtype="str")  # all empty strings
    df["amount"] = np.nan  # all-null float column

    assert upsert_frame(conn, df, PAYMENTS, KEYS).inserted == n
    got = conn.execute(
        f"SELECT account_name, invoice_number, original_payment_reference, invoice_payment_reference, amount "
        f"FROM {PAYMENTS} ORDER BY payment_key"
    ).fetchall()
    assert [r[0] for r in got] == texts
    assert [r[1] for r in got] == texts
    assert all(r[2] is None for r in got)
    assert all(r[3] == "" for r in got)
    assert all(r[4] is None for r in got)
    # Same text again is no change (NULL vs '' compare correctly).
    assert upsert_frame(conn, df, PAYMENTS, KEYS).unchanged == n


def test_money_bigint_dates_and_timestamps_round_trip_exactly(conn):
    df = payments(5)
    df["amount"] = [0.01, 12_345_678.99, -5.10, 0.1 + 0.2, 99_999_999_999.99]
    df["case_id"] = pd.array([2**40, None, 2**62 + 1, -1, 0], dtype="Int64")
    df["payment_day"] = pd.to_datetime(["1999-12-31", "2024-02-29", "2025-01-01", "2038-01-20", "2100-06-30"])
    df["booking_date"] = pd.to_datetime(
        ["2025-03-30 05:30:00.123456", "2025-01-15 03:30", None, "2024-02-29 23:59:59.999999", "2000-01-01"],
        format="ISO8601",
    ).tz_localize("Europe/Helsinki")
    df["payment_date"] = pd.to_datetime(["2025-01-01 12:00"] * 5)  # naive: taken as UTC
    upsert_frame(conn, df, PAYMENTS, KEYS)

    got = conn.execute(
        f"SELECT amount, case_id, payment_day, booking_date, payment_date FROM {PAYMENTS} ORDER BY payment_key"
    ).fetchall()
    assert [r[0] for r in got] == [
        Decimal(v) for v in ["0.01", "12345678.99", "-5.10", "0.30", "99999999999.99"]
    ]
    assert [r[1] for r in got] == [2**40, None, 2**62 + 1, -1, 0]
    assert [r[2] for r in got] == [
        dt.date(1999, 12, 31),
        dt.date(2024, 2, 29),
        dt.date(2025, 1, 1),
        dt.date(2038, 1, 20),
        dt.date(2100, 6, 30),
    ]
    expected_booking = [None if pd.isna(v) else v.to_pydatetime() for v in df["booking_date"]]
    assert [r[3] for r in got] == expected_booking
    assert got[0][3].astimezone(dt.timezone.utc) == dt.datetime(
        2025, 3, 30, 2, 30, 0, 123456, tzinfo=dt.timezone.utc
    )
    assert {r[4] for r in got} == {dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.timezone.utc)}
    assert upsert_frame(conn, df, PAYMENTS, KEYS).unchanged == 5


def test_object_columns_decimal_and_date_values(conn):
    df = payments(3)
    df["amount"] = pd.Series([Decimal("1.10"), None, Decimal("-123456789012.34")], dtype=object)
    df["payment_day"] = pd.Series(
        [dt.date(2025, 1, 2), dt.date(2025, 1, 3), dt.date(2025, 1, 4)], dtype=object
    )
    df["case_id"] = [1.0, np.nan, 3.0]  # ints that pandas turned into floats
    upsert_frame(conn, df, PAYMENTS, KEYS)
    got = conn.execute(f"SELECT amount, payment_day, case_id FROM {PAYMENTS} ORDER BY payment_key").fetchall()
    assert got == [
        (Decimal("1.10"), dt.date(2025, 1, 2), 1),
        (None, dt.date(2025, 1, 3), None),
        (Decimal("-123456789012.34"), dt.date(2025, 1, 4), 3),
    ]


def test_bad_frames_raise_and_write_nothing(conn):
    upsert_frame(conn, payments(3), PAYMENTS, KEYS)
    conn.commit()
    before = table_rows(conn)

    with_time = payments(3)
    with_time["payment_day"] = pd.to_datetime(
        ["2025-01-01", "2025-01-02 13:00", "2025-01-03"], format="ISO8601"
    )
    with pytest.raises(ValueError, match="time of day"):
        upsert_frame(conn, with_time, PAYMENTS, KEYS)
    duplicated = pd.concat([payments(3), payments(1)], ignore_index=True)
    with pytest.raises(ValueError, match="duplicate keys"):
        upsert_frame(conn, duplicated, PAYMENTS, KEYS)
    with pytest.raises(ValueError, match="not in confirma.payments: nope"):
        upsert_frame(conn, payments(1).assign(nope=1), PAYMENTS, KEYS)
    with pytest.raises(ValueError, match="key columns missing"):
        upsert_frame(conn, payments(1).drop(columns="payment_key"), PAYMENTS, KEYS)
    conn.rollback()
    assert table_rows(conn) == before


def test_upsert_nests_as_a_savepoint_in_the_callers_transaction(conn):
    with conn.transaction():
        assert upsert_frame(conn, payments(4), PAYMENTS, KEYS).inserted == 4
        bad = payments(2, creditor="CRED-NOT-A-CLIENT", start=100)
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            upsert_frame(conn, bad, PAYMENTS, KEYS)
        # The failed upsert rolled back only its savepoint: the transaction is still usable.
        assert conn.execute(f"SELECT count(*) FROM {PAYMENTS}").fetchone()[0] == 4
    assert conn.execute(f"SELECT count(*) FROM {PAYMENTS}").fetchone()[0] == 4

    with pytest.raises(RuntimeError), conn.transaction():
        upsert_frame(conn, payments(3, start=50), PAYMENTS, KEYS)
        raise RuntimeError("caller fails after the upsert")
    assert conn.execute(f"SELECT count(*) FROM {PAYMENTS}").fetchone()[0] == 4


# --------------------------------------------------------------------------- replace_window

WINDOW = {"scope_column": "creditor_id", "date_column": "payment_day"}


def seed_two_creditors(conn) -> None:
    upsert_frame(conn, payments(10, "CRED-A"), PAYMENTS, KEYS)
    upsert_frame(conn, payments(10, "CRED-B"), PAYMENTS, KEYS)
    conn.commit()


def window_frame() -> pd.DataFrame:
    """New content for CRED-A, 2025-03-03..2025-03-06 (seeded keys k00002..k00005)."""
    df = payments(4, "CRED-A", start=2)  # k00002..k00005, 2025-03-03..2025-03-06
    df = df[df["payment_key"] != "k00004"]  # k00004 disappeared
    df.loc[df["payment_key"] == "k00003", "amount"] = 0.5  # k00003 changed
    new = payments(1, "CRED-A", start=900, first_day="2025-03-06")  # a new payment
    return pd.concat([df, new], ignore_index=True)


OUTSIDE = "NOT (creditor_id = 'CRED-A' AND payment_day BETWEEN '2025-03-03' AND '2025-03-06')"
INSIDE = f"NOT ({OUTSIDE})"


@pytest.mark.parametrize("strategy", ["merge", "delete_insert"])
def test_replace_window_replaces_inside_keeps_outside_and_reruns_identically(conn, strategy):
    seed_two_creditors(conn)
    outside_rows, outside_versions = table_rows(conn, where=OUTSIDE), row_versions(conn, OUTSIDE)
    assert len(outside_rows) == 16
    df = window_frame()
    args = dict(
        WINDOW, scopes=["CRED-A"], date_from=dt.date(2025, 3, 3), date_to="2025-03-06", strategy=strategy
    )

    result = replace_window(conn, df, PAYMENTS, **args)
    conn.commit()
    if strategy == "merge":
        assert result == ReplaceResult(rows_in=4, deleted=1, inserted=1, updated=1, unchanged=2)
    else:
        assert result == ReplaceResult(rows_in=4, deleted=4, inserted=4)
    assert table_rows(conn, where=OUTSIDE) == outside_rows
    assert row_versions(conn, OUTSIDE) == outside_versions  # not even rewritten
    inside = conn.execute(f"SELECT payment_key, amount FROM {PAYMENTS} WHERE {INSIDE} ORDER BY payment_key")
    assert inside.fetchall() == [
        ("k00002", Decimal("12.74")),
        ("k00003", Decimal("0.50")),
        ("k00005", Decimal("16.85")),
        ("k00900", Decimal("1243.00")),
    ]

    after_first = table_rows(conn)
    rerun = replace_window(conn, df, PAYMENTS, **args)
    conn.commit()
    assert table_rows(conn) == after_first
    if strategy == "merge":
        assert rerun == ReplaceResult(rows_in=4, deleted=0, inserted=0, updated=0, unchanged=4)
    else:
        assert rerun == ReplaceResult(rows_in=4, deleted=4, inserted=4)


def test_replace_window_with_an_empty_frame_empties_the_window(conn):
    seed_two_creditors(conn)
    scopes = pd.Series(["CRED-B", "CRED-B"]).unique()  # numpy/arrow values, as callers will pass them
    result = replace_window(conn, pd.DataFrame(), PAYMENTS, scope_column="creditor_id", scopes=scopes)
    assert result == ReplaceResult(0, 10, 0)
    assert conn.execute(f"SELECT DISTINCT creditor_id FROM {PAYMENTS}").fetchall() == [("CRED-A",)]


@pytest.mark.parametrize("strategy", ["merge", "delete_insert"])
def test_replace_window_rolls_back_entirely_when_the_insert_fails(conn, warehouse_dsn, strategy):
    seed_two_creditors(conn)
    before = table_rows(conn)
    df = pd.concat(
        [window_frame(), payments(1, "CRED-X", start=7, first_day="2025-03-04")], ignore_index=True
    )
    # Autocommit: nothing but replace_window's own transaction could undo its delete.
    with (
        psycopg.connect(warehouse_dsn, autocommit=True) as other,
        pytest.raises(psycopg.errors.ForeignKeyViolation),
    ):
        replace_window(
            other,
            df,
            PAYMENTS,
            **WINDOW,
            scopes=["CRED-A", "CRED-X"],
            date_from="2025-03-03",
            date_to="2025-03-06",
            strategy=strategy,
        )
    assert table_rows(conn) == before  # nothing deleted, nothing written


def test_replace_window_refuses_rows_outside_the_window(conn):
    seed_two_creditors(conn)
    before = table_rows(conn)
    df = window_frame()
    with pytest.raises(ValueError, match="2 of 4 rows of the frame lie outside"):
        replace_window(
            conn, df, PAYMENTS, **WINDOW, scopes=["CRED-A"], date_from="2025-03-03", date_to="2025-03-05"
        )
    conn.rollback()
    assert table_rows(conn) == before


def _no_stage(monkeypatch) -> None:
    def staged(*args, **kwargs):
        raise AssertionError("a first load into an empty window needs no stage")

    monkeypatch.setattr(bulk, "_load_stage", staged)


def test_replace_window_copies_a_first_load_straight_into_the_empty_window(conn, monkeypatch):
    seed_two_creditors(conn)
    before = table_rows(conn)
    _no_stage(monkeypatch)
    df = payments(3, "CRED-A", start=500, first_day="2025-06-01")
    args = dict(WINDOW, scopes=["CRED-A"], date_from=dt.date(2025, 6, 1), date_to="2025-06-30")

    assert replace_window(conn, df, PAYMENTS, **args) == ReplaceResult(rows_in=3, deleted=0, inserted=3)
    conn.commit()
    assert table_rows(conn, where="payment_day < '2025-06-01'") == before  # the rest untouched
    assert [r[1] for r in table_rows(conn, where="payment_day >= '2025-06-01'")] == [
        "k00500",
        "k00501",
        "k00502",
    ]

    monkeypatch.undo()  # the window now holds rows: the re-pull compares, and writes nothing
    versions = row_versions(conn)
    assert replace_window(conn, df, PAYMENTS, **args) == ReplaceResult(3, 0, 0, 0, 3)
    assert row_versions(conn) == versions


def test_replace_window_into_an_empty_window_still_refuses_rows_outside_it(conn, monkeypatch):
    _no_stage(monkeypatch)
    df = payments(4, "CRED-A", first_day="2025-06-29")  # 06-29 .. 07-02
    df.loc[0, "creditor_id"] = "CRED-B"  # another scope (and 07-01, 07-02 are outside)
    with pytest.raises(ValueError, match="3 of 4 rows of the frame lie outside"):
        replace_window(
            conn, df, PAYMENTS, **WINDOW, scopes=["CRED-A"], date_from="2025-06-01", date_to="2025-06-30"
        )
    conn.rollback()
    assert table_rows(conn) == []


def test_replace_window_into_an_empty_window_moves_a_key_stored_outside_it(conn):
    """A key of the frame already stored outside the (empty) window: the direct COPY would violate the primary
    key, so its savepoint is rolled back and the merge moves the row into the window, as before."""
    seed_two_creditors(conn)  # CRED-A k00000..k00009 on 2025-03-01..03-10
    moved = payments(1, "CRED-A", start=9, first_day="2025-06-02")
    args = dict(WINDOW, scopes=["CRED-A"], date_from="2025-06-01", date_to="2025-06-30")
    assert replace_window(conn, moved, PAYMENTS, **args) == ReplaceResult(1, 0, 0, 1, 0)
    conn.commit()
    day = conn.execute(
        f"SELECT payment_day FROM {PAYMENTS} WHERE payment_key = 'k00009' AND creditor_id = 'CRED-A'"
    )
    assert day.fetchall() == [(dt.date(2025, 6, 2),)]
    assert len(table_rows(conn)) == 20


# --------------------------------------------------------------------------- chunking, COPY, reads


def test_small_chunks_load_every_row_exactly_once(conn, monkeypatch):
    slices = []
    real = copy_format.frame_to_arrow
    monkeypatch.setattr(
        copy_format, "frame_to_arrow", lambda df, cols=None: slices.append(len(df)) or real(df, cols)
    )
    df = payments(100)
    df.loc[13, "account_name"] = 'spans\na line, "quoted"'

    assert upsert_frame(conn, df, PAYMENTS, KEYS, chunk_rows=7) == UpsertResult(100, 100, 0, 0)
    assert slices == [7] * 14 + [2]
    got = conn.execute(
        f"SELECT payment_key, account_name, amount FROM {PAYMENTS} ORDER BY payment_key"
    ).fetchall()
    assert [r[0] for r in got] == list(df["payment_key"])
    assert [r[1] for r in got] == list(df["account_name"])
    assert [float(r[2]) for r in got] == list(df["amount"])

    # Plain COPY into a table without a key: duplicates or losses would show in the count.
    conn.execute("CREATE TEMP TABLE loose (LIKE confirma.payments)")
    assert copy_frame(conn, df, "loose", chunk_rows=7) == 100
    assert conn.execute("SELECT count(*), count(DISTINCT payment_key) FROM loose").fetchone() == (100, 100)
    assert table_rows(conn, "loose") == table_rows(conn)


def test_stream_query_frames_yields_bounded_typed_chunks(conn):
    df = payments(25)
    df.loc[3, "account_name"] = None
    df.loc[4, "account_name"] = ""
    df.loc[5, "account_name"] = 'a "b",\nc ä€'
    df.loc[6, "case_id"] = None
    upsert_frame(conn, df, PAYMENTS, KEYS)
    conn.commit()
    query = f"SELECT * FROM {PAYMENTS} WHERE creditor_id = %s ORDER BY payment_key"

    frames = list(stream_query_frames(conn, query, ("CRED-A",), chunk_rows=10))
    assert [len(f) for f in frames] == [10, 10, 5]
    got = pd.concat(frames, ignore_index=True)
    assert list(got["payment_key"]) == list(df["payment_key"])
    assert pd.isna(got["account_name"].iloc[3])
    assert list(got["account_name"].iloc[4:6]) == ["", 'a "b",\nc ä€']
    assert got["amount"].iloc[1] == Decimal("11.37") and isinstance(got["amount"].iloc[1], Decimal)
    assert got["payment_day"].iloc[0] == dt.date(2025, 3, 1)
    assert str(got["case_id"].dtype) == "Int64" and pd.isna(got["case_id"].iloc[6])
    assert got["case_id"].iloc[7] == 1_000_000_000_007
    assert list(got["booking_date"]) == list(df["booking_date"])
    # What was read writes back as "unchanged".
    assert upsert_frame(conn, got, PAYMENTS, KEYS).unchanged == 25

    # Stopping early leaves the connection usable.
    for _frame in stream_query_frames(conn, query, ("CRED-A",), chunk_rows=10):
        break
    assert conn.execute("SELECT count(*) FROM confirma.payments").fetchone()[0] == 25

    empty = list(stream_query_frames(conn, query, ("CRED-B",), chunk_rows=10))
    assert len(empty) == 1 and empty[0].empty
    assert list(empty[0].columns) == list(got.columns)


def test_table_names_are_identifiers_not_sql(conn):
    with pytest.raises(ValueError, match="schema.table"):
        upsert_frame(conn, payments(1), "a.b.c", KEYS)
    with pytest.raises(ValueError, match="does not exist"):
        upsert_frame(conn, payments(1), "confirma.payments; DROP TABLE x", KEYS)
    assert bulk.table_identifier("confirma.payments").as_string(conn) == '"confirma"."payments"'


def _window_delete_plans(monkeypatch) -> list[str]:
    """Spy on the window delete that replace_window really runs: record its plan, then run it."""
    plans: list[str] = []
    original = bulk._delete_missing

    def spy(conn, statement, params, **kwargs):
        plans.append(original(conn, statement, params, explain=True))
        return original(conn, statement, params, **kwargs)

    monkeypatch.setattr(bulk, "_delete_missing", spy)
    return plans


@pytest.mark.parametrize("loop_free", [True, False], ids=["settings", "control-without-settings"])
def test_window_delete_never_plans_a_per_row_loop_on_stale_statistics(conn, monkeypatch, loop_free):
    """The plan cliff: statistics say CRED-B has no rows (analyzed before it was loaded), so without the
    loop-free settings the planner may rescan the unindexed stage once per stored row (n squared).
    PostgreSQL 15 does so here by itself; 16+ can hash the (tiny-looking) target side instead, so the
    session refuses hash joins to make 18 choose like 15. The control case shows that this scenario then
    gets the per-row loop, so the first case proves the fix."""
    upsert_frame(conn, payments(3000, "CRED-A"), PAYMENTS, KEYS)
    conn.commit()
    conn.execute(f"ANALYZE {PAYMENTS}")
    window = dict(WINDOW, scopes=["CRED-B"], date_from=None, date_to=None)
    conn.execute("SET enable_hashjoin = off")
    replace_window(conn, payments(300, "CRED-B"), PAYMENTS, **window)  # first load, no ANALYZE after it
    conn.commit()
    if not loop_free:
        monkeypatch.setattr(bulk, "LOOP_FREE_SETTINGS", {})
    plans = _window_delete_plans(monkeypatch)

    result = replace_window(conn, payments(300, "CRED-B"), PAYMENTS, **window)

    assert result == ReplaceResult(rows_in=300, deleted=0, inserted=0, updated=0, unchanged=300)
    assert len(plans) == 1
    if loop_free:
        assert "Nested Loop" not in plans[0] and "Anti Join" in plans[0], plans[0]
    else:
        assert "Nested Loop Anti Join" in plans[0], plans[0]


def test_keep_columns_hold_their_first_value_and_are_not_compared(conn):
    first = payments(3)
    first.loc[2, "account_name"] = None
    upsert_frame(conn, first, PAYMENTS, KEYS, keep_columns=["account_name"])
    later = payments(3).assign(account_name="a later answer")
    unchanged = upsert_frame(conn, later, PAYMENTS, KEYS, keep_columns=["account_name"])
    assert unchanged == UpsertResult(rows_in=3, inserted=0, updated=0, unchanged=3)  # not compared
    later.loc[0, "amount"] = 1.0
    result = upsert_frame(conn, later, PAYMENTS, KEYS, keep_columns=["account_name"])
    assert result == UpsertResult(rows_in=3, inserted=0, updated=1, unchanged=2)
    names = [r[0] for r in conn.execute(f"SELECT account_name FROM {PAYMENTS} ORDER BY payment_key")]
    assert names == ["Maksaja Öy 0, Ab", "Maksaja Öy 1, Ab", None]  # kept; a null is filled only on an update
    with pytest.raises(ValueError, match="keep_columns"):
        upsert_frame(conn, later, PAYMENTS, KEYS, keep_columns=["no_such"])
