"""Two pushes at once: the run locked out of a client says which run holds it, and never reports the rows
that run is sending as unknown."""

from __future__ import annotations

import zlib
from collections import Counter

import psycopg
import pytest
from push_helpers import make_client

from confirma_pipeline import settings
from confirma_pipeline.cli import main
from confirma_pipeline.push.invoices import push_invoices
from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.run.shard import Shard
from confirma_pipeline.sandbox import SandboxControl
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


def test_shards_split_the_clients_by_a_stable_hash_and_together_push_everything_once(
    seeded, sandbox, api, vault, monkeypatch, capsys
):
    """`--shard I/K`: each process takes the clients whose CRC-32 of creditor_id modulo K is I; the K runs
    together send every invoice exactly once, and a bad shard fails at once naming the option."""
    onboard_clients(RunContext(seeded, api, vault))
    with psycopg.connect(seeded, autocommit=True) as conn:
        clients = [
            r[0] for r in conn.execute("SELECT creditor_id FROM confirma.clients WHERE state = 'created'")
        ]
    first, second = Shard(0, 2).pick(clients), Shard(1, 2).pick(clients)
    assert first and second and sorted(first + second) == sorted(clients)
    assert all(zlib.crc32(c.encode()) % 2 == 0 for c in first)  # stable: no per-process salt

    report = push_invoices(RunContext(seeded, api, vault), shard=Shard(0, 2))
    with psycopg.connect(seeded, autocommit=True) as conn:
        sent = {r[0] for r in conn.execute("SELECT DISTINCT creditor_id FROM confirma.invoice_ledger")}
    assert report.pushed and sent == set(first)

    monkeypatch.setattr(settings, "api_client", lambda **_: make_client(sandbox))
    main(["push", "--only", "invoices", "--shard", "1/2"])
    with psycopg.connect(seeded, autocommit=True) as conn:
        by_client = dict(
            conn.execute("SELECT creditor_id, count(*) FROM confirma.invoice_ledger GROUP BY 1").fetchall()
        )
        expected = dict(
            conn.execute(
                "SELECT creditor_id, count(*) FROM confirma_source.invoices WHERE creditor_id = ANY(%s) "
                "GROUP BY 1",
                (clients,),
            ).fetchall()
        )
    assert set(by_client) == set(clients)
    journal = Counter(
        (e["clientIdentifier"], e["invoiceNumber"]) for e in SandboxControl(sandbox.url).journal("invoice")
    )
    assert journal and max(journal.values()) == 1  # nothing sent twice across the shards
    assert sum(by_client.values()) <= sum(expected.values())

    # invoices waiting for their client (creditors rejected or not onboarded): each shard counts those of
    # the creditors it holds, so K shards' reports add up to the night's count, never K times it
    from confirma_pipeline.warehouse.submission_ledger import waiting_for_client

    with psycopg.connect(seeded, autocommit=True) as conn:
        night = waiting_for_client(conn, "confirma_source.invoices", None)
    shards = [push_invoices(RunContext(seeded, api, vault), shard=Shard(i, 2)) for i in (0, 1)]
    assert night > 0 and sum(r.waiting_for_client for r in shards) == night
    assert all(r.pushed == 0 for r in shards)

    with pytest.raises(SystemExit):
        main(["push", "--only", "invoices", "--shard", "2/2"])
    assert "--shard: shard must be I/K with 0 <= I < K" in capsys.readouterr().err
