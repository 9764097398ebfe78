"""Every push records itself in confirma.sync_runs (CLI and Dagster), so the README's "invoices sent each
night, and how many failed" is one query."""

from __future__ import annotations

import dagster as dg
import psycopg
from push_helpers import make_client, sandbox_resources

from confirma_pipeline import settings
from confirma_pipeline.cli import main

NIGHTLY_QUERY = """
SELECT (started_at AT TIME ZONE 'Europe/Helsinki')::date AS night,
       sum((counts->>'pushed')::int) AS sent,
       sum((counts->>'failed_retry_next_run')::int + (counts->>'rejected_by_api')::int
           + (counts->>'outcome_unknown')::int) AS failed
FROM confirma.sync_runs
WHERE direction = 'push' AND entity = 'invoice'
  AND started_at >= date_trunc('month', now() AT TIME ZONE 'Europe/Helsinki') AT TIME ZONE 'Europe/Helsinki'
GROUP BY 1 ORDER BY 1
"""


def _rows(dsn):
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT run_id, job, entity, direction, status, counts, api_calls, duration_s >= 0, "
            "finished_at >= started_at FROM confirma.sync_runs ORDER BY id"
        ).fetchall()


def test_cli_push_records_one_row_per_entity_and_the_readme_query_answers(
    seeded, sandbox, vault, monkeypatch
):
    monkeypatch.setattr(settings, "api_client", lambda **_: make_client(sandbox))
    main(["push"])
    rows = _rows(seeded)
    assert [(r[2], r[3]) for r in rows] == [("client", "push"), ("invoice", "push")]
    assert (
        rows[0][0] == rows[1][0] and rows[0][0].startswith("cli-") and rows[0][1] == "confirma-pipeline push"
    )
    clients, invoices = rows
    # the sample plants an invalid creditor: rejected by validation is a final, explained outcome (counted),
    # not a partial run (that is failed or unknown rows)
    assert clients[4] == "succeeded" and clients[5]["rejected_by_validation"] >= 1
    assert invoices[5]["pushed"] > 0 and invoices[6] >= invoices[5]["pushed"] and all(invoices[7:])
    with psycopg.connect(seeded) as conn:
        (night, sent, failed), *_ = conn.execute(NIGHTLY_QUERY).fetchall()
    assert sent == invoices[5]["pushed"] and failed == 0


def test_dagster_push_records_its_run_id_and_job(seeded, sandbox, vault):

    from confirma_pipeline.defs.onboarding.assets import onboarded_clients

    result = dg.materialize(
        [onboarded_clients],
        resources=sandbox_resources(seeded, sandbox),
    )
    (row,) = _rows(seeded)
    assert row[0] == result.run_id and row[1] == "__ephemeral_asset_job__" and row[2] == "client"
    assert row[5]["pushed"] > 0 and row[6] > 0
