"""`warehouse start` twice attaches instead of failing; `stop` stops; `uri` hides passwords."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

from confirma_pipeline.warehouse.embedded import locate

CLI = [sys.executable, "-m", "confirma_pipeline.cli"]


def _run(args, env):
    return subprocess.run(CLI + args, env=env, capture_output=True, text=True, timeout=120)


def test_start_attach_migrate_uri_stop():
    data_dir = Path(tempfile.mkdtemp(prefix="cpw-", dir="/var/tmp"))
    env = {k: v for k, v in os.environ.items() if k != "WAREHOUSE_DSN"}
    env["CONFIRMA_DATA_DIR"] = str(data_dir)
    try:
        first = _run(["warehouse", "start"], env)
        assert first.returncode == 0, first.stderr
        assert "started" in first.stdout and str(data_dir) in first.stdout
        second = _run(["warehouse", "start"], env)
        assert second.returncode == 0, second.stderr
        assert "attached" in second.stdout
        assert _run(["warehouse", "migrate"], env).returncode == 0
        uri = _run(["warehouse", "uri"], env).stdout.strip()
        with psycopg.connect(uri) as conn:  # the printed URI works for a client as is
            assert conn.execute("SELECT count(*) FROM confirma.schema_migrations").fetchone()[0] >= 3
        status = _run(["warehouse", "status"], env)
        assert status.returncode == 0 and "running" in status.stdout
    finally:
        stopped = _run(["warehouse", "stop"], env)
        assert stopped.returncode == 0 and "stopped" in stopped.stdout
        assert _run(["warehouse", "status"], env).returncode == 4  # ExitCode.UNREACHABLE
        pgdata = locate(data_dir).pgdata
        shutil.rmtree(data_dir, ignore_errors=True)
        if pgdata.parent != data_dir:  # the root fallback outside a private parent directory
            shutil.rmtree(pgdata.parent, ignore_errors=True)
