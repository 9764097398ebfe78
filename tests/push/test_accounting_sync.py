"""Accounting sync status over simulated days: pending, then synced or failed with a reason; 204 when empty."""

from __future__ import annotations

import psycopg
from accounting_helpers import expected_identifiers, onboard_and_seed

from confirma_pipeline.api import contract as c
from confirma_pipeline.pull.accounting_sync import pull_accounting_sync
from confirma_pipeline.push.accounting import push_accounting
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.sandbox.accounting import FAILURE_DESCRIPTIONS
from confirma_pipeline.warehouse import accounting_submissions as subs
from confirma_pipeline.warehouse.client_tokens import load_tokens


def _statuses(dsn) -> dict[str, tuple[int, str | None, object]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT source_identifier, status, status_text, sync_date FROM confirma.accounting_sync"
        )
        return {ident: (status, text, day) for ident, status, text, day in rows}


def test_statuses_over_simulated_days(seeded, sandbox, api, vault):
    sample = onboard_and_seed(seeded, api, vault)
    sandbox.control.set_accounting(failure_rate=0.3, sync_delay_days=2)
    push_accounting(RunContext(seeded, api, vault, run_id="r1"))
    sent = expected_identifiers(sample, "ledger") | expected_identifiers(sample, "payment")

    pull_accounting_sync(dsn=seeded, client=api, vault=vault)
    assert {s for s, *_ in _statuses(seeded).values()} == {c.SYNC_PENDING}
    assert set(_statuses(seeded)) == sent  # listed from the moment they were queued

    sandbox.control.advance(1)
    report = pull_accounting_sync(dsn=seeded, client=api, vault=vault)
    assert {s for s, *_ in _statuses(seeded).values()} == {c.SYNC_PENDING}  # still within the sync delay
    assert report.written["confirma.accounting_sync"]["unchanged"] == len(sent)

    sandbox.control.advance(1)
    report = pull_accounting_sync(dsn=seeded, client=api, vault=vault)
    statuses = _statuses(seeded)
    synced = {i for i, (s, *_) in statuses.items() if s == c.SYNC_SYNCED}
    failed = {i: text for i, (s, text, _) in statuses.items() if s == c.SYNC_FAILED}
    assert synced and failed and synced | set(failed) == sent
    assert set(failed.values()) <= set(FAILURE_DESCRIPTIONS)
    assert all(statuses[i][2] is not None for i in synced)  # a sync date
    assert report.calls > 0 and report.written["confirma.accounting_sync"]["updated"] == len(sent)
    with psycopg.connect(seeded) as conn:
        assert {r[2] for r in subs.failed_syncs(conn)} == set(failed)
        assert subs.pending_too_long(conn, 0) == []

    # Nothing is waiting any more: the next pull asks nothing.
    assert pull_accounting_sync(dsn=seeded, client=api, vault=vault).calls == 0


def test_pending_too_long_and_204_when_nothing_matches(seeded, sandbox, api, vault):
    onboard_and_seed(seeded, api, vault, n_creditors=1)
    push_accounting(RunContext(seeded, api, vault, run_id="r1"))
    pull_accounting_sync(dsn=seeded, client=api, vault=vault)
    with psycopg.connect(seeded) as conn:
        assert subs.pending_too_long(conn, 3) == []
        conn.execute("UPDATE confirma.accounting_submissions SET submitted_at = now() - interval '4 days'")
        late = subs.pending_too_long(conn, 3)
        assert late and {r[4] for r in late} == {"Pending"}
        creditor_id = late[0][1]
        token = load_tokens(conn, vault, [creditor_id])[creditor_id]
    for path in (c.PATH_LEDGER, c.PATH_ACCOUNTING_PAYMENT):
        answer = api.http.get(
            sandbox.url + path,
            headers={c.API_KEY_HEADER: token},
            params={c.Q_FROM_DATE: "2001-01-01", c.Q_TO_DATE: "2001-01-31"},
        )
        assert answer.status_code == 204 and answer.content == b""
