"""Alerts reach a real HTTP receiver on 127.0.0.1: one per failed run (naming the job and the failed step),
one per failed ERROR check, bounded retries, and never a token in any body."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import psycopg
import pytest

from confirma_pipeline.alert_webhook import Alert, payload
from confirma_pipeline.defs.alerting import NotifierResource, check_alerts, run_failure_alert
from confirma_pipeline.local.sample_data import build_sample, seed_warehouse
from confirma_pipeline.vault import generate_key

PROVISIONING_TOKEN = "test-provisioning-token-3f9c"  # tests/conftest.py's sandbox
UI = "http://127.0.0.1:3000"


class Receiver:
    """A webhook receiver: records every JSON body; answers the statuses in `script`, then 200."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.raw: list[str] = []
        self.script: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                text = self.rfile.read(int(self.headers["Content-Length"])).decode()
                receiver.raw.append(text)
                receiver.bodies.append(json.loads(text))
                self.send_response(receiver.script.pop(0) if receiver.script else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook/T0/B0/s3cr3t-hook-path"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def world(warehouse_dsn, sandbox, monkeypatch):
    """A seeded warehouse and the code location's settings pointing at the sandbox."""
    with psycopg.connect(warehouse_dsn) as conn:
        seed_warehouse(
            conn,
            build_sample(
                3, 2, start=dt.date(2025, 11, 20), days=5, invalid_creditors=0, invalid_invoices_per_kind=0
            ),
        )
    monkeypatch.setenv("CONFIRMA_SANDBOX_URL", sandbox.url)
    monkeypatch.setenv("CONFIRMA_PROVISIONING_TOKEN", PROVISIONING_TOKEN)
    monkeypatch.setenv("CONFIRMA_TOKEN_KEY", generate_key())
    monkeypatch.setenv("CONFIRMA_UI_BASE_URL", UI)
    return warehouse_dsn


def _notifier(receiver: Receiver) -> NotifierResource:
    return NotifierResource(webhook_url=receiver.url, ui_base_url=UI, backoff_s=0.01)


def _assert_no_secret(receiver: Receiver) -> None:
    for text in receiver.raw:
        assert PROVISIONING_TOKEN not in text and "s3cr3t-hook-path" not in text
        assert "X-Api-Key" not in text


def test_failing_nightly_run_sends_one_alert_naming_job_and_step(world, sandbox, receiver):
    from confirma_pipeline.definitions import defs

    sandbox.control.set_faults(error_rate=1.0, error_statuses=[500])
    with dg.DagsterInstance.ephemeral() as instance:
        job = defs().resolve_job_def("nightly_sync")
        result = job.execute_in_process(instance=instance, partition_key="2025-11-25", raise_on_error=False)
        assert not result.success
        context = dg.build_run_status_sensor_context(
            sensor_name="confirma_run_failure_alert",
            dagster_event=result.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=instance.get_run_by_id(result.run_id),
            resources={"notifier": _notifier(receiver)},
        ).for_run_failure()
        run_failure_alert(context)
    assert len(receiver.bodies) == 1
    text = receiver.bodies[0]["text"]
    assert "nightly_sync" in text and "failed step: onboarded_clients" in text
    assert f"{UI}/runs/{result.run_id}" in text
    _assert_no_secret(receiver)
    with psycopg.connect(world) as conn:  # the run log says what the failed step did
        status, error = conn.execute(
            "SELECT status, error FROM confirma.sync_runs WHERE run_id = %s AND entity = 'client'",
            (result.run_id,),
        ).fetchone()
    assert status == "failed" and "none of" in error


def test_failed_error_check_sends_one_alert_once(world, sandbox, receiver):
    from confirma_pipeline.defs.onboarding.assets import onboarded_clients
    from confirma_pipeline.defs.onboarding.checks import clients_stuck
    from confirma_pipeline.defs.resources import build_resources

    sandbox.control.set_faults(drop_after_commit_rate=1.0)  # created at Confirma, answer lost: unknown
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [onboarded_clients, clients_stuck],
            resources=build_resources(),
            instance=instance,
            run_config={"ops": {"onboarded_clients": {"config": {"creditor_ids": ["CRED-0001"]}}}},
            raise_on_error=False,
        )
        evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
        assert evaluations["clients_stuck"].passed is False
        tokens = [e["accessToken"] for e in sandbox.control.journal("client") if "accessToken" in e]
        resources = {"notifier": _notifier(receiver)}
        with dg.build_sensor_context(instance=instance, cursor="0", resources=resources) as context:
            check_alerts(context)
            cursor = context.cursor
        with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
            check_alerts(context)  # the same evaluations are never alerted twice
    assert len(receiver.bodies) == 1
    text = receiver.bodies[0]["text"]
    assert "onboarded_clients:clients_stuck" in text and "ERROR" in text and result.run_id[:8] in text
    _assert_no_secret(receiver)
    for token in tokens:
        assert token not in receiver.raw[0]


def test_delivery_retries_a_bounded_number_of_times(receiver):
    notifier = _notifier(receiver)
    alert = Alert("error", "job nightly_sync failed")
    receiver.script = [500, 503]
    assert notifier.notify(alert, _Log()) is True and len(receiver.bodies) == 3
    receiver.script = [500] * 10
    assert notifier.notify(alert, _Log()) is False and len(receiver.bodies) == 6  # 3 more, then gave up
    receiver.script = [400]
    assert notifier.notify(alert, _Log()) is False and len(receiver.bodies) == 7  # a refusal is final


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)

    warning = info


def test_without_a_url_alerts_are_off_and_say_so():
    log = _Log()
    assert NotifierResource().notify(Alert("error", "job nightly_sync failed"), log) is False
    assert "alerts are off" in log.lines[0] and "CONFIRMA_ALERT_WEBHOOK_URL" in log.lines[0]


@pytest.mark.parametrize("fmt", ["slack", "teams", "json"])
def test_payload_shapes_carry_no_secret(fmt, monkeypatch):
    monkeypatch.setenv("CONFIRMA_PROVISIONING_TOKEN", PROVISIONING_TOKEN)
    alert = Alert(
        "error",
        "job nightly_sync failed",
        (f"failed step: x: postgresql://u:pw-123456@db/w refused {PROVISIONING_TOKEN}",),
        link=f"{UI}/runs/abc",
        facts={"job": "nightly_sync"},
    )
    body = payload(alert, fmt)
    text = json.dumps(body)
    assert "pw-123456" not in text and PROVISIONING_TOKEN not in text and "nightly_sync" in text
    assert ("@type" in body) == (fmt == "teams") and "text" in body
