"""Ledger vouchers and accounting payments: sent exactly once, bad ones explained, interruptions looked up."""

from __future__ import annotations

import psycopg
import pytest
from accounting_helpers import expected_identifiers, journal_counts, onboard_and_seed
from push_helpers import make_client

from confirma_pipeline.push.accounting import push_accounting
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.warehouse import accounting_submissions as subs


def test_vouchers_and_payments_end_to_end_exactly_once(seeded, sandbox, api, vault):
    sample = onboard_and_seed(seeded, api, vault)
    first = push_accounting(RunContext(seeded, api, vault, run_id="r1"))
    again = push_accounting(RunContext(seeded, api, vault, run_id="r2"))

    ledgers, payments = journal_counts(sandbox)
    assert set(ledgers) == expected_identifiers(sample, "ledger") and set(ledgers.values()) == {1}
    assert set(payments) == expected_identifiers(sample, "payment") and set(payments.values()) == {1}
    assert first["ledger"].pushed == len(ledgers) and first["payment"].pushed == len(payments)
    assert again["ledger"].pushed == again["payment"].pushed == 0
    assert again["ledger"].skipped_done == len(ledgers)
    # Payments travel in batches: one request per client here, not one per payment.
    assert len(sandbox.control.journal("accounting_payment")) == 3
    with psycopg.connect(seeded) as conn:
        states = dict(
            conn.execute(
                "SELECT kind || ':' || state, count(*) FROM confirma.accounting_submissions GROUP BY 1"
            )
        )
    assert states == {"ledger:submitted": len(ledgers), "payment:submitted": len(payments)}


def test_unbalanced_and_inconsistent_items_are_rejected_with_reasons(seeded, sandbox, api, vault):
    sample = onboard_and_seed(seeded, api, vault)
    report = push_accounting(RunContext(seeded, api, vault, run_id="r1"))

    ledgers, payments = journal_counts(sandbox)
    planted = set(sample.invalid)
    assert not {k.split("/")[1] for k in planted} & (set(ledgers) | set(payments))  # never reached Confirma
    with psycopg.connect(seeded) as conn:
        rejected = {
            key: (entity, checks, reason)
            for entity, key, checks, reason in conn.execute(
                "SELECT entity, entity_key, checks, reason FROM confirma.rejected_rows WHERE run_id = 'r1'"
            )
        }
    assert set(rejected) == planted
    creditor = next(iter(planted)).split("/")[0]
    entity, checks, reason = rejected[f"{creditor}/{creditor}-V8"]
    assert entity == "ledger_voucher" and checks == ["voucher_rows_balance"]
    assert "non-VAT row amounts sum to -10.00, not 0" in reason
    entity, checks, reason = rejected[f"{creditor}/{creditor}-V9"]
    assert "net_amount_matches_amount_and_vat" in checks
    assert "row 2: net_amount -2990.00 but amount -2990.00 at vat_percentage 25.5 gives -2382.47" in reason
    entity, checks, reason = rejected[f"{creditor}/{creditor}-P9"]
    assert entity == "accounting_payment" and checks == ["money_2_decimals"] and "10.005" in reason
    assert report["ledger"].rejected_validation == 2 and report["payment"].rejected_validation == 1

    # Unchanged bad items found again the next night are the same rejections, not new ones.
    push_accounting(RunContext(seeded, api, vault, run_id="r2"))
    with psycopg.connect(seeded) as conn:
        count = "SELECT count(*) FROM confirma.rejected_rows WHERE entity IN ('ledger_voucher', 'accounting_payment')"
        assert conn.execute(count).fetchone()[0] == len(planted)


@pytest.mark.parametrize("kind", ["ledger", "payment"])
def test_crash_between_post_and_commit_is_settled_by_the_status_look_up(
    seeded, sandbox, api, vault, kind, monkeypatch
):
    sample = onboard_and_seed(seeded, api, vault)
    real_record = subs.record_outcomes

    def crash_after_the_post(conn, k, creditor_id, outcomes):
        if k == kind and any(o.state == "submitted" for o in outcomes):
            raise KeyboardInterrupt("simulated crash after the POST, before its answer is committed")
        return real_record(conn, k, creditor_id, outcomes)

    monkeypatch.setattr(subs, "record_outcomes", crash_after_the_post)
    with pytest.raises(KeyboardInterrupt):
        push_accounting(RunContext(seeded, api, vault, run_id="crashed"))
    monkeypatch.setattr(subs, "record_outcomes", real_record)
    with psycopg.connect(seeded) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM confirma.accounting_submissions WHERE state = 'in_flight' AND kind = %s",
                (kind,),
            ).fetchone()[0]
            >= 1
        )

    report = push_accounting(RunContext(seeded, api, vault, run_id="rerun"))
    assert report[kind].recovered >= 1
    ledgers, payments = journal_counts(sandbox)
    assert set(ledgers) == expected_identifiers(sample, "ledger") and set(ledgers.values()) == {1}
    assert set(payments) == expected_identifiers(sample, "payment") and set(payments.values()) == {1}


def test_an_answer_that_cannot_be_understood_is_never_resent(seeded, sandbox, api, vault, monkeypatch):
    """The status look-up itself fails to parse: the items stay in flight (a check fails), nothing resent."""
    onboard_and_seed(seeded, api, vault)
    monkeypatch.setattr(
        type(api), "post_ledger", lambda self, token, body: (_ for _ in ()).throw(ValueError("?"))
    )
    push_accounting(RunContext(seeded, api, vault, run_id="r1"))
    assert journal_counts(sandbox)[0] == {}  # the POST was never made (patched), Confirma lacks them ...
    monkeypatch.undo()
    monkeypatch.setattr(
        type(api), "get_ledger_status", lambda self, *a, **k: (_ for _ in ()).throw(ValueError("unreadable"))
    )
    push_accounting(RunContext(seeded, api, vault, run_id="r2"))
    assert journal_counts(sandbox)[0] == {}  # ... but an unreadable look-up never leads to a resend
    with psycopg.connect(seeded) as conn:
        stuck = subs.stuck(conn, 5)
    assert stuck and {row[0] for row in stuck} == {"ledger"} and {row[3] for row in stuck} == {"in_flight"}


def test_faults_at_20_percent_still_end_exactly_once(seeded, sandbox, vault):
    """10 % 5xx before processing and 10 % connections dropped after the request was processed."""
    with make_client(sandbox, max_retries=8) as api:
        sample = onboard_and_seed(seeded, api, vault)
        sandbox.control.set_faults(error_rate=0.1, error_statuses=[500, 502, 503], drop_after_commit_rate=0.1)
        calls_before = api.calls_made
        for run in ("f1", "f2", "f3"):
            push_accounting(RunContext(seeded, api, vault, run_id=run))
        calls = api.calls_made - calls_before
    sandbox.control.clear_faults()
    assert calls > 6 + 3  # more than one call per voucher and per payment batch: faults were met and survived
    ledgers, payments = journal_counts(sandbox)
    assert set(ledgers) == expected_identifiers(sample, "ledger") and set(ledgers.values()) == {1}
    assert set(payments) == expected_identifiers(sample, "payment") and set(payments.values()) == {1}
