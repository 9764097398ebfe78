"""Benchmark: create-invoice push throughput through ConfirmaClient + run_bounded against the sandbox.

The sandbox runs as a SEPARATE process (start_sandbox_process) with a fixed latency, so the client process's
CPU time (time.process_time) is the client's alone. Bound = concurrency / latency (32 / 0.05 s = 640 req/s).

    .venv/bin/python bench/bench_push_http.py [--n 2000] [--concurrency 32] [--latency-ms 50]

Writes bench/results/push_http.json.
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

from confirma_pipeline.api import ConfirmaClient, encode_body, run_bounded  # noqa: E402
from confirma_pipeline.sandbox import start_sandbox_process, stop_sandbox_process  # noqa: E402
from confirma_pipeline.sandbox.examples import client_body, sample_invoice  # noqa: E402

TOKEN = "bench-provisioning-token"


def _server_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--rows", type=int, default=3, help="invoice rows per body (3 rows = about 2.2 KB)")
    parser.add_argument("--warmup", type=int, default=64)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "push_http.json")
    args = parser.parse_args(argv)

    process, url = start_sandbox_process(provisioning_token=TOKEN, latency_ms=args.latency_ms, seed=1)
    try:
        with ConfirmaClient(
            url,
            TOKEN,
            max_connections=args.concurrency,
            max_retries=3,
        ) as client:
            token = client.create_client(client_body(1)).access_token
            warm = [sample_invoice(900_000_000 + i, rows=args.rows) for i in range(args.warmup)]
            bodies = [sample_invoice(100_000_000 + i, rows=args.rows) for i in range(args.n)]
            sizes = [len(encode_body(b)) for b in bodies[:200]]

            def push(body: dict) -> int:
                return client.create_invoice(token, body).invoice_number

            for _, outcome in run_bounded(push, warm, args.concurrency):
                if isinstance(outcome, BaseException):
                    raise outcome
            calls_before = client.calls_made
            server_cpu0 = _server_cpu_s(process.pid)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            ok = failed = 0
            for _, outcome in run_bounded(push, bodies, args.concurrency):
                if isinstance(outcome, BaseException):
                    failed += 1
                else:
                    ok += 1
            wall = time.perf_counter() - wall0
            cpu = time.process_time() - cpu0
            server_cpu = _server_cpu_s(process.pid) - server_cpu0
            calls = client.calls_made - calls_before
    finally:
        stop_sandbox_process(process)

    bound = args.concurrency / (args.latency_ms / 1000) if args.latency_ms else None
    rps = args.n / wall
    result = {
        "benchmark": "push_http",
        "n": args.n,
        "concurrency": args.concurrency,
        "transport": "httpx",
        "latency_ms": args.latency_ms,
        "body_bytes_median": statistics.median(sizes),
        "ok": ok,
        "failed": failed,
        "http_calls": calls,
        "wall_s": round(wall, 3),
        "req_per_s": round(rps, 1),
        "bound_req_per_s": bound,
        "ratio_to_bound": round(rps / bound, 3) if bound else None,
        "client_cpu_ms_per_request": round(cpu / args.n * 1000, 3),
        "client_cpu_cores": round(cpu / wall, 3),
        "server_cpu_ms_per_request": round(server_cpu / args.n * 1000, 3),
        "targets": {"ratio_to_bound": 0.93, "client_cpu_ms_per_request": 0.4},
        "python": platform.python_version(),
    }
    result["meets_targets"] = bool(
        failed == 0 and (result["ratio_to_bound"] or 0) >= 0.93 and result["client_cpu_ms_per_request"] <= 0.4
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"push_http: {rps:.0f} req/s ({result['ratio_to_bound']} of {bound:.0f} bound), "
        f"client CPU {result['client_cpu_ms_per_request']} ms/req, server CPU "
        f"{result['server_cpu_ms_per_request']} ms/req, ok={ok} failed={failed}, body ~{result['body_bytes_median']} B"
    )
    print(f"wrote {args.output}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
