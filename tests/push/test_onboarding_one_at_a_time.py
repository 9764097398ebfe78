"""create-client goes out one at a time: a crash between a POST and its commit leaves exactly one
client created at Confirma with its token lost (an operator's case), never several."""

from __future__ import annotations

import psycopg
import pytest

from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.run.context import RunContext


def test_a_crash_during_onboarding_leaves_one_client_for_an_operator(
    seeded, sandbox, api, vault, monkeypatch
):
    real = api.create_client
    calls = {"n": 0}

    def dies_after_the_second_post(body):
        calls["n"] += 1
        answer = real(body)  # created at Confirma ...
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed before the answer was committed")  # ... and the token lost
        return answer

    monkeypatch.setattr(api, "create_client", dies_after_the_second_post)
    with pytest.raises(KeyboardInterrupt):
        onboard_clients(RunContext(seeded, api, vault, run_id="crashed"))

    assert sandbox.control.state()["counts"]["clients"] == 2  # nothing was sent after the crash
    with psycopg.connect(seeded) as conn:
        states = dict(conn.execute("SELECT state, count(*) FROM confirma.clients GROUP BY 1").fetchall())
    assert states == {"created": 1, "in_flight": 1}
