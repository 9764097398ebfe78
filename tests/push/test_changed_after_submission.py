""" "Changed after submission" costs only what changed: a quiet night rewrites no ledger row, and an edit made
by any writer (an invoice or one of its rows, without touching updated_at) is still flagged."""

from __future__ import annotations

import psycopg
from psycopg import sql

from confirma_pipeline.run.context import RunContext
from confirma_pipeline.warehouse import submission_ledger

INVOICES, ROWS = "confirma_source.invoices", "confirma_source.invoice_rows"


def _submit(conn, n: int) -> list[str]:
    picked = conn.execute(
        f"SELECT invoice_id, creditor_id, invoice_number FROM {INVOICES} i "
        f"WHERE EXISTS (SELECT 1 FROM {ROWS} r WHERE r.invoice_id = i.invoice_id AND r.row_number = 1) "
        "ORDER BY invoice_id LIMIT %s",
        (n,),
    ).fetchall()
    hashes = submission_ledger.source_hashes(conn, INVOICES, ROWS, [p[0] for p in picked])
    for invoice_id, creditor_id, number in picked:
        conn.execute(
            "INSERT INTO confirma.clients (creditor_id, state) VALUES (%s, 'created') ON CONFLICT DO NOTHING",
            (creditor_id,),
        )
        conn.execute(
            "INSERT INTO confirma.invoice_ledger (invoice_id, creditor_id, invoice_number, state, payload_hash, "
            "source_hash) VALUES (%s, %s, %s, 'submitted', 'p', %s)",
            (invoice_id, creditor_id, number, hashes[invoice_id]),
        )
    return [p[0] for p in picked]


def _versions(conn) -> dict[str, str]:
    return dict(conn.execute("SELECT invoice_id, xmin::text FROM confirma.invoice_ledger").fetchall())


def _flagged(conn) -> list[str]:
    return [
        r[0]
        for r in conn.execute("SELECT invoice_id FROM confirma.invoice_ledger WHERE changed_after_submission")
    ]


def test_a_quiet_night_rewrites_nothing_and_any_edit_is_flagged(seeded):
    with psycopg.connect(seeded, autocommit=True) as conn:
        ids = _submit(conn, 8)

        def flag() -> int:
            return submission_ledger.flag_changed_after_submission(conn, INVOICES, ROWS)

        assert flag() == 0  # first night after submission: each invoice hashed once, none changed
        quiet = _versions(conn)
        assert flag() == 0
        assert _versions(conn) == quiet  # a night with nothing new writes no ledger row

        conn.execute(
            f"UPDATE {ROWS} SET quantity = quantity + 1 WHERE invoice_id = %s AND row_number = 1", (ids[0],)
        )
        conn.execute(
            f"UPDATE {INVOICES} SET buyer_email = 'edited@example.fi' WHERE invoice_id = %s", (ids[1],)
        )
        conn.execute(f"DELETE FROM {ROWS} WHERE invoice_id = %s AND row_number = 1", (ids[2],))
        assert flag() == 3
        assert sorted(_flagged(conn)) == sorted(ids[:3])
        after = _versions(conn)
        assert {i for i in ids if after[i] != quiet[i]} == set(
            ids[:3]
        )  # only the edited invoices were written

        conn.execute(
            f"UPDATE {ROWS} SET quantity = quantity - 1 WHERE invoice_id = %s AND row_number = 1", (ids[0],)
        )
        assert flag() == 1  # edited back: unflagged
        assert sorted(_flagged(conn)) == sorted(ids[1:3])


def _due_for_hashing(conn) -> int:
    """Submitted invoices the nightly check would hash: its candidate rule (flag_changed_after_submission.sql)."""
    return conn.execute(
        f"SELECT count(*) FROM confirma.invoice_ledger l JOIN {INVOICES} i USING (invoice_id) "
        "WHERE l.state = 'submitted' AND l.source_hash IS NOT NULL "
        "AND (i.updated_at IS NULL OR l.source_updated_at IS DISTINCT FROM i.updated_at)"
    ).fetchone()[0]


def test_the_first_night_after_a_push_hashes_nothing_and_an_edit_is_still_flagged(seeded, api, vault):
    """A push records the source updated_at read with the source hash, so the check that follows it
    (the next run's first step) has no invoice to hash and no ledger row to write."""
    from confirma_pipeline.push.invoices import push_invoices
    from confirma_pipeline.push.onboarding import onboard_clients

    onboard_clients(RunContext(seeded, api, vault, run_id="r1"))
    pushed = push_invoices(RunContext(seeded, api, vault, run_id="r1")).pushed
    with psycopg.connect(seeded, autocommit=True) as conn:
        submitted = [
            r[0]
            for r in conn.execute("SELECT invoice_id FROM confirma.invoice_ledger WHERE state = 'submitted'")
        ]
        assert pushed > 0 and len(submitted) == pushed
        assert _due_for_hashing(conn) == 0
        before = _versions(conn)
        assert submission_ledger.flag_changed_after_submission(conn, INVOICES, ROWS) == 0
        assert _versions(conn) == before  # the first night after the push wrote no ledger row

        edited = submitted[0]
        conn.execute(
            f"UPDATE {INVOICES} SET buyer_email = 'edited@example.fi', updated_at = now() WHERE invoice_id = %s",
            (edited,),
        )
        assert _due_for_hashing(conn) == 1
        assert submission_ledger.flag_changed_after_submission(conn, INVOICES, ROWS) == 1
        assert _flagged(conn) == [edited]
        after = _versions(conn)
        assert {i for i in before if after[i] != before[i]} == {edited}


def test_the_nightly_look_for_old_hashes_reads_the_partial_index_in_every_plan(warehouse_dsn):
    """`upgrade_source_hashes` runs every night: with nothing left to upgrade it must read the (empty) partial
    index of version-1 rows, never the whole ledger, also as a prepared statement's generic plan (which a bound
    version parameter would turn into a sequential scan)."""
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO confirma.clients (creditor_id, state) VALUES ('c1', 'created')")
        conn.execute(
            "INSERT INTO confirma.invoice_ledger (invoice_id, creditor_id, invoice_number, state, payload_hash, "
            "source_hash) SELECT 'i' || g, 'c1', g, 'submitted', 'p', 's' FROM generate_series(1, 20000) g"
        )
        conn.execute("UPDATE confirma.invoice_ledger SET source_hash_version = 1 WHERE invoice_number <= 3")
        conn.execute("ANALYZE confirma.invoice_ledger")
        statement = submission_ledger.OLD_HASH_IDS_SQL.as_string(conn).replace("%s", "$1")
        conn.execute(sql.SQL("PREPARE old_hashes(int) AS {}").format(sql.SQL(statement)))
        for mode in ("force_custom_plan", "force_generic_plan"):
            conn.execute(sql.SQL("SET plan_cache_mode = {}").format(sql.Literal(mode)))
            plan = "\n".join(r[0] for r in conn.execute("EXPLAIN EXECUTE old_hashes(20000)").fetchall())
            assert "invoice_ledger_old_hash_idx" in plan and "Seq Scan" not in plan, (mode, plan)
        assert {r[0] for r in conn.execute(submission_ledger.OLD_HASH_IDS_SQL, (10,)).fetchall()} == {
            "i1",
            "i2",
            "i3",
        }
