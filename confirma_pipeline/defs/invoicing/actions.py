"""Invoice actions: what a creditor tells the agency happened outside it, sent exactly once (push/actions.py)."""

from confirma_pipeline.defs.lib.checks import max_attempts, rejected_this_run_check, stuck_rows_check
from confirma_pipeline.defs.lib.policies import CLIENT_TOKENS
from confirma_pipeline.defs.lib.push_assets import PushAsset, SourceTable, push_assets, report_metadata
from confirma_pipeline.validation.actions import ActionLedgerModel, InvoiceActionModel


def _send_actions(ctx, config, confirma_api):
    from confirma_pipeline.push.actions import push_actions

    return push_actions(ctx, dry_run=config.dry_run)


source_invoice_actions, invoice_actions = push_assets(
    PushAsset(
        name="invoice_actions",
        group="invoicing",
        description=(
            "The action ledger: each invoice action sent exactly once, one per request, after its invoice has "
            "a case id (until then it waits, with the reason in confirma.rejected_rows). An action is not "
            "idempotent, so an answer lost in transit leaves it in flight: settled from the case details when "
            "its effect shows, otherwise by an operator (`confirma-pipeline actions resolve`); "
            "`invoice_actions_unsettled` fails meanwhile."
        ),
        sources=[
            SourceTable(
                "source_invoice_actions",
                "Invoice actions to send (confirma_source.invoice_actions): a stable action_id, the invoice, the "
                "code (COMMENT, WITHDRAW, DUEDATE, PAYMENTPLAN, OBJECTION, PAUSE, DIRECTPAYMENT) and the data it "
                "needs.",
                "confirma_source.invoice_actions",
                InvoiceActionModel,
            )
        ],
        deps=["submitted_invoices", "distribution", CLIENT_TOKENS],
        table="confirma.invoice_action_ledger",
        model=ActionLedgerModel,
        push=_send_actions,
        metadata=lambda report, conn: report_metadata(report, per_code=report.per_code_table()),
    )
)


def _unsettled_actions(conn, warehouse) -> list[dict]:
    from confirma_pipeline.warehouse.action_ledger import unsettled

    return [
        {"action_id": a, "creditor_id": c, "number": n, "code": code, "state": s, "attempts": t}
        for a, c, n, code, s, t, _ in unsettled(conn, max_attempts())
    ]


invoice_actions_rejected_this_run = rejected_this_run_check(
    "invoice_actions",
    "invoice_actions_rejected_this_run",
    "Invoice actions rejected by validation or the API in this run",
    ["invoice_action"],
    "invoice action(s)",
)

invoice_actions_unsettled = stuck_rows_check(
    "invoice_actions",
    "invoice_actions_unsettled",
    "Invoice actions whose outcome is unknown (in flight: never resent; settle with `confirma-pipeline "
    "actions resolve --action-id ID --sent|--not-sent`) or failed past their attempt budget",
    _unsettled_actions,
    "actions",
)
