"""The sandbox as a separate process: `python -m confirma_pipeline.sandbox`, clean stop, state kept."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from confirma_pipeline.api import ConfirmaClient
from confirma_pipeline.sandbox import SandboxControl, start_sandbox_process, stop_sandbox_process
from confirma_pipeline.sandbox.examples import client_body, sample_invoice

TOKEN = "process-test-provisioning"


def test_process_serves_stops_cleanly_and_keeps_state(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    process, url = start_sandbox_process(
        provisioning_token=TOKEN, state_file=state_file, seed=3, start_date=date(2026, 1, 5)
    )
    try:
        assert TOKEN not in " ".join(process.args)  # the token travels in the environment, not argv
        with ConfirmaClient(url, TOKEN) as api:
            token = api.create_client(client_body(8)).access_token
            api.create_invoice(token, sample_invoice(77))
        with SandboxControl(url) as control:
            assert control.state()["today"] == "2026-01-05"
    finally:
        assert stop_sandbox_process(process) == 0  # SIGTERM: graceful shutdown
    saved = json.loads(state_file.read_text())
    assert [c["businessCode"] for c in saved["clients"]] == [client_body(8)["client"]["businessCode"]]
    assert [inv["number"] for invs in saved["invoices"].values() for inv in invs] == [77]


def test_cli_refuses_non_loopback_hosts_without_allow_remote() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "confirma_pipeline.sandbox", "--host", "0.0.0.0", "--provisioning-token", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "--allow-remote" in result.stderr
