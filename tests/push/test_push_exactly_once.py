"""Exactly-once push against the sandbox over loopback and a real PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter

import psycopg
import pytest
from push_helpers import journal_invoices, make_client, table_snapshot

from confirma_pipeline.errors import ConfigError
from confirma_pipeline.push.invoices import push_invoices
from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.push.settings import PushSettings
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.warehouse import submission_ledger

SMALL = PushSettings(concurrency=8, claim_batch=7, outcome_batch=5)


def _valid_invoice_numbers(sample) -> set[int]:
    bad_creditors = {k for k in sample.invalid if k.startswith("CRED-")}
    inv = sample.invoices
    ok = ~inv["invoice_id"].isin(list(sample.invalid)) & ~inv["creditor_id"].isin(list(bad_creditors))
    return set(inv.loc[ok, "invoice_number"].astype(int))


def _push_all(dsn, api, vault, settings=SMALL, **kw):
    clients = onboard_clients(RunContext(dsn, api, vault, settings=settings, run_id="r1"), **kw)
    invoices = push_invoices(RunContext(dsn, api, vault, settings=settings, run_id="r1"), **kw)
    return clients, invoices


def test_dry_run_sends_and_writes_nothing_and_predicts_the_real_run(seeded, sandbox, api, vault, sample):
    before = table_snapshot(seeded)
    dry_clients = onboard_clients(RunContext(seeded, None, None), dry_run=True)
    assert table_snapshot(seeded) == before
    assert sandbox.control.journal() == []
    assert dry_clients.would_send == 5 and dry_clients.rejected_validation == 1
    assert dry_clients.rejected_sample and "CRED-0006" in dry_clients.rejected_sample[0][1]

    real_clients = onboard_clients(RunContext(seeded, api, vault, run_id="real"))
    assert real_clients.pushed == dry_clients.would_send
    assert real_clients.rejected_validation == dry_clients.rejected_validation

    before = table_snapshot(seeded)
    dry_invoices = push_invoices(RunContext(seeded, None, vault), dry_run=True)
    assert table_snapshot(seeded) == before
    assert journal_invoices(sandbox) == []
    real_invoices = push_invoices(RunContext(seeded, api, vault, run_id="real"))
    assert real_invoices.pushed == dry_invoices.would_send > 0
    assert real_invoices.rejected_validation == dry_invoices.rejected_validation > 0
    for cid, counts in dry_invoices.per_client.items():
        assert counts["would_send"] == real_invoices.per_client[cid]["submitted"]


def test_every_valid_row_sent_once_every_invalid_row_explained(seeded, sandbox, api, vault, sample):
    clients, invoices = _push_all(seeded, api, vault)
    expected = _valid_invoice_numbers(sample)
    sent = journal_invoices(sandbox)
    assert Counter(sent) == Counter(expected)  # each valid invoice exactly once, nothing else

    with psycopg.connect(seeded) as conn:
        rejected = {
            key: (checks, reason)
            for key, checks, reason in conn.execute(
                "SELECT entity_key, checks, reason FROM confirma.rejected_rows WHERE resolved_at IS NULL"
            )
        }
        states = dict(
            conn.execute("SELECT state, count(*) FROM confirma.invoice_ledger GROUP BY 1").fetchall()
        )
    for key, check in sample.invalid.items():
        if key.startswith("CRED-"):
            assert key in rejected, key
        else:
            assert key in rejected, key
            checks, reason = rejected[key]
            assert any(check in c or c in check for c in checks) or check in reason, (
                key,
                check,
                rejected[key],
            )
    assert states == {"submitted": len(expected)}

    # a second run sends nothing
    again_clients, again = _push_all(seeded, api, vault)
    assert again.pushed == 0 and again_clients.pushed == 0
    assert again.requests == 0 and again_clients.requests == 0
    assert Counter(journal_invoices(sandbox)) == Counter(expected)


def test_crash_between_post_and_commit_does_not_resend(seeded, sandbox, api, vault, sample, monkeypatch):
    onboard_clients(RunContext(seeded, api, vault, run_id="setup"))
    real_record = submission_ledger.record_outcomes
    calls = {"n": 0}

    def crash_after_first_batch(conn, outcomes):
        calls["n"] += 1
        if calls["n"] == 2:  # answers of the second batch arrive but the process "dies" before commit
            raise KeyboardInterrupt("simulated crash")
        return real_record(conn, outcomes)

    monkeypatch.setattr(submission_ledger, "record_outcomes", crash_after_first_batch)
    with pytest.raises(KeyboardInterrupt):
        push_invoices(RunContext(seeded, api, vault, settings=SMALL, run_id="crashed"))
    monkeypatch.setattr(submission_ledger, "record_outcomes", real_record)
    with psycopg.connect(seeded) as conn:
        in_flight = conn.execute(
            "SELECT count(*) FROM confirma.invoice_ledger WHERE state = 'in_flight'"
        ).fetchone()[0]
    assert in_flight > 0  # the crash left sent-but-unrecorded rows behind

    report = push_invoices(RunContext(seeded, api, vault, settings=SMALL, run_id="rerun"))
    assert report.recovered >= 1
    sent = journal_invoices(sandbox)
    assert Counter(sent) == Counter(_valid_invoice_numbers(sample))
    assert max(Counter(sent).values()) == 1


def test_faults_at_20_percent_still_end_exactly_once(seeded, sandbox, vault, sample):
    """20% of partner calls fail before processing (500/502/503 and 429 with Retry-After: 0). A 500 or
    502 on a create is ambiguous for the client: the row stays in flight, is looked up, and resent only
    when Confirma does not have it. Clients are onboarded first: an ambiguous create-client is settled by
    an operator, never resent (tested elsewhere)."""
    with make_client(sandbox, max_retries=8) as api:
        onboard_clients(RunContext(seeded, api, vault, settings=SMALL, run_id="setup"))
        sandbox.control.set_faults(
            error_rate=0.1, error_statuses=[500, 502, 503], rate_limit_rate=0.1, retry_after_s=0
        )
        first = push_invoices(RunContext(seeded, api, vault, settings=SMALL, run_id="f1"))
        push_invoices(RunContext(seeded, api, vault, settings=SMALL, run_id="f2"))
    sandbox.control.clear_faults()
    assert first.requests > len(_valid_invoice_numbers(sample))  # faults really happened and were retried
    sent = Counter(journal_invoices(sandbox))
    assert sent == Counter(_valid_invoice_numbers(sample))


def test_two_concurrent_runs_send_each_invoice_once(seeded, sandbox, vault, sample):
    with make_client(sandbox) as api:
        onboard_clients(RunContext(seeded, api, vault, run_id="setup"))
    reports, errors = [], []

    def run(name):
        try:
            with make_client(sandbox) as api:
                reports.append(push_invoices(RunContext(seeded, api, vault, settings=SMALL, run_id=name)))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"run-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    sent = Counter(journal_invoices(sandbox))
    assert sent == Counter(_valid_invoice_numbers(sample))
    assert sum(r.pushed for r in reports) == len(_valid_invoice_numbers(sample))


def test_tokens_never_in_plaintext_nor_in_logs(seeded, sandbox, api, vault, caplog):
    caplog.set_level("DEBUG")
    _push_all(seeded, api, vault)
    with psycopg.connect(seeded) as conn:
        tokens = [
            vault.decrypt(bytes(c))
            for (c,) in conn.execute("SELECT token_ciphertext FROM confirma.client_tokens")
        ]
        raw = (
            conn.execute("SELECT string_agg(t::text, '|') FROM confirma.client_tokens t").fetchone()[0]
            + conn.execute("SELECT string_agg(c::text, '|') FROM confirma.clients c").fetchone()[0]
        )
        dump = b"".join(
            bytes(r[0]) for r in conn.execute("SELECT token_ciphertext FROM confirma.client_tokens")
        )
    assert len(tokens) == 5
    for token in tokens:
        assert token not in raw
        assert token.encode() not in dump
        assert token not in caplog.text


def test_missing_key_or_provisioning_token_fails_naming_the_variable(seeded, sandbox, monkeypatch):
    from confirma_pipeline import settings

    monkeypatch.delenv("CONFIRMA_TOKEN_KEY", raising=False)
    monkeypatch.delenv("CONFIRMA_TOKEN_KEY_FILE", raising=False)
    with pytest.raises(ConfigError, match="CONFIRMA_TOKEN_KEY"):
        settings.token_vault()
    monkeypatch.setenv("CONFIRMA_SANDBOX_URL", sandbox.url)
    monkeypatch.delenv("CONFIRMA_PROVISIONING_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="CONFIRMA_PROVISIONING_TOKEN"):
        settings.api_client(require_provisioning=True)


def test_invoice_number_reused_under_another_id_is_refused_across_chunks(seeded, sandbox, api, vault, sample):
    """One chunk per invoice: the copy is prepared while the original is being sent, and must still be
    refused before it is registered (the ledger's (creditor, number) is unique)."""
    with psycopg.connect(seeded) as conn:
        original = conn.execute(
            "SELECT invoice_id, invoice_number FROM confirma_source.invoices "
            "WHERE creditor_id = 'CRED-0001' ORDER BY invoice_id LIMIT 1"
        ).fetchone()
        conn.execute(
            "INSERT INTO confirma_source.invoices SELECT (jsonb_populate_record(i, "
            "jsonb_build_object('invoice_id', 'ZZ-COPY'))).* FROM confirma_source.invoices i WHERE invoice_id = %s",
            (original[0],),
        )
        conn.execute(
            "INSERT INTO confirma_source.invoice_rows SELECT (jsonb_populate_record(r, "
            "jsonb_build_object('invoice_id', 'ZZ-COPY'))).* FROM confirma_source.invoice_rows r WHERE invoice_id = %s",
            (original[0],),
        )
    one_per_chunk = PushSettings(concurrency=4, chunk_size=1, claim_batch=3, outcome_batch=2)
    onboard_clients(RunContext(seeded, api, vault, run_id="r"))
    push_invoices(
        RunContext(seeded, api, vault, settings=one_per_chunk, run_id="r", creditor_ids=["CRED-0001"])
    )
    assert journal_invoices(sandbox).count(original[1]) == 1
    with psycopg.connect(seeded) as conn:
        checks = conn.execute(
            "SELECT checks FROM confirma.rejected_rows WHERE entity_key = 'ZZ-COPY'"
        ).fetchone()[0]
    assert checks == ["invoice_number_not_used_by_another_invoice"]
