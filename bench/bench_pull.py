"""Goal 2 of issue 16: the pull against the hand-written script (requests + json_normalize + to_sql).

Not a test. Run: `.venv/bin/python bench/bench_pull.py [--payments 100000] [--settlements 2000]
[--sizes 10000 100000]`.

A sandbox process serves a state written for the benchmark: --clients clients, N payments spread over them
and one month, and --settlements settlements (one allocation, two breakdown items each). An embedded
PostgreSQL holds the migrated warehouse with those clients and their tokens. In one run, per size N:

  project   pull_payments + pull_settlements (range mode) over the month: fetch, validate, write
  script    bench/script_pull_requests.py into its own schema (the baseline)

Measured: the server floor (bare GETs of every answer, bytes only, sequential: the sandbox's share), wall s, rows/s (payments + settlements), ratio script / project (goal: >= 2), the project's peak RSS
(psutil sampler; goal: flat in N). Writes bench/results/pull.json and prints a markdown table with the load
average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, RssPeak, embedded_postgres, md_table, write_result  # noqa: E402
from script_pull_requests import pull_all  # noqa: E402

from confirma_pipeline.api import ConfirmaClient  # noqa: E402
from confirma_pipeline.pull.payments import pull_payments  # noqa: E402
from confirma_pipeline.pull.settlements import pull_settlements  # noqa: E402
from confirma_pipeline.pull.window import Window  # noqa: E402
from confirma_pipeline.run.context import RunContext  # noqa: E402
from confirma_pipeline.sandbox import start_sandbox_process, stop_sandbox_process  # noqa: E402
from confirma_pipeline.sandbox.examples import client_body  # noqa: E402
from confirma_pipeline.vault import TokenVault, generate_key
from confirma_pipeline.warehouse.client_tokens import store_token  # noqa: E402
from confirma_pipeline.warehouse.migrations import apply_migrations  # noqa: E402

TOKEN = "bench-pull-provisioning-token"
START = dt.date(2025, 12, 1)
WINDOW = Window(dt.date(2025, 11, 1), dt.date(2025, 11, 30))
TARGET_RATIO = 2.0


def _write_state(state_file: Path, n_payments: int, n_settlements: int) -> None:
    """Add payments and settlements to the saved state of a sandbox whose clients were onboarded."""
    state = json.loads(state_file.read_text())
    rng = random.Random(n_payments)
    clients = [c["clientIdentifier"] for c in state["clients"]]
    payments = state["payments"]
    for i in range(n_payments):
        day = WINDOW.start + dt.timedelta(days=rng.randrange(WINDOW.days))
        moment = f"{day.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"
        ref = f"{1000 + i}{i % 7}"
        payments.append({
            "clientIdentifier": clients[i % len(clients)], "caseId": 500_000 + i, "invoiceNumber": str(26_000_000 + i),
            "invoicePaymentReference": ref, "originalPaymentReference": ref, "accountName": f"Maksaja {i} Oy",
            "bookingDate": moment, "paymentDate": moment, "amount": f"{rng.randrange(100, 100_000) / 100:.2f}",
            "currency": "EUR", "parts": {}, "settled": True,
        })  # fmt: skip
    for i in range(n_settlements):
        day = WINDOW.start + dt.timedelta(days=i % WINDOW.days)
        capital, interest = Decimal(rng.randrange(100, 100_000)) / 100, Decimal(rng.randrange(0, 500)) / 100
        total = str(capital + interest)
        state["settlements"].append({
            "clientIdentifier": clients[i % len(clients)], "settlementId": 9_000_000 + i,
            "settlementDate": day.isoformat(), "agency": "CASH-IN", "remittanceReference": f"{9_000_000 + i}",
            "beneficiary": {"name": "Velkoja Oy", "iban": "FI2112345600000785", "bic": "NDEAFIHH"},
            "settlementAmount": total, "currency": "EUR", "apiFetchDate": None,
            "allocations": [{
                "allocationId": 70_000_000 + i, "allocatedTotalAmount": total, "allocationDate": day.isoformat(),
                "currency": "EUR", "caseId": 600_000 + i, "originalInvoiceNumber": str(27_000_000 + i),
                "originalPaymentReference": f"{2000 + i}",
                "breakdown": [{"type": "CAPITAL", "amount": str(capital)}, {"type": "INTEREST", "amount": str(interest)}],
            }],
        })  # fmt: skip
    state_file.write_text(json.dumps(state))


def _sandbox_with_data(base: Path, n_clients: int, n_payments: int, n_settlements: int):
    state_file = base / f"state-{n_payments}.json"
    process, url = start_sandbox_process(provisioning_token=TOKEN, state_file=state_file, start_date=START)
    try:
        with ConfirmaClient(url, TOKEN) as api:
            answers = {f"CRED-{i:03d}": api.create_client(client_body(i + 1)) for i in range(n_clients)}
        tokens = {k: (a.access_token, a.client_identifier) for k, a in answers.items()}
    finally:
        stop_sandbox_process(process)
    # In a child process, so that the million records built here never count in the pull's RSS.
    child = multiprocessing.get_context("spawn").Process(
        target=_write_state, args=(state_file, n_payments, n_settlements)
    )
    child.start()
    child.join()
    if child.exitcode:
        raise RuntimeError(f"writing the sandbox state failed ({child.exitcode})")
    process, url = start_sandbox_process(  # loading a million payments takes minutes on a busy box
        provisioning_token=TOKEN, state_file=state_file, start_date=START, timeout_s=600
    )
    return process, url, tokens


def _server_floor(url: str, tokens: dict[str, str]) -> float:
    """Seconds for the bare GETs of every client's payments and settlements answers, one after the other, bytes
    only (no parsing, no writing): the sandbox's share, which neither the pull nor the script can go below."""
    params = {"fromDate": WINDOW.start.isoformat(), "toDate": WINDOW.end.isoformat()}
    t0 = time.perf_counter()
    with httpx.Client(timeout=300) as http:
        for token in tokens.values():
            for path in ("payments", "settlements"):
                http.get(f"{url}/api/v1/partner/{path}", params=params, headers={"X-Api-Key": token}).read()
    return time.perf_counter() - t0


def _warehouse(uri: str, clients: dict[str, tuple[str, int]], vault: TokenVault) -> None:
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS script CASCADE")
        conn.execute("CREATE SCHEMA script")
        conn.execute("TRUNCATE confirma.clients CASCADE")
        for creditor_id, (token, client_id) in clients.items():
            conn.execute(
                "INSERT INTO confirma.clients (creditor_id, state, client_identifier) VALUES (%s, 'created', %s)",
                (creditor_id, client_id),
            )
            store_token(conn, vault, creditor_id, token, status="valid")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--payments", type=int, default=100_000, help="the size the verdict is taken at")
    parser.add_argument("--settlements", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--output", type=Path, default=RESULTS / "pull.json")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    sizes = sorted(set(args.sizes) | {args.payments})
    vault = TokenVault([generate_key()])
    rows = []
    with (
        embedded_postgres("bench-pull-") as (uri, _),
        tempfile.TemporaryDirectory(prefix="bench-pull-") as tmp,
    ):
        with psycopg.connect(uri, autocommit=True) as conn:
            apply_migrations(conn)
        engine = create_engine(uri.replace("postgresql://", "postgresql+psycopg://", 1))
        for n in sizes:
            settlements = max(1, args.settlements * n // args.payments)
            process, url, clients = _sandbox_with_data(Path(tmp), args.clients, n, settlements)
            tokens = {k: token for k, (token, _) in clients.items()}
            try:
                _warehouse(uri, clients, vault)
                with ConfirmaClient(url, TOKEN) as client, RssPeak() as rss:
                    t0 = time.perf_counter()
                    ctx = RunContext(uri, client, vault)
                    paid = pull_payments(ctx, WINDOW)
                    payments_s = time.perf_counter() - t0
                    settled = pull_settlements(ctx, WINDOW, mode="range")
                    project_s = time.perf_counter() - t0
                server_s = _server_floor(url, tokens)
                t0 = time.perf_counter()
                counts = pull_all(url, tokens, WINDOW.start.isoformat(), WINDOW.end.isoformat(), engine)
                script_s = time.perf_counter() - t0
            finally:
                stop_sandbox_process(process)
            assert counts["payments"] == n and paid.records == n, (counts, paid.records)
            records = n + settlements
            rows.append({
                "payments": n, "settlements": settlements, "project_s": round(project_s, 2),
                "project_payments_s": round(payments_s, 2), "project_settlements_s": round(project_s - payments_s, 2),
                "script_s": round(script_s, 2), "server_floor_s": round(server_s, 2), "project_rows_per_s": round(records / project_s),
                "script_rows_per_s": round(records / script_s), "script_over_project": round(script_s / project_s, 2),
                "project_peak_rss_mb": round(rss.peak_mb), "project_rss_added_mb": round(rss.peak_mb - rss.start_mb),
                "settlements_written": settled.records, "loadavg": round(os.getloadavg()[0], 2),
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
        engine.dispose()
    at = next(r for r in rows if r["payments"] == args.payments)
    verdict = at["script_over_project"] >= TARGET_RATIO
    table = md_table(
        ["payments", "settlements", "project s (payments + settlements)", "script s", "server floor s",
         "project rows/s", "script rows/s", "script ÷ project (>= 2)", "project peak RSS MB (added)", "load avg"],
        [[r["payments"], r["settlements"], f"{r['project_s']} ({r['project_payments_s']} + {r['project_settlements_s']})",
          r["script_s"], r["server_floor_s"], r["project_rows_per_s"],
          r["script_rows_per_s"], r["script_over_project"], f"{r['project_peak_rss_mb']} ({r['project_rss_added_mb']})",
          r["loadavg"]] for r in rows],
    )  # fmt: skip
    table += (
        f"\n\nAt {args.payments:,} payments: the pull is {at['script_over_project']} x the script's speed "
        f"(goal >= {TARGET_RATIO}: {'met' if verdict else '**MISSED**'})."
    )
    summary = {"results": rows, "target_ratio": TARGET_RATIO, "meets": verdict, "markdown": table}
    return write_result(args.output, summary, load_before, verdict)


if __name__ == "__main__":
    sys.exit(main())
