"""Helpers of the accounting push tests: onboard the sample's clients and seed vouchers and payments."""

from __future__ import annotations

from collections import Counter

import psycopg
from push_helpers import SANDBOX_START

from confirma_pipeline.local.sample_accounting import build_accounting_sample, seed_accounting
from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.warehouse.registry import onboarded_with_tokens


def onboard_and_seed(dsn, api, vault, n_creditors: int = 3):
    """Onboard the sample's creditors, seed accounting items for the first onboarded ones; the sample."""
    onboard_clients(RunContext(dsn, api, vault, run_id="setup"))
    with psycopg.connect(dsn) as conn:
        ids = onboarded_with_tokens(conn)[:n_creditors]
        creditors = conn.execute(
            "SELECT creditor_id, business_code FROM confirma_source.creditors WHERE creditor_id = ANY(%s) "
            "ORDER BY creditor_id",
            (ids,),
        ).fetchall()
        sample = build_accounting_sample(creditors, SANDBOX_START)
        seed_accounting(conn, sample)
    return sample


def expected_identifiers(sample, kind: str) -> set[str]:
    rows = sample.vouchers if kind == "ledger" else sample.payments
    return {r[1] for r in rows if f"{r[0]}/{r[1]}" not in sample.invalid}


def journal_counts(sandbox) -> tuple[Counter, Counter]:
    """How many times each voucher and each payment was accepted by the sandbox."""
    ledgers = Counter(e["sourceIdentifier"] for e in sandbox.control.journal("ledger"))
    payments = Counter(
        i for e in sandbox.control.journal("accounting_payment") for i in e["sourceIdentifiers"]
    )
    return ledgers, payments
