"""Crash trials under each sandbox variant (sandbox/variants.py): the push is killed (SIGKILL, in a
subprocess) while sending, and again while recovering; a last run finishes. Every variant runs with
`accepts_duplicates`, so a resend would show as a second acceptance in the sandbox's journal.

- no invoice is accepted twice;
- where the look-up answer cannot be understood (records under another key, no totalCount, a 30-day
  cut), the interrupted rows stay in flight with the reason, counted unknown by the stuck check;
- what a killed recovery learned before it died is kept (committed per answer)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from push_helpers import journal_invoices

from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.warehouse import submission_ledger

CHILD = Path(__file__).with_name("crash_child.py")
POLL_S = 0.02
TIMEOUT_S = 120.0


def _start(dsn: str, sandbox, run_id: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(CHILD), dsn, sandbox.url, run_id],
        cwd=CHILD.parent,
        env={**os.environ, "PYTHONPATH": str(CHILD.parent)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _kill_when(process: subprocess.Popen, condition) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "the condition to kill on never came"
        time.sleep(POLL_S)
    process.send_signal(signal.SIGKILL)
    process.wait(30)


def _scalar(dsn: str, query: str, *params):
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchone()[0]


SETTLED = (
    "SELECT count(*) FROM confirma.invoice_ledger WHERE invoice_id = ANY(%s) "
    "AND (state <> 'in_flight' OR last_error LIKE 'outcome unknown after look-up%%')"
)

EXPECTED_UNKNOWN_REASON = {
    "records_key": "no record list under 'distributions'",
    "no_total_count": "totalCount missing",
    "cut_30_days": "does not cover the invoice's date",
}


@pytest.mark.parametrize("variant", ["standard", "records_key", "no_total_count", "cut_30_days"])
def test_killed_push_and_killed_recovery_never_accept_an_invoice_twice(seeded, sandbox, api, vault, variant):
    onboard_clients(RunContext(seeded, api, vault, run_id="setup"))
    sandbox.control.set_variants("accepts_duplicates")
    sandbox.control.set_faults(latency_ms=40)

    # 1. killed while sending: answers not committed, rows left in flight
    sending = _start(seeded, sandbox, "killed-sending")
    _kill_when(sending, lambda: len(journal_invoices(sandbox)) >= 6)
    with psycopg.connect(seeded) as conn:
        interrupted = [
            r[0]
            for r in conn.execute("SELECT invoice_id FROM confirma.invoice_ledger WHERE state = 'in_flight'")
        ]
    assert len(interrupted) >= 6

    # 2. the API now answers as the variant says; killed while recovering, after a first answer is committed
    if variant == "cut_30_days":
        sandbox.control.advance(40)  # the interrupted invoices are now older than the cut
    sandbox.control.set_variants("accepts_duplicates", *([] if variant == "standard" else [variant]))
    sandbox.control.set_faults(latency_ms=300)
    recovering = _start(seeded, sandbox, "killed-recovering")
    _kill_when(recovering, lambda: _scalar(seeded, SETTLED, interrupted) >= 1)
    kept = _scalar(seeded, SETTLED, interrupted)
    assert kept >= 1  # what the killed recovery learned is committed

    # 3. a run that finishes
    sandbox.control.set_faults(latency_ms=0)
    final = _start(seeded, sandbox, "final")
    out, err = final.communicate(timeout=TIMEOUT_S)
    assert final.returncode == 0, err.decode()[-2000:]
    assert _scalar(seeded, SETTLED, interrupted) >= kept

    accepted = Counter(journal_invoices(sandbox))
    assert accepted and max(accepted.values()) == 1, [n for n, k in accepted.items() if k > 1]
    with psycopg.connect(seeded) as conn:
        stuck = submission_ledger.stuck(conn, max_attempts=5)
    if variant == "standard":
        assert stuck == []
    else:
        assert stuck, "rows whose look-up was not understood must stay in flight"
        assert {row[0] for row in stuck} <= set(interrupted)
        for _, _, _, state, _, reason in stuck:
            assert state == "in_flight"
            assert EXPECTED_UNKNOWN_REASON[variant] in reason, reason
        assert "unknown" in out.decode()
