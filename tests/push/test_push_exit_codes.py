"""`confirma-pipeline push` tells cron what happened: 4 when the API cannot be reached, 3 when rows are
left failed, unknown or waiting for an operator, 0 when everything was done."""

from __future__ import annotations

from push_helpers import PROVISIONING_TOKEN, make_client

from confirma_pipeline import settings
from confirma_pipeline.api import ConfirmaClient
from confirma_pipeline.cli import main
from confirma_pipeline.errors import ExitCode


def test_unreachable_api_exits_4(seeded, vault, monkeypatch, capsys):
    from confirma_pipeline.sandbox.control_client import free_port

    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setattr(
        settings,
        "api_client",
        lambda **_: ConfirmaClient(
            dead, PROVISIONING_TOKEN, max_retries=2, backoff_base_s=0.001, backoff_max_s=0.01
        ),
    )
    assert main(["push"]) == ExitCode.UNREACHABLE
    out = capsys.readouterr().out
    assert "unreachable" in out and dead in out


def test_client_left_ambiguous_exits_3_then_0_once_settled(seeded, sandbox, vault, monkeypatch, capsys):
    monkeypatch.setattr(settings, "api_client", lambda **_: make_client(sandbox))
    sandbox.control.set_faults(drop_after_commit_rate=1.0)
    assert main(["push", "--only", "clients", "--creditor-id", "CRED-0001"]) == ExitCode.PARTIAL
    assert "unknown 1" in capsys.readouterr().out
    sandbox.control.clear_faults()
    assert main(["clients", "resolve", "--creditor-id", "CRED-0001", "--not-created"]) == ExitCode.OK
    assert main(["push", "--only", "clients", "--creditor-id", "CRED-0001"]) == ExitCode.OK
