"""Read-only questions about the pulled receivables tables (distribution, cases, payments, settlements).

Why here: the backfill's report, preview and adoption ask them; the SQL stays below `warehouse/` like every other
statement, and the tables' writers (the pulls) are not involved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import psycopg

from confirma_pipeline.paths import load_sql


def cases_to_fetch(conn: psycopg.Connection, creditor_ids: list[str]) -> list[tuple[str, int, int]]:
    """(creditor id, case id, invoice number) of every case known for these clients whose details are not
    fetched CLOSED yet: the cases pull's work list (sql/pull/cases_to_fetch.sql says where ids come from)."""
    return conn.execute(load_sql("pull/cases_to_fetch.sql"), {"ids": creditor_ids}).fetchall()


def case_ids_to_fetch(conn: psycopg.Connection, creditor_ids: list[str]) -> set[int]:
    """The case ids of `cases_to_fetch`."""
    return {row[1] for row in cases_to_fetch(conn, creditor_ids)}


def distribution_records(
    conn: psycopg.Connection, creditor_id: str, start: dt.date, end: dt.date
) -> list[tuple[int, int | None, dt.datetime | None]]:
    """(invoice_number, case_id, created_at) of the client's distribution records of invoices dated from
    `start` to `end` (what Confirma has: a backfill adopts these)."""
    return conn.execute(
        "SELECT invoice_number, case_id, created_at FROM confirma.distribution "
        "WHERE creditor_id = %s AND invoice_date BETWEEN %s AND %s",
        (creditor_id, start, end),
    ).fetchall()


def closed_case_ids(conn: psycopg.Connection, case_ids: Iterable[int]) -> set[int]:
    """The cases among these whose details were fetched CLOSED (the cases pull does not ask for them again)."""
    return {
        row[0]
        for row in conn.execute(
            "SELECT case_id FROM confirma.cases WHERE status = 'CLOSED' AND case_id = ANY(%s::bigint[])",
            (sorted(case_ids),),
        ).fetchall()
    }


def activity_per_day(
    conn: psycopg.Connection, creditor_id: str, start: dt.date, end: dt.date
) -> list[tuple[str, int, int, int]]:
    """(day, invoices of the ledger with a distribution record dated that day, payments, settlements) for
    every day from `start` to `end`."""
    return [
        (day.isoformat(), inv, pay, sett)
        for day, inv, pay, sett in conn.execute(
            """
            SELECT d::date,
                   (SELECT count(*) FROM confirma.invoice_ledger l JOIN confirma.distribution x
                      ON x.creditor_id = l.creditor_id AND x.invoice_number = l.invoice_number
                    WHERE l.creditor_id = %(c)s AND x.invoice_date = d::date),
                   (SELECT count(*) FROM confirma.payments p WHERE p.creditor_id = %(c)s AND p.payment_day = d::date),
                   (SELECT count(*) FROM confirma.settlements s
                    WHERE s.creditor_id = %(c)s AND s.settlement_date = d::date)
            FROM generate_series(%(a)s::date, %(b)s::date, interval '1 day') AS d
            """,
            {"c": creditor_id, "a": start, "b": end},
        ).fetchall()
    ]
