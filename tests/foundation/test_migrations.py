"""Migrations on a real (embedded) PostgreSQL: apply, re-run, and roll back a broken file."""

from __future__ import annotations

import shutil

import psycopg
import pytest

from confirma_pipeline.paths import sql_dir
from confirma_pipeline.warehouse.migrations import MigrationError, apply_migrations, discover

EXPECTED_TABLES = {
    ("confirma_source", "creditors"),
    ("confirma_source", "invoices"),
    ("confirma_source", "invoice_rows"),
    ("confirma", "clients"),
    ("confirma", "client_tokens"),
    ("confirma", "invoice_ledger"),
    ("confirma", "rejected_rows"),
    ("confirma", "distribution"),
    ("confirma", "cases"),
    ("confirma", "payments"),
    ("confirma", "settlements"),
    ("confirma", "settlement_allocations"),
    ("confirma", "allocation_breakdown"),
    ("confirma", "finvoice_credentials"),
}


def _tables(conn) -> set[tuple[str, str]]:
    rows = conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('confirma', 'confirma_source') AND table_type = 'BASE TABLE'"
    ).fetchall()
    return {(s, t) for s, t in rows}


def test_migrations_create_every_table_on_an_empty_database(empty_dsn):
    with psycopg.connect(empty_dsn) as conn:
        applied = apply_migrations(conn)
        assert applied == [m.path.name for m in discover()]
        assert EXPECTED_TABLES <= _tables(conn)
        recorded = [r[0] for r in conn.execute("SELECT filename FROM confirma.schema_migrations ORDER BY 1")]
        assert recorded == applied


def test_exact_types_for_money_and_large_ids(empty_dsn):
    with psycopg.connect(empty_dsn) as conn:
        apply_migrations(conn)
        types = dict(
            conn.execute(
                "SELECT table_name || '.' || column_name, "
                "format_type(a.atttypid, a.atttypmod) "
                "FROM information_schema.columns c "
                "JOIN pg_attribute a ON a.attrelid = (c.table_schema || '.' || c.table_name)::regclass "
                " AND a.attname = c.column_name "
                "WHERE c.table_schema IN ('confirma', 'confirma_source')"
            ).fetchall()
        )
    assert types["settlements.settlement_id"] == "bigint"
    assert types["settlements.settlement_amount"] == "numeric(14,2)"
    assert types["invoices.invoice_number"] == "bigint"
    assert types["payments.amount"] == "numeric(14,2)"
    assert types["payments.payment_date"] == "timestamp with time zone"
    assert types["settlements.settlement_date"] == "date"
    assert types["cases.closed_at"] == "date"
    assert types["cases.created_at"] == "timestamp with time zone"


def test_rerun_is_a_noop(empty_dsn):
    with psycopg.connect(empty_dsn) as conn:
        apply_migrations(conn)
        before = conn.execute(
            "SELECT version, applied_at FROM confirma.schema_migrations ORDER BY 1"
        ).fetchall()
        assert apply_migrations(conn) == []
        after = conn.execute(
            "SELECT version, applied_at FROM confirma.schema_migrations ORDER BY 1"
        ).fetchall()
    assert before == after


def test_broken_migration_rolls_back_and_names_the_file(empty_dsn, tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(sql_dir() / "migrations", folder)
    (folder / "9998_half_done.sql").write_text(
        "CREATE TABLE confirma.half_done (id int);\nSELECT * FROM no_such_table;\n"
    )
    with psycopg.connect(empty_dsn) as conn:
        with pytest.raises(MigrationError) as excinfo:
            apply_migrations(conn, folder)
        assert "9998_half_done.sql" in str(excinfo.value)
        assert conn.execute("SELECT to_regclass('confirma.half_done')").fetchone()[0] is None
        versions = [r[0] for r in conn.execute("SELECT version FROM confirma.schema_migrations")]
        assert "9998" not in versions
        # the good migrations before it were applied and stay applied
        assert EXPECTED_TABLES <= _tables(conn)


def test_editing_an_applied_migration_is_refused(empty_dsn, tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(sql_dir() / "migrations", folder)
    with psycopg.connect(empty_dsn) as conn:
        apply_migrations(conn, folder)
        first = sorted(folder.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- edited\n")
        with pytest.raises(MigrationError, match=first.name):
            apply_migrations(conn, folder)
