"""Goal 5 of issue 16: a night with nothing new over 1M submitted invoices of history costs <= 5 s.

Not a test. Run: `.venv/bin/python bench/bench_changed_after_submission.py [--invoices 1000000]`.

Embedded PostgreSQL with the project's migrations; --invoices source invoices (3 rows each) generated in SQL,
all `submitted` in the ledger with their source hash. Timed, in one run:

  baseline  the previous statement: re-hash every submitted invoice and compare (what each night cost before)
  first     the new statement on the first night after submission (every invoice hashed once, then recorded)
  quiet     the new statement on a night with nothing new                          <- subject (<= 5 s)
  edited    the same after --edited invoices had one row changed (plain UPDATE; the triggers move updated_at)

Writes bench/results/changed_after_submission.json and prints a markdown table with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, embedded_postgres, md_table, write_result  # noqa: E402

from confirma_pipeline.validation.input_contract import INVOICE_ROWS_CONTRACT, INVOICES_CONTRACT  # noqa: E402
from confirma_pipeline.warehouse import submission_ledger  # noqa: E402
from confirma_pipeline.warehouse.migrations import apply_migrations  # noqa: E402

INVOICES, ROWS = "confirma_source.invoices", "confirma_source.invoice_rows"
TARGET_S = 5.0

#: The statement before issue 16 (re-hash of every submitted invoice every night): the baseline.
BASELINE_SQL = """
WITH current AS (
    SELECT i.invoice_id,
           md5(ROW({invoice_cols})::text || coalesce(r.rows_text, '')) AS source_hash
    FROM {invoices} AS i
    JOIN confirma.invoice_ledger AS l ON l.invoice_id = i.invoice_id AND l.state = 'submitted'
    LEFT JOIN LATERAL (
        SELECT string_agg(ROW({row_cols})::text, '|' ORDER BY x.row_number) AS rows_text
        FROM {invoice_rows} AS x
        WHERE x.invoice_id = i.invoice_id
    ) AS r ON true
)
UPDATE confirma.invoice_ledger AS l
SET changed_after_submission = (c.source_hash IS DISTINCT FROM l.source_hash),
    changed_payload_hash = CASE WHEN c.source_hash IS DISTINCT FROM l.source_hash THEN c.source_hash END,
    updated_at = now()
FROM current AS c
WHERE c.invoice_id = l.invoice_id
  AND l.source_hash IS NOT NULL
  AND l.changed_after_submission IS DISTINCT FROM (c.source_hash IS DISTINCT FROM l.source_hash)
"""

SEED = [
    "SET session_replication_role = replica",  # seeding: no triggers, no FK checks
    "INSERT INTO confirma.clients (creditor_id, state) "
    "SELECT format('CRED-%%s', c), 'created' FROM generate_series(0, 199) c",
    f"INSERT INTO {INVOICES} (invoice_id, creditor_id, invoice_number, invoice_date, due_date, buyer_name, "
    "buyer_street, buyer_postal_code, buyer_postal_district, net_amount, vat_amount, gross_amount, updated_at) "
    "SELECT format('INV-%%s', g), format('CRED-%%s', g %% 200), g, date '2024-01-01' + g %% 700, "
    "date '2024-01-15' + g %% 700, format('Ostaja %%s Oy', g), 'Katu 1', '00100', 'Helsinki', 30, 7.2, 37.2, "
    "timestamptz '2024-01-01' FROM generate_series(1, %(n)s) g",
    f"INSERT INTO {ROWS} (invoice_id, row_number, name, quantity, unit_price, vat_percentage, net_amount, "
    "vat_amount, gross_amount) SELECT format('INV-%%s', g), r, format('Tuote %%s', r), 1, 10, 24, 10, 2.4, 12.4 "
    "FROM generate_series(1, %(n)s) g, generate_series(1, 3) r",
    "INSERT INTO confirma.invoice_ledger (invoice_id, creditor_id, invoice_number, state, payload_hash) "
    f"SELECT invoice_id, creditor_id, invoice_number, 'submitted', 'p' FROM {INVOICES}",
    "RESET session_replication_role",
]


def _timed(conn, statement) -> tuple[float, int]:
    t0 = time.perf_counter()
    with conn.transaction():
        cur = conn.execute(statement)
        n = cur.fetchone()[0] if cur.description else cur.rowcount
    return time.perf_counter() - t0, n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--edited", type=int, default=1_000)
    parser.add_argument("--output", type=Path, default=RESULTS / "changed_after_submission.json")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    with embedded_postgres("bench-cas-") as (uri, _), psycopg.connect(uri, autocommit=True) as conn:
        apply_migrations(conn)
        t0 = time.perf_counter()
        for statement in SEED:
            conn.execute(statement, {"n": args.invoices})
        hashed = submission_ledger._hash_sql("push/source_hashes.sql", INVOICES, ROWS)
        conn.execute(
            sql.SQL("UPDATE confirma.invoice_ledger l SET source_hash = h.source_hash FROM ({}) h "
                    "WHERE h.invoice_id = l.invoice_id").format(hashed),
            {"invoice_ids": None},
        )  # fmt: skip
        conn.execute("VACUUM ANALYZE")
        print(f"seeded {args.invoices:,} submitted invoices in {time.perf_counter() - t0:.0f} s", flush=True)

        cols = {
            "invoices": sql.Identifier(*INVOICES.split(".")),
            "invoice_rows": sql.Identifier(*ROWS.split(".")),
            "invoice_cols": sql.SQL(", ").join(sql.Identifier("i", c) for c in INVOICES_CONTRACT if c != "updated_at"),
            "row_cols": sql.SQL(", ").join(sql.Identifier("x", c) for c in INVOICE_ROWS_CONTRACT),
        }  # fmt: skip
        baseline = sql.SQL(BASELINE_SQL).format(**cols)
        new = submission_ledger._hash_sql("push/flag_changed_after_submission.sql", INVOICES, ROWS)
        rows = []

        def step(name: str, what: str, statement) -> float:
            seconds, n = _timed(conn, statement)
            rows.append({"step": name, "what": what, "seconds": round(seconds, 3), "flipped": n,
                         "loadavg": round(os.getloadavg()[0], 2)})  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
            return seconds

        base_s = step("baseline", "previous statement: re-hash of every submitted invoice", baseline)
        step("first", "new statement, first night after submission (each invoice hashed once)", new)
        quiet_s = step("quiet", "new statement, night with nothing new", new)
        conn.execute(
            f"UPDATE {ROWS} SET quantity = quantity + 1 WHERE row_number = 1 AND invoice_id IN "
            f"(SELECT format('INV-%%s', g) FROM generate_series(1, %s) g)",
            (args.edited,),
        )
        step("edited", f"new statement after {args.edited:,} invoices had a row edited", new)
    verdict = quiet_s <= TARGET_S
    table = md_table(
        ["step", "what", "s", "flags flipped", "load avg"],
        [[r["step"], r["what"], r["seconds"], r["flipped"], r["loadavg"]] for r in rows],
    )
    table += (
        f"\n\nQuiet night over {args.invoices:,} submitted invoices: {quiet_s:.2f} s (target <= {TARGET_S} s: "
        f"{'met' if verdict else '**MISSED**'}); baseline (full re-hash) {base_s:.2f} s in the same run, "
        f"{base_s / quiet_s:.0f} x slower."
    )
    summary = {"invoices": args.invoices, "results": rows, "quiet_s": quiet_s, "baseline_s": base_s,
               "target_s": TARGET_S, "meets": verdict, "markdown": table}  # fmt: skip
    return write_result(args.output, summary, load_before, verdict)


if __name__ == "__main__":
    sys.exit(main())
