"""The dry run an operator runs first tells the truth on the first night: with an empty registry it
validates and maps EVERY invoice, counts those whose client the same run would create, those that
would wait for their client, and the invalid ones; `--show N` prints bodies with personal data
masked; `--from/--to` limit by invoice date."""

from __future__ import annotations

import json

import psycopg
from test_push_exactly_once import _valid_invoice_numbers

from confirma_pipeline.push.invoices import push_invoices
from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.run.context import RunContext


def test_dry_run_on_an_empty_registry_reports_every_invoice(seeded, sandbox, api, vault, sample):
    dry = push_invoices(RunContext(seeded, None, vault), dry_run=True)
    total = len(sample.invoices)
    assert dry.would_send == 0
    assert dry.would_send_after_onboarding + dry.waiting_for_client + dry.rejected_validation == total
    assert dry.would_send_after_onboarding == len(_valid_invoice_numbers(sample))
    assert dry.waiting_for_client > 0  # the invalid creditor's valid invoices
    assert "waiting for their client" in dry.summary_line()

    onboard_clients(RunContext(seeded, api, vault, run_id="real"))
    real = push_invoices(RunContext(seeded, api, vault, run_id="real"))
    assert real.pushed == dry.would_send_after_onboarding


def test_show_masks_personal_fields_and_dates_limit_the_invoices(seeded, vault, sample, capsys):
    from confirma_pipeline.cli import main

    day = sample.invoices["invoice_date"].min()
    day = day.date().isoformat() if hasattr(day, "date") else str(day)
    on_that_day = int((sample.invoices["invoice_date"].astype(str).str[:10] == day).sum())
    assert main(["push", "--dry-run", "--only", "invoices", "--show", "2", "--from", day, "--to", day]) == 0
    out = capsys.readouterr().out
    summary = out.splitlines()[0]
    counted = sum(int(part.rsplit(" ", 1)[1]) for part in summary.split(": ", 1)[1].split(", ")[:4])
    assert counted == on_that_day  # would send, after onboarding, waiting, invalid: that day's invoices only

    bodies = json.loads("[" + out[out.index("\n{") :].replace("}\n{", "},{") + "]")
    assert len(bodies) == min(2, on_that_day)
    with psycopg.connect(seeded) as conn:
        names = {r[0] for r in conn.execute("SELECT buyer_name FROM confirma_source.invoices")}
    for body in bodies:
        buyer = body["invoice"]["parties"]["buyerParty"]
        assert buyer["name"] == "***" and buyer["address"]["street"] == "***"
        assert buyer["entityType"] in ("BUSINESS", "CONSUMER")
        assert not any(name in json.dumps(body) for name in names)
