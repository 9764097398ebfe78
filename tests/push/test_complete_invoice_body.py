"""The complete invoice body (migration 0009): collection costs, interest, street2/3, countryName and a row
discount travel from the source tables through validation, mapping and the sandbox into the case; and the
upgrade's new hash inputs flag nothing "changed after submission" by themselves."""

from __future__ import annotations

from decimal import Decimal

import psycopg
from test_invoice_actions import WINDOW

from confirma_pipeline.mapping.invoices import invoice_bodies
from confirma_pipeline.pull.cases import pull_cases
from confirma_pipeline.pull.distribution import pull_distribution
from confirma_pipeline.push.invoices import push_invoices
from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.warehouse import submission_ledger
from confirma_pipeline.warehouse.source import read_invoices

DISCOUNTED = """
UPDATE confirma_source.invoice_rows
SET discount_percentage = 10,
    net_amount = round(quantity * unit_price * 0.9, 2),
    vat_amount = round(round(quantity * unit_price * 0.9, 2) * vat_percentage / 100, 2),
    gross_amount = round(quantity * unit_price * 0.9, 2)
                 + round(round(quantity * unit_price * 0.9, 2) * vat_percentage / 100, 2)
WHERE invoice_id = %(id)s AND row_number = 1;
UPDATE confirma_source.invoices i
SET net_amount = s.net, vat_amount = s.vat, gross_amount = s.gross,
    creditor_costs_amount = 12.50, collection_fees_amount = 7.50, interest_type = 'FIXED',
    interest_percentage = 11.5, seller_street2 = 'Building B', buyer_country_name = 'FINLAND'
FROM (SELECT sum(net_amount) net, sum(vat_amount) vat, sum(gross_amount) gross
      FROM confirma_source.invoice_rows WHERE invoice_id = %(id)s) s
WHERE i.invoice_id = %(id)s;
"""


def _a_valid_invoice(dsn: str, sample) -> tuple[str, int]:
    bad_creditors = {k for k in sample.invalid if k.startswith("CRED-")}
    inv = sample.invoices
    ok = inv[~inv["invoice_id"].isin(list(sample.invalid)) & ~inv["creditor_id"].isin(list(bad_creditors))]
    row = ok[ok["payment_control_enabled"]].iloc[0]
    return row["invoice_id"], int(row["invoice_number"])


def test_collection_costs_interest_and_discount_round_trip(seeded, sandbox, api, vault, sample):
    invoice_id, number = _a_valid_invoice(seeded, sample)
    with psycopg.connect(seeded) as conn:
        for statement in DISCOUNTED.split(";")[:2]:
            conn.execute(statement, {"id": invoice_id})
        invoices, rows = read_invoices(conn)
    body = invoice_bodies(invoices[invoices["invoice_id"] == invoice_id], rows)[0]
    assert body["invoice"]["collection"] == {
        "costs": {"creditorCostsAmount": 12.5, "collectionFeesAmount": 7.5},
        "interest": {"type": "FIXED", "percentage": 11.5},
    }
    assert body["invoice"]["rows"][0]["discountPercentage"] == 10.0
    assert body["invoice"]["parties"]["sellerParty"]["address"]["street2"] == "Building B"
    assert body["invoice"]["parties"]["buyerParty"]["address"]["countryName"] == "FINLAND"
    assert (
        "collection"
        not in invoice_bodies(invoices[invoices["invoice_id"] != invoice_id].head(1), rows)[0]["invoice"]
    )  # only when given

    onboard_clients(RunContext(seeded, api, vault, run_id="setup"))
    report = push_invoices(RunContext(seeded, api, vault, run_id="full-body"))
    assert report.rejected_api == 0
    with psycopg.connect(seeded) as conn:
        assert conn.execute(
            "SELECT state FROM confirma.invoice_ledger WHERE invoice_id = %s", (invoice_id,)
        ).fetchone() == ("submitted",)

    sandbox.control.advance(1)
    ctx = RunContext(seeded, api, vault)
    pull_distribution(ctx, WINDOW)
    pull_cases(ctx)
    state = sandbox.sandbox.state
    client_invoices = next(v for v in state.invoices.values() if number in v)
    case_id = client_invoices[number]["caseId"]
    assert state.cases[case_id]["interestPercentage"] == "11.5"
    fees_paid = sum(
        Decimal(p["parts"].get("FEES", "0")) for p in state.payments if p["caseId"] == case_id
    )  # a buyer may already have paid something that day: fees first
    with psycopg.connect(seeded) as conn:
        costs = conn.execute(
            "SELECT costs_amount FROM confirma.cases WHERE case_id = %s", (case_id,)
        ).fetchone()
    assert costs == (Decimal("20.00") - fees_paid,)


def test_hashes_stored_before_the_upgrade_flag_only_real_changes(seeded, sandbox, api, vault, sample):
    onboard_clients(RunContext(seeded, api, vault, run_id="setup"))
    push_invoices(RunContext(seeded, api, vault, run_id="before"))
    relations = ("confirma_source.invoices", "confirma_source.invoice_rows")
    with psycopg.connect(seeded, autocommit=True) as conn:
        ids = [r[0] for r in conn.execute("SELECT invoice_id FROM confirma.invoice_ledger ORDER BY 1")]
        old = submission_ledger.source_hashes(conn, *relations, ids, version=1)
        # the ledger as a pre-0009 run left it: version-1 hashes
        conn.execute(
            "UPDATE confirma.invoice_ledger l SET source_hash = o.h, source_hash_version = 1 "
            "FROM unnest(%s::text[], %s::text[]) o(id, h) WHERE l.invoice_id = o.id",
            (ids, [old[i] for i in ids]),
        )
        conn.execute(
            "UPDATE confirma_source.invoices SET description = 'changed' WHERE invoice_id = %s", (ids[0],)
        )
        flagged = submission_ledger.flag_changed_after_submission(conn, *relations)
        assert flagged == 1
        assert submission_ledger.changed_after_submission(conn)[0][0] == ids[0]
        versions = conn.execute("SELECT DISTINCT source_hash_version FROM confirma.invoice_ledger").fetchall()
    assert versions == [(2,)]
