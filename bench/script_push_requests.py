"""The hand-written baseline for pushing invoices: 32 threads of `requests`, one Session per thread, POST each
body (plain JSON), count the answers. What an engineer writes in an afternoon; no retries, no ledger, no exactly-once.

    .venv/bin/python bench/script_push_requests.py URL TOKEN N [THREADS]   (bodies: sample invoices)
"""

from __future__ import annotations

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests


def push_all(url: str, token: str, bodies: list[dict], threads: int = 32) -> dict:
    local = threading.local()

    def post(body: dict) -> int:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        answer = local.session.post(
            f"{url}/api/v1/partner/invoice",
            data=json.dumps(body),
            headers={"X-Api-Key": token, "Content-Type": "application/json"},
        )
        return answer.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        statuses = list(pool.map(post, bodies))
    wall = time.perf_counter() - started
    return {"wall_s": wall, "ok": sum(s < 300 for s in statuses), "statuses": sorted(set(statuses))}


if __name__ == "__main__":
    from confirma_pipeline.api import encode_body
    from confirma_pipeline.sandbox.examples import sample_invoice

    url, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 32
    bodies = [json.loads(encode_body(sample_invoice(700_000_000 + i, rows=3))) for i in range(n)]
    print(push_all(url, token, bodies, threads))
