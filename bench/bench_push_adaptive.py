"""Goal 3 of issue 16: push with no fixed cap, an adaptive limit, against an unlimited and a rate-limited server.

Not a test. Run: `.venv/bin/python bench/bench_push_adaptive.py [--n 6000] [--latency-ms 50]`.

6000 POSTs (about 10 s at the bound) rather than 2000: a 3-second run mostly measures its own start (32 new
connections, threads, the first round in lock step), which a night of 100k invoices pays once. Both the
project and the script start cold, with new connections, in the same run.

Two sandbox processes (separate from this one, so client CPU is the client's): one with --latency-ms and no
limit, one with --latency-ms and --rate-limit-per-s 100. In one run, create-invoice POSTs of ~2.2 KB bodies:

  unlimited, project   ConfirmaClient at its defaults (32 in flight, no rate ceiling) + run_bounded(32), the
                       push's own fan-out; verdict >= 0.95 of the bound (32 / latency) and ahead of ...
  unlimited, script    bench/script_push_requests.py: 32 threads of requests (the baseline, same server, same run)
  limited, project     the same client against the 100 req/s server for --limited-seconds: sustained req/s over
                       the run after the first --settle-s seconds (verdict >= 90) and the share of answers that
                       were 429 (verdict < 2 %)

Writes bench/results/push_adaptive.json and prints a markdown table with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, md_table  # noqa: E402
from script_push_requests import push_all  # noqa: E402

from confirma_pipeline.api import ConfirmaClient, encode_body, run_bounded  # noqa: E402
from confirma_pipeline.sandbox import start_sandbox_process, stop_sandbox_process  # noqa: E402
from confirma_pipeline.sandbox.examples import client_body, sample_invoice  # noqa: E402

TOKEN = "bench-adaptive-provisioning-token"
CONCURRENCY = 32  # the defaults: CONFIRMA_CONCURRENCY and PushSettings.concurrency


def _project(url: str, bodies: list[dict], *, settle_s: float = 0.0) -> dict:
    with ConfirmaClient(url, TOKEN, max_retries=8) as client:  # defaults otherwise
        token = client.create_client(client_body(1)).access_token
        done: list[float] = []
        calls0 = client.calls_made
        started = time.perf_counter()
        failed = 0
        for _, outcome in run_bounded(lambda b: client.create_invoice(token, b), bodies, CONCURRENCY):
            if isinstance(outcome, BaseException):
                failed += 1
            else:
                done.append(time.perf_counter() - started)
        wall = time.perf_counter() - started
        calls = client.calls_made - calls0
        steady = [t for t in done if t >= settle_s]
        steady_rps = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 else None
        return {"n": len(bodies), "ok": len(done), "failed": failed, "wall_s": round(wall, 3),
                "req_per_s": round(len(done) / wall, 1), "steady_req_per_s": steady_rps and round(steady_rps, 1),
                "http_calls": calls, "throttled": client.limiter.throttled,
                "share_429": round(client.limiter.throttled / calls, 4) if calls else None,
                "limiter": client.limiter.snapshot()}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--limit-per-s", type=int, default=100)
    parser.add_argument("--limited-seconds", type=float, default=30.0)
    parser.add_argument("--settle-s", type=float, default=5.0)
    parser.add_argument("--output", type=Path, default=RESULTS / "push_adaptive.json")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    bound = CONCURRENCY / (args.latency_ms / 1000)
    results: dict[str, dict] = {}

    process, url = start_sandbox_process(provisioning_token=TOKEN, latency_ms=args.latency_ms, seed=1)
    try:
        warm = [sample_invoice(900_000_000 + i, rows=3) for i in range(100)]
        _project(url, warm)  # connections, imports, server warm-up
        bodies = [sample_invoice(100_000_000 + i, rows=3) for i in range(args.n)]
        results["unlimited_project"] = _project(url, bodies)
        with ConfirmaClient(url, TOKEN) as helper:
            token = helper.create_client(client_body(2)).access_token
        plain = [json.loads(encode_body(sample_invoice(200_000_000 + i, rows=3))) for i in range(args.n)]
        script = push_all(url, token, plain, 32)
        results["unlimited_script"] = {"n": args.n, "ok": script["ok"], "wall_s": round(script["wall_s"], 3),
                                       "req_per_s": round(script["ok"] / script["wall_s"], 1)}  # fmt: skip
        results["unlimited_loadavg"] = os.getloadavg()[0]
    finally:
        stop_sandbox_process(process)

    process, url = start_sandbox_process(
        provisioning_token=TOKEN, latency_ms=args.latency_ms, seed=2,
        extra_args=["--rate-limit-per-s", str(args.limit_per_s)],
    )  # fmt: skip
    try:
        n_limited = int(args.limit_per_s * args.limited_seconds)
        results["limited_project"] = _project(
            url, [sample_invoice(300_000_000 + i, rows=3) for i in range(n_limited)], settle_s=args.settle_s
        )
        results["limited_loadavg"] = os.getloadavg()[0]
    finally:
        stop_sandbox_process(process)

    up, us, lp = results["unlimited_project"], results["unlimited_script"], results["limited_project"]
    verdicts = {
        "unlimited >= 0.95 of bound": up["req_per_s"] >= 0.95 * bound and up["failed"] == 0,
        "unlimited ahead of the 32-thread requests script": up["req_per_s"] > us["req_per_s"],
        f"limited >= {0.9 * args.limit_per_s:.0f} req/s sustained": (lp["steady_req_per_s"] or 0)
        >= 0.9 * args.limit_per_s,
        "limited < 2 % answered 429": (lp["share_429"] or 0) < 0.02 and lp["failed"] == 0,
    }
    table = md_table(
        ["run", "server", "requests", "ok", "req/s", "steady req/s", "bound / limit", "ratio", "429 share", "load avg"],
        [
            ["project defaults", f"{args.latency_ms} ms, no limit", up["n"], up["ok"], up["req_per_s"], None, bound,
             round(up["req_per_s"] / bound, 3), up["share_429"], round(results["unlimited_loadavg"], 2)],
            ["requests, 32 threads (baseline)", f"{args.latency_ms} ms, no limit", us["n"], us["ok"], us["req_per_s"],
             None, bound, round(us["req_per_s"] / bound, 3), None, round(results["unlimited_loadavg"], 2)],
            ["project defaults", f"{args.latency_ms} ms, {args.limit_per_s} req/s", lp["n"], lp["ok"], lp["req_per_s"],
             lp["steady_req_per_s"], args.limit_per_s, round((lp["steady_req_per_s"] or 0) / args.limit_per_s, 3),
             lp["share_429"], round(results["limited_loadavg"], 2)],
        ],
    )  # fmt: skip
    table += "\n\n" + "\n".join(f"- {k}: {'met' if v else '**MISSED**'}" for k, v in verdicts.items())
    print(table)
    summary = {**results, "bound_req_per_s": bound, "verdicts": verdicts, "markdown": table,
               "loadavg_before": load_before, "loadavg_after": os.getloadavg()}  # fmt: skip
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
