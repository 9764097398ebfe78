"""Two pushes at once: the run locked out of a client says which run holds it, and never reports the rows
that run is sending as unknown."""

from __future__ import annotations

import psycopg
from push_helpers import make_client

from confirma_pipeline import settings
from confirma_pipeline.cli import main
from confirma_pipeline.push.invoices import push_invoices
from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.warehouse import locks

OTHER_RUN = "run-other-4f2a"


def test_client_held_by_another_run_is_counted_named_and_not_unknown(
    seeded, sandbox, api, vault, monkeypatch, capsys
):
    onboard_clients(RunContext(seeded, api, vault))
    with psycopg.connect(seeded, autocommit=True) as conn:
        (held,) = conn.execute(
            "SELECT creditor_id FROM confirma.clients WHERE state = 'created' ORDER BY 1 LIMIT 1"
        ).fetchone()
    # The other run: holds the client's lock and has its invoices in flight (sending them right now).
    with psycopg.connect(
        seeded, autocommit=True, application_name=locks.application_name(OTHER_RUN)
    ) as other:
        assert locks.try_lock_clients(other, [held]) == [held]
        first = push_invoices(RunContext(seeded, api, vault, creditor_ids=[held]))
        assert first.pushed == 0 and first.held_by == {held: OTHER_RUN}
        other.execute(
            "INSERT INTO confirma.invoice_ledger (invoice_id, creditor_id, invoice_number, state, attempts, run_id, payload_hash) "
            "SELECT invoice_id, creditor_id, invoice_number, 'in_flight', 1, %s, 'x' FROM confirma_source.invoices "
            "WHERE creditor_id = %s ON CONFLICT DO NOTHING",
            (OTHER_RUN, held),
        )
        report = push_invoices(RunContext(seeded, api, vault))
        assert report.held_by == {held: OTHER_RUN} and report.clients_locked_elsewhere == 1
        assert report.unknown == 0  # the other run's rows in flight are not this run's unknowns
        assert f"skipped 1 client(s) another run holds: {OTHER_RUN} (1)" in report.summary_line()

        monkeypatch.setattr(settings, "api_client", lambda **_: make_client(sandbox))
        main(["push", "--only", "invoices"])
        assert OTHER_RUN in capsys.readouterr().out
