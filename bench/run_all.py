"""Run every benchmark in bench/ in sequence (each in its own subprocess), then write bench/results/summary.md.

    .venv/bin/python bench/run_all.py            # full sizes (`make bench`), about 10 minutes on 2 cores
    .venv/bin/python bench/run_all.py --quick    # small sizes, about 1-2 minutes: a smoke check
    .venv/bin/python bench/run_all.py --only push_pipeline upsert
    .venv/bin/python bench/run_all.py --summary-only  # rewrite summary.md from the last run's JSON files

Known benchmarks get their sizes from BENCHMARKS below (full and --quick) and a summary table with the targets
next to the figures; a new bench/bench_*.py is still run (without arguments) and listed with its exit code. Each
benchmark's console output is kept in bench/results/<name>.log. Benchmarks run one at a time: they share the 2
cores, and anything else running on the machine (tests, other benchmarks) skews them, so the load average
before and after each one is recorded next to its figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from common import RESULTS, md_table  # noqa: E402

BENCH = ROOT / "bench"


@dataclass
class Bench:
    name: str  # results/<name>.json and results/<name>.log
    script: str
    full: list[str] = field(default_factory=list)
    quick: list[str] = field(default_factory=list)
    output_flag: str | None = "--output"


BENCHMARKS = [
    Bench("push_http_httpx", "bench_push_http.py", [], ["--n", "400"]),
    Bench(
        "upsert", "bench_upsert.py", ["--rows", "1000000"],
        ["--rows", "50000", "--clients", "50", "--to-sql-rows", "10000"], output_flag="--out",
    ),
    Bench(
        "validation", "bench_validation.py", [],
        ["--invoices", "20000", "--map-invoices", "10000", "--repeat", "1"],
    ),
    Bench("plan_cliff", "bench_plan_cliff.py", [], ["--rows", "20000", "--before-rows", "5000"]),
    Bench("changed_after_submission", "bench_changed_after_submission.py", [], ["--invoices", "50000", "--edited", "100"]),
    Bench("push_adaptive", "bench_push_adaptive.py", [], ["--n", "400", "--limited-seconds", "10", "--settle-s", "3"]),
    Bench("pull", "bench_pull.py", ["--sizes", "10000", "100000", "1000000"],
          ["--payments", "10000", "--settlements", "200", "--sizes", "10000"]),
    Bench(
        "push_pipeline", "bench_push_pipeline.py", ["--profile-invoices", "5000"],
        ["--creditors", "50", "--invoices-per-creditor", "40", "--profile-invoices", "1000", "--cprofile-invoices", "300"],
    ),
]  # fmt: skip


def _mark(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "**MISSED**")


# --------------------------------------------------------------------------- per-benchmark summaries


def summarize_push_http(results: dict[str, dict]) -> str:
    rows = []
    for r in results.values():
        t = r.get("targets", {})
        rows.append([
            r["transport"], r["n"], r["concurrency"], r["latency_ms"], r["req_per_s"], r["bound_req_per_s"],
            f"{r['ratio_to_bound']} (>= {t.get('ratio_to_bound')})",
            f"{r['client_cpu_ms_per_request']} (<= {t.get('client_cpu_ms_per_request')})",
            r["server_cpu_ms_per_request"], f"{r['ok']}/{r['failed']}", _mark(r.get("meets_targets")),
        ])  # fmt: skip
    return md_table(
        ["transport", "n", "conc.", "latency ms", "req/s", "bound", "÷ bound (target)",
         "client CPU ms/req (target)", "server CPU ms/req", "ok/failed", "targets"],
        rows,
    )  # fmt: skip


def summarize_upsert(r: dict) -> str:
    t = r["targets"]
    rows = []
    for x in r["results"]:
        judged = "meets_targets" in x
        rows.append([
            x["step"], x["label"], x["rows"], round(x["seconds"], 2),
            f"{x['rows_per_s'] / 1000:.0f}k" + (f" (>= {t['rows_per_s'] // 1000}k)" if judged else ""),
            f"{x['ratio_to_copy']:.2f}" + (f" (>= {t['ratio_to_copy']})" if judged else ""),
            round(x["client_cpu_s"], 1), round(x["pg_cpu_s"], 1),
            f"{x['added_mb']:.0f}" + (f" (<= {t['added_mb']})" if judged else ""),
            _mark(x.get("meets_targets")) if judged else "",
        ])  # fmt: skip
    meta = r["meta"]
    head = f"{meta['rows']:,} payment rows, {meta['clients']} clients, PostgreSQL {meta['postgres']}.\n\n"
    return head + md_table(
        ["step", "method", "rows", "s", "rows/s (target)", "÷ raw COPY (target)", "client CPU s", "PG CPU s",
         "RSS added MB (target)", "targets"],
        rows,
    )  # fmt: skip


def summarize_validation(r: dict) -> str:
    goals = r.get("goals", {})
    rows = []
    for name, x in r["results"].items():
        n = x.get("n") or x.get("n_rows") or x.get("n_invoices")
        rate_key = next((k for k in x if k.endswith("_per_s")), None)
        rate = f"{x[rate_key]:,} {rate_key.replace('_per_s', '')}/s" if rate_key else ""
        target, ok = "", None
        if name in ("rows", "rows_bad") and "rows_per_s" in goals:
            target, ok = f">= {goals['rows_per_s']:,} rows/s", x["rows_per_s"] >= goals["rows_per_s"]
        elif name.startswith("rows_bad10_mixed") and "rows_bad10_mixed_per_s" in goals:
            # the goal's figure is the push's own call (no content hash of rejected rows: the push records the
            # source and body hashes instead); the hashed case is what other callers of the default pay
            path = "the push's path" if name.endswith("no_hash") else "with row hashes (not the push's path)"
            target = f">= {goals['rows_bad10_mixed_per_s']:,} rows/s, {path}"
            ok = x["rows_per_s"] >= goals["rows_bad10_mixed_per_s"]
        elif name == "mapping" and "mapping_100k_invoices_s" in goals:
            projected = 100_000 / x["invoices_per_s"]
            target = f"100k invoices <= {goals['mapping_100k_invoices_s']} s (here ≈{projected:.1f} s)"
            ok = projected <= goals["mapping_100k_invoices_s"]
        rows.append([name, n, x["wall_s"], x["cpu_s"], rate, target, _mark(ok) if target else ""])
    return md_table(["case", "n", "wall s", "CPU s", "throughput", "target", "verdict"], rows)


def summarize_push_pipeline(r: dict) -> str:
    cfg, first, second, onb, ver = (
        r["config"],
        r["first_night"],
        r["second_night"],
        r["onboarding"],
        r["verification"],
    )
    ok, t = r["meets_targets"], r["targets"]
    head = (
        f"{cfg['invoices']:,} invoices x {cfg['rows_per_invoice']} rows, {cfg['creditors']:,} clients, sandbox "
        f"latency {cfg['latency_ms']} ms in its own process, concurrency {cfg['concurrency']}, "
        f"{cfg['transport']} transport.\n\n"
    )
    table = md_table(
        ["measure", "figure", "target", "verdict"],
        [
            ["first night wall s", first["wall_s"],
             f"<= {t['ratio_to_bound_max']} x bound {first['bound_s']} s", _mark(ok["wall_vs_bound"])],
            ["first night ÷ bound", first["ratio_to_bound"], f"<= {t['ratio_to_bound_max']}", ""],
            ["peak RSS MB (psutil sampler)", first["peak_rss_mb"], f"<= {t['peak_rss_mb']}", _mark(ok["peak_rss"])],
            ["client CPU s (cores); ms/invoice", f"{first['client_cpu_s']} ({first['client_cpu_cores']}); "
             f"{first['client_cpu_ms_per_invoice']}", "", ""],
            ["sandbox / Postgres CPU s", f"{first['sandbox_cpu_s']} / {first['postgres_cpu_s']}", "", ""],
            ["exactly once (sandbox journal)", f"{ver['journal_invoices']:,} sent, {ver['sent_twice_or_more']} "
             f"twice, {ver['missing']} missing", "each once", _mark(ok["exactly_once"])],
            ["second night requests", second["requests"], "0", _mark(ok["second_night_requests"])],
            ["second night wall s", second["wall_s"], f"<= {t['second_night_s']}", _mark(ok["second_night_time"])],
            ["onboarding wall s (apart)", onb["wall_s"], f"bound {onb['bound_s']} s", ""],
        ],
    )  # fmt: skip
    phases = [
        p for p in first["phases"] if not p["phase"].startswith(" ") or p["seconds"] >= 0.05 * first["wall_s"]
    ]
    out = (
        head
        + table
        + "\n\nFirst night by phase (wall s; ↳ = inside the row above it):\n\n"
        + md_table(
            ["phase", "s", "share"],
            [
                [p["phase"].replace("  ", "↳ "), p["seconds"], f"{p['seconds'] / first['wall_s']:.0%}"]
                for p in phases
            ],
        )
    )
    p = r.get("profile")
    if p and "main_cumulative" in p:
        threads = p.get("cpu_s_by_thread", {})
        skip = (
            "push_invoices",
            "process_clients",
            "_push_chunks",
            "concurrency.py",
            "_send_one",
            "create_invoice",
        )
        # the main thread's list is led by long pandera call chains: keep the project's own functions and JSON
        main = [
            e for e in p["main_cumulative"]
            if not any(x in e["function"] for x in skip)
            and (e["function"].startswith("confirma_pipeline/") or "json" in e["function"])
        ][:8]  # fmt: skip
        workers = [e for e in p["workers_cumulative"] if not any(x in e["function"] for x in skip)][:6]
        out += (
            f"\n\nWhere the CPU goes ({p['invoices']:,}-invoice night, per-thread CPU sampler; process CPU "
            f"{p['process_cpu_s']} s: main thread {threads.get('main', '?')} s, HTTP workers "
            f"{threads.get('workers', '?')} s). Top cumulative CPU, main thread then workers:\n\n"
            + md_table(
                ["thread", "function", "CPU s", "share of process CPU"],
                [[e["thread"], e["function"], e["cpu_s"], f"{e['cpu_s'] / (p['process_cpu_s'] or 1):.0%}"]
                 for e in main + workers],
            )
        )  # fmt: skip
    return out


def summarize_markdown(r: dict) -> str:
    """Benchmarks that write their own table, baseline and verdicts into their JSON's `markdown`."""
    return r["markdown"]


SUMMARIZERS = {
    "plan_cliff": summarize_markdown,
    "changed_after_submission": summarize_markdown,
    "push_adaptive": summarize_markdown,
    "pull": summarize_markdown,
    "upsert": summarize_upsert,
    "validation": summarize_validation,
    "push_pipeline": summarize_push_pipeline,
}


# --------------------------------------------------------------------------- running


def discover() -> list[Bench]:
    known = {b.script for b in BENCHMARKS}
    extra = [
        Bench(p.stem.removeprefix("bench_"), p.name, output_flag=None)
        for p in sorted(BENCH.glob("bench_*.py"))
        if p.name not in known
    ]
    return [b for b in BENCHMARKS if (BENCH / b.script).exists()] + extra


def run_one(bench: Bench, quick: bool) -> dict:
    out = RESULTS / f"{bench.name}.json"
    log = RESULTS / f"{bench.name}.log"
    args = list(bench.quick if quick else bench.full)
    if bench.output_flag:
        args += [bench.output_flag, str(out)]
    cmd = [sys.executable, str(BENCH / bench.script), *args]
    shown = " ".join(["python", f"bench/{bench.script}", *args]).replace(str(ROOT) + "/", "")
    print(f"\n=== {bench.name}: {shown}", flush=True)
    load0 = os.getloadavg()[0]
    started = time.time()
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write("  " + line)
            fh.write(line)
        code = proc.wait()
    seconds = time.time() - started
    fresh = out.exists() and out.stat().st_mtime >= started
    result = json.loads(out.read_text()) if fresh else None
    print(f"=== {bench.name}: exit {code} in {seconds:.0f} s", flush=True)
    return {
        "name": bench.name,
        "command": shown,
        "exit_code": code,
        "seconds": round(seconds, 1),
        "load_before": round(load0, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "result": result,
        "log": os.path.relpath(log, ROOT),
    }


def write_summary(runs: list[dict], quick: bool, started: float, total: float) -> Path:
    when = dt.datetime.fromtimestamp(started).strftime("%Y-%m-%d %H:%M")
    lines = [
        "# Benchmark summary",
        "",
        f"{when}, `python bench/run_all.py{' --quick' if quick else ''}`, {total / 60:.1f} min in all; "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}. Figures are one run each (see each "
        "benchmark's own JSON for details); the load average shows whether something else shared the cores."
        + (
            " **Quick mode: small sizes, so the verdicts against the (full-size) targets mean little.**"
            if quick
            else ""
        ),
        "",
        md_table(
            ["benchmark", "command", "exit", "s", "load avg before → after", "log"],
            [
                [
                    r["name"],
                    f"`{r['command']}`",
                    r["exit_code"],
                    r["seconds"],
                    f"{r['load_before']} → {r['load_after']}",
                    r["log"],
                ]
                for r in runs
            ],
        ),  # fmt: skip
    ]
    by_name = {r["name"]: r["result"] for r in runs if r["result"]}
    http = {k: v for k, v in by_name.items() if k.startswith("push_http")}
    if http:
        lines += ["", "## push_http: one create-invoice POST per request (client + sandbox process)", "",
                  summarize_push_http(http)]  # fmt: skip
    titles = {
        "plan_cliff": "plan_cliff (issue 16 goal 1): re-pull right after a first load, no ANALYZE, vs analyzed",
        "changed_after_submission": "changed_after_submission (goal 5): a quiet night over 1M submitted invoices",
        "push_adaptive": "push_adaptive (goal 3): defaults vs 32-thread requests script; vs a 100 req/s server",
        "pull": "pull (goal 2): payments + settlements pull vs the requests + json_normalize + to_sql script",
        "upsert": "upsert: bulk load / upsert into PostgreSQL (1M rows)",
        "validation": "validation: pandera checks and mapping",
        "push_pipeline": "push_pipeline (goal 4): the nightly invoice push end to end (100k at 20 ms)",
    }
    for run in runs:
        name, result = run["name"], run["result"]
        if name.startswith("push_http"):
            continue
        lines += ["", f"## {titles.get(name, name)}", ""]
        if result is None:
            lines.append(f"No fresh result (exit code {run['exit_code']}); see {run['log']}.")
        elif name in SUMMARIZERS:
            try:
                lines.append(SUMMARIZERS[name](result))
            except (KeyError, TypeError, ZeroDivisionError) as exc:  # a benchmark changed its JSON
                lines.append(f"Could not summarise ({type(exc).__name__}: {exc}); see the JSON.")
        else:
            lines.append(f"Exit code {run['exit_code']}; see {run['log']}.")
    path = RESULTS / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke check in a minute or two")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these (names as in the summary)")
    parser.add_argument(
        "--summary-only",
        action="store_true",
        help="run nothing: rewrite summary.md from the last run's results (results/run_all.json + each JSON)",
    )
    args = parser.parse_args(argv)

    RESULTS.mkdir(parents=True, exist_ok=True)
    meta_path = RESULTS / "run_all.json"
    if args.summary_only:
        meta = json.loads(meta_path.read_text())
        runs = meta["runs"]
        for run in runs:
            out = RESULTS / f"{run['name']}.json"
            run["result"] = json.loads(out.read_text()) if run.get("had_result") and out.exists() else None
        path = write_summary(runs, meta["quick"], meta["started"], meta["total_s"])
        print(f"{path.read_text()}\nwrote {os.path.relpath(path, ROOT)}")
        return 0
    benches = discover()
    if args.only:
        unknown = set(args.only) - {b.name for b in benches}
        if unknown:
            parser.error(f"unknown benchmark(s) {sorted(unknown)}; known: {[b.name for b in benches]}")
        benches = [b for b in benches if b.name in args.only]
    started = time.time()
    runs = [run_one(b, args.quick) for b in benches]
    total = time.time() - started
    meta_runs = [
        {**{k: v for k, v in r.items() if k != "result"}, "had_result": r["result"] is not None} for r in runs
    ]
    meta_path.write_text(
        json.dumps({"started": started, "total_s": total, "quick": args.quick, "runs": meta_runs}, indent=2)
        + "\n"
    )
    path = write_summary(runs, args.quick, started, total)
    print(f"\n{path.read_text()}\nwrote {os.path.relpath(path, ROOT)}")
    return 1 if any(r["exit_code"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
