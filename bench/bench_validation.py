"""Benchmark: validation of the input contract (the models' checks, reasons for every rejected row), and
rows -> API bodies mapping.

Builds realistic contract-typed frames in memory with the project's generator (confirma_pipeline.validation.
samples: valid Y-tunnus, 7-3-1 references, exact row arithmetic; 10 % Swedish buyers): 200k invoices with 5
rows each = 1M invoice rows. Then times, each `--repeat` times (median, min-max; wall and CPU seconds of this
process; the 1-minute load average before and after each case is recorded with it):

  rows        validate_with_reasons(InvoiceRowModel, 1M clean rows)     -> rows/s  (goal: >= 5M rows/s)
  rows_bad    the same with 1 % of the rows corrupted (reasons built)   -> rows/s
  rows_bad10_mixed  1M rows, 10 % bad of eight kinds (issue #10)        -> rows/s  (goal: >= 2M rows/s)
  rows_bad10_mixed_no_hash  the same without the rejected rows' content hashes, as the push validates
                    (it records the source rows' hash it read instead)  -> rows/s
  invoices    validate_with_reasons(InvoiceModel, 200k invoices)        -> invoices/s
  combined    validate_invoices(200k invoices, 1M rows) incl. row sums  -> rows/s
  mapping     invoice_bodies(100k invoices x 5 rows, creditors)         -> seconds (goal: well under 10 s)
  hashing     payload_hash of the 100k bodies                           -> seconds

    .venv/bin/python bench/bench_validation.py [--invoices 200000] [--rows-per-invoice 5] [--repeat 3]

Writes bench/results/validation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pandera  # noqa: E402

from confirma_pipeline.mapping.hashing import payload_hash  # noqa: E402
from confirma_pipeline.mapping.invoices import invoice_bodies  # noqa: E402
from confirma_pipeline.validation import (  # noqa: E402
    InvoiceModel,
    InvoiceRowModel,
    validate_invoices,
    validate_with_reasons,
)
from confirma_pipeline.validation.samples import sample_creditors, sample_invoices  # noqa: E402


def _time(fn, repeat: int) -> dict:
    walls, cpus, result = [], [], None
    load_before = os.getloadavg()[0]
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {
        "wall_s": round(statistics.median(walls), 4),
        "wall_min_s": round(min(walls), 4),
        "wall_max_s": round(max(walls), 4),
        "cpu_s": round(statistics.median(cpus), 4),
        "runs": repeat,
        "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "_result": result,
    }


def _corrupt(rows: pd.DataFrame, fraction: float, seed: int = 5) -> pd.DataFrame:
    bad = rows.copy()
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(bad), int(len(bad) * fraction), replace=False)
    net = bad["net_amount"].to_numpy().copy()
    net[pick] += 1.0
    bad["net_amount"] = net
    return bad


def _corrupt_mixed(rows: pd.DataFrame, fraction: float, seed: int = 6) -> tuple[pd.DataFrame, np.ndarray]:
    """`fraction` of the rows spoiled, in equal shares, by eight kinds of faults (amounts, decimals, range,
    lengths, blanks, NULLs of a nullable dtype, duplicates). Returns (frame, the spoiled positions); a
    duplicate spoils a pair, so the rejected rows are a few more than the spoiled ones."""
    bad = rows.copy()
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(bad), int(len(bad) * fraction), replace=False)
    parts = np.array_split(pick, 8)
    net = bad["net_amount"].to_numpy().copy()
    net[parts[0]] += 1.0
    net[parts[1]] += 0.001
    bad["net_amount"] = net
    vat = bad["vat_percentage"].to_numpy().copy()
    vat[parts[2]] = 150.0
    bad["vat_percentage"] = vat
    name = bad["name"].to_numpy(dtype=object).copy()
    name[parts[3]] = "n" * 101
    name[parts[4]] = "  "
    bad["name"] = pd.Series(name, dtype=rows["name"].dtype, index=bad.index)
    quantity = bad["quantity"].astype("Float64")
    quantity.iloc[parts[5]] = pd.NA
    bad["quantity"] = quantity
    bad.iloc[parts[6], bad.columns.get_loc("row_number")] = 0
    numbers = bad["row_number"].to_numpy().copy()
    numbers[parts[7]] = np.where(numbers[parts[7]] > 1, numbers[parts[7]] - 1, numbers[parts[7]] + 1)
    bad["row_number"] = numbers
    return bad, pick


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=200_000)
    parser.add_argument("--rows-per-invoice", type=int, default=5)
    parser.add_argument("--map-invoices", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-mapping", action="store_true", help="validation cases only (no mapping, hashing)"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "validation.json")
    args = parser.parse_args(argv)

    load_at_start = os.getloadavg()
    build = time.perf_counter()
    creditors = sample_creditors(50)
    invoices, rows = sample_invoices(
        args.invoices, args.rows_per_invoice, creditor_ids=creditors["creditor_id"].tolist()
    )
    bad_rows = _corrupt(rows, 0.01)
    mixed_rows, pick_mixed = _corrupt_mixed(rows, 0.10)
    build_s = time.perf_counter() - build
    n_rows, n_inv = len(rows), len(invoices)
    print(f"built {n_inv:,} invoices and {n_rows:,} rows in {build_s:.1f} s")

    results: dict[str, dict] = {}
    keys = ["invoice_id", "row_number"]

    r = _time(lambda: validate_with_reasons(InvoiceRowModel, rows, keys), args.repeat)
    assert r.pop("_result").rejected_df.empty
    results["rows"] = {
        **r,
        "n": n_rows,
        "rows_per_s": round(n_rows / r["wall_s"]),
        "rows_per_cpu_s": round(n_rows / r["cpu_s"]),
    }

    r = _time(lambda: validate_with_reasons(InvoiceRowModel, bad_rows, keys), args.repeat)
    rejected = len(r.pop("_result").rejected_df)
    results["rows_bad"] = {**r, "n": n_rows, "rejected": rejected, "rows_per_s": round(n_rows / r["wall_s"])}

    r = _time(lambda: validate_with_reasons(InvoiceRowModel, mixed_rows, keys), args.repeat)
    rejected = len(r.pop("_result").rejected_df)
    results["rows_bad10_mixed"] = {
        **r,
        "n": n_rows,
        "bad_rows": int(len(pick_mixed)),
        "rejected": rejected,
        "rows_per_s": round(n_rows / r["wall_s"]),
        "rows_per_cpu_s": round(n_rows / r["cpu_s"]),
    }

    r = _time(
        lambda: validate_with_reasons(InvoiceRowModel, mixed_rows, keys, content_hashes=False), args.repeat
    )
    rejected = len(r.pop("_result").rejected_df)
    results["rows_bad10_mixed_no_hash"] = {
        **r,
        "n": n_rows,
        "rejected": rejected,
        "rows_per_s": round(n_rows / r["wall_s"]),
        "rows_per_cpu_s": round(n_rows / r["cpu_s"]),
    }

    r = _time(lambda: validate_with_reasons(InvoiceModel, invoices, ["invoice_id"]), args.repeat)
    assert r.pop("_result").rejected_df.empty
    results["invoices"] = {**r, "n": n_inv, "invoices_per_s": round(n_inv / r["wall_s"])}

    r = _time(lambda: validate_invoices(invoices, rows), args.repeat)
    assert r.pop("_result").rejected_df.empty
    results["combined"] = {
        **r,
        "n_invoices": n_inv,
        "n_rows": n_rows,
        "rows_per_s": round(n_rows / r["wall_s"]),
        "invoices_per_s": round(n_inv / r["wall_s"]),
    }

    if not args.no_mapping:
        map_inv = invoices.iloc[: args.map_invoices]
        map_rows = rows[rows["invoice_id"].isin(set(map_inv["invoice_id"]))]
        r = _time(lambda: invoice_bodies(map_inv, map_rows, creditors), args.repeat)
        bodies = r.pop("_result")
        results["mapping"] = {
            **r,
            "n_invoices": len(map_inv),
            "n_rows": len(map_rows),
            "invoices_per_s": round(len(map_inv) / r["wall_s"]),
        }
        r = _time(lambda: [payload_hash(b) for b in bodies], 1)
        r.pop("_result")
        results["payload_hash"] = {**r, "n": len(bodies)}

    report = {
        "benchmark": "validation",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "pandas": pd.__version__,
            "pandera": pandera.__version__,
            "numpy": np.__version__,
            "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
            "loadavg_at_start": [round(x, 2) for x in load_at_start],
        },
        "goals": {
            "rows_per_s": 5_000_000,
            "rows_bad10_mixed_per_s": 2_000_000,
            "mapping_100k_invoices_s": 10.0,
        },
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")

    print(f"{'case':<18}{'n':>12}{'wall s':>10}{'cpu s':>9}  {'load 1m':<12} throughput (per wall s)")
    for name, res in results.items():
        n = res.get("n") or res.get("n_rows") or res.get("n_invoices")
        rate = next((f"{res[k]:,} {k.replace('_per_s', '')}/s" for k in res if k.endswith("_per_s")), "")
        load = "-".join(str(x) for x in res.get("loadavg_1m", []))
        print(f"{name:<18}{n:>12,}{res['wall_s']:>10.3f}{res['cpu_s']:>9.3f}  {load:<12} {rate}")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
