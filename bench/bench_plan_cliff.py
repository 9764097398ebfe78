"""Goal 1 of issue 16: no plan cliff. Re-pulling unchanged payments right after a first load, before anything
has analyzed the table, must cost about what it costs once the table has statistics.

Not a test. Run: `.venv/bin/python bench/bench_plan_cliff.py [--rows 100000 1000000] [--clients 10]`.

For each server (the embedded PostgreSQL 18, and Debian's PostgreSQL 15 when installed: the production
baseline, whose planner falls into the cliff) and each size, on a fresh copy of `confirma.payments` with
autovacuum off (so nothing analyzes it behind the benchmark's back):

  first   replace_window into the empty table (the first load)
  cold    replace_window of the same rows again, no ANALYZE in between  <- subject (after a plain count(*),
          so that both cases pay the first read's hint-bit writes alike: ANALYZE pays them for the other)
  warm    ANALYZE (untimed), then the same re-pull again               <- baseline (same process, same run)
  before  diagnostic at --before-rows: `cold` with the loop-free planner settings switched off (the code before
          the fix), to show the cliff the fix removes, in the same run

Verdict: cold / warm <= 1.2 at every size. The window is the pull's: the clients' scopes and a date range.
Writes bench/results/plan_cliff.json and prints a markdown table (with the load average).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_upsert import make_payments  # noqa: E402
from common import RESULTS, embedded_postgres, md_table, system_postgres  # noqa: E402

from confirma_pipeline.warehouse import bulk  # noqa: E402
from confirma_pipeline.warehouse.migrations import apply_migrations  # noqa: E402

PG15 = Path("/usr/lib/postgresql/15/bin")
TARGET_RATIO = 1.2


def _fresh_table(admin: psycopg.Connection, name: str) -> str:
    table = f"bench.{name}"
    admin.execute(f"DROP TABLE IF EXISTS {table}")
    admin.execute(
        f"CREATE TABLE {table} (LIKE confirma.payments INCLUDING ALL) WITH (autovacuum_enabled = false)"
    )
    return table


def _timed(conn, df, table: str, window: dict) -> tuple[float, bulk.ReplaceResult]:
    t0 = time.perf_counter()
    result = bulk.replace_window(conn, df, table, **window)
    return time.perf_counter() - t0, result


def run_server(
    label: str, uri: str, sizes: list[int], clients: int, before_rows: int, repeat: int
) -> list[dict]:
    rows_out = []
    with psycopg.connect(uri, autocommit=True) as admin, psycopg.connect(uri, autocommit=True) as conn:
        apply_migrations(admin)
        admin.execute("CREATE SCHEMA IF NOT EXISTS bench")
        version = admin.execute("SHOW server_version").fetchone()[0].split()[0]
        for n in [before_rows, *sizes] if before_rows else sizes:
            df = make_payments(n, clients)
            window = {
                "scope_column": "creditor_id", "scopes": sorted(df["creditor_id"].unique()),
                "date_column": "payment_day", "date_from": dt.date(2023, 1, 1), "date_to": dt.date(2024, 12, 31),
            }  # fmt: skip
            diagnostic = before_rows and n == before_rows and n not in sizes
            runs: dict[str, list[float]] = {"first": [], "cold": [], "warm": [], "before": []}
            for _ in range(repeat):
                table = _fresh_table(admin, f"cold_{n}")
                first, _ = _timed(conn, df, table, window)
                runs["first"].append(first)
                if diagnostic:
                    saved, bulk.LOOP_FREE_SETTINGS = bulk.LOOP_FREE_SETTINGS, {}
                    try:
                        before, result = _timed(conn, df, table, window)
                    finally:
                        bulk.LOOP_FREE_SETTINGS = saved
                    runs["before"].append(before)
                    table = _fresh_table(admin, f"cold_{n}")
                    bulk.replace_window(conn, df, table, **window)
                # Hint bits: the first read after a load rewrites every page (marking the load's rows committed);
                # ANALYZE does that for the analyzed case as it samples. Same for both: read the table first.
                admin.execute(f"SELECT count(*) FROM {table}")
                cold, result = _timed(conn, df, table, window)
                assert result.unchanged == n and result.deleted == 0, result
                runs["cold"].append(cold)
                admin.execute(f"ANALYZE {table}")
                warm, result = _timed(conn, df, table, window)
                assert result.unchanged == n, result
                runs["warm"].append(warm)
                admin.execute(f"DROP TABLE {table}")
            med = {k: statistics.median(v) if v else None for k, v in runs.items()}
            ratio = med["cold"] / med["warm"]
            rows_out.append({
                "server": label, "postgres": version, "rows": n, "clients": clients, "runs": repeat,
                "first_load_s": round(med["first"], 3), "cold_repull_s": round(med["cold"], 3),
                "analyzed_repull_s": round(med["warm"], 3),
                "before_fix_cold_repull_s": None if med["before"] is None else round(med["before"], 3),
                "cold_over_analyzed": round(ratio, 3), "target": TARGET_RATIO,
                "meets": None if diagnostic else ratio <= TARGET_RATIO,
                "loadavg": os.getloadavg()[0],
            })  # fmt: skip
            print(json.dumps(rows_out[-1]), flush=True)
    return rows_out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--clients", type=int, default=10, help="clients in the window (a few large ones)")
    parser.add_argument(
        "--before-rows", type=int, default=10_000, help="size of the before-the-fix diagnostic"
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--servers", nargs="+", default=["embedded", "pg15"], choices=["embedded", "pg15"])
    parser.add_argument("--output", type=Path, default=RESULTS / "plan_cliff.json")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    rows: list[dict] = []
    for server in args.servers:
        if server == "pg15" and not (PG15 / "postgres").exists():
            print(f"skipping PostgreSQL 15: {PG15} not installed", flush=True)
            continue
        context = system_postgres(PG15) if server == "pg15" else embedded_postgres("bench-cliff-")
        with context as (uri, _pgdata):
            rows += run_server(server, uri, args.rows, args.clients, args.before_rows, args.repeat)
    table = md_table(
        ["server", "PG", "rows", "first load s", "cold re-pull s", "analyzed re-pull s", "cold ÷ analyzed",
         "before fix: cold s", "verdict (<= 1.2)", "load avg"],
        [[r["server"], r["postgres"], r["rows"], r["first_load_s"], r["cold_repull_s"], r["analyzed_repull_s"],
          r["cold_over_analyzed"], r["before_fix_cold_repull_s"],
          "diagnostic" if r["meets"] is None else ("met" if r["meets"] else "**MISSED**"), round(r["loadavg"], 2)]
         for r in rows],
    )  # fmt: skip
    print(table)
    summary = {
        "results": rows,
        "markdown": table,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0 if all(r["meets"] is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
