"""The demo's invoice actions: before the second night a creditor records that one buyer paid part of an invoice
straight to them (DIRECTPAYMENT) and that another invoice is withdrawn (WITHDRAW); the second night sends both;
after the agency's next processing day the cases pull shows their new state, which the report prints.

Kept out of demo.py so the demo driver stays a story, not a scenario of its own."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

DEMO_ACTION_IDS = ("DEMO-DIRECTPAYMENT", "DEMO-WITHDRAW")


def plant_actions(out) -> None:
    """Pick two submitted invoices whose case is open at the agency and record one action on each."""
    from confirma_pipeline import settings
    from confirma_pipeline.validation.actions import today
    from confirma_pipeline.warehouse.client_tokens import load_tokens
    from confirma_pipeline.warehouse.connection import connect

    with connect() as conn:
        if conn.execute(
            "SELECT 1 FROM confirma_source.invoice_actions WHERE action_id = ANY(%s)",
            (list(DEMO_ACTION_IDS),),
        ).fetchone():
            return
        candidates = conn.execute(
            "SELECT invoice_id, creditor_id, invoice_number FROM confirma.invoice_ledger "
            "WHERE state = 'submitted' ORDER BY creditor_id, invoice_number"
        ).fetchall()
        tokens = load_tokens(conn, settings.token_vault(), sorted({c for _, c, _ in candidates}))
    chosen: list[tuple[str, object]] = []
    with settings.api_client() as client:
        for invoice_id, creditor_id, number in candidates:
            token = tokens.get(creditor_id)
            records = client.get_distribution(token, invoice_number=number).distributions if token else []
            case_id = next((r.case_id for r in records if r.case_id), None)
            if case_id is None:
                continue
            case = client.get_case(token, case_id).case
            if case.summary.status == "OPEN" and not case.summary.paused:
                chosen.append((invoice_id, case))
            if len(chosen) == 2:
                break
    if len(chosen) < 2:
        out("invoice actions: fewer than two open cases, none planted")
        return
    (paid_id, paid_case), (withdrawn_id, _) = chosen
    half = (Decimal(paid_case.balance.capital_amount) / 2).quantize(Decimal("0.01"))
    with connect() as conn:
        conn.execute(
            "INSERT INTO confirma_source.invoice_actions (action_id, invoice_id, code, comment, payment_method, "
            "amount, currency, payment_date, reference) VALUES (%s, %s, 'DIRECTPAYMENT', %s, 'Bank transfer', "
            "%s, %s, %s, 'DEMO-BANKREF-1')",
            (DEMO_ACTION_IDS[0], paid_id, "Buyer paid half straight to our account", half,
             paid_case.summary.currency or "EUR", today() - dt.timedelta(days=1)),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO confirma_source.invoice_actions (action_id, invoice_id, code, comment) "
            "VALUES (%s, %s, 'WITHDRAW', 'Invoice issued in error; withdrawn')",
            (DEMO_ACTION_IDS[1], withdrawn_id),
        )
    out(f"invoice actions planted: DIRECTPAYMENT {half} on {paid_id}, WITHDRAW on {withdrawn_id}")


def action_case_states() -> list[tuple]:
    """(action_id, code, state, invoice_number, case status, stage, open balance) of the demo's actions."""
    from confirma_pipeline.warehouse.connection import connect

    with connect() as conn:
        return conn.execute(
            "SELECT a.action_id, a.code, a.state, a.invoice_number, c.status, c.stage, c.total_amount "
            "FROM confirma.invoice_action_ledger a LEFT JOIN confirma.cases c ON c.case_id = a.case_id "
            "WHERE a.action_id = ANY(%s) ORDER BY a.action_id",
            (list(DEMO_ACTION_IDS),),
        ).fetchall()


def settle_day_and_pull_cases(control, out) -> None:
    """The agency processes its queue overnight; the cases pull then shows what the actions did."""
    from confirma_pipeline import settings
    from confirma_pipeline.pull.cases import pull_cases
    from confirma_pipeline.run.context import RunContext

    control.advance(1)
    with settings.api_client() as client:
        pull_cases(RunContext(None, client, settings.token_vault()))
    out("sandbox: advanced 1 day (the agency processed the queued actions); cases pulled")
