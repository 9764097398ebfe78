"""Invoicing: warehouse invoices -> Confirma invoices, recorded in the submission ledger."""

from confirma_pipeline.defs.lib.policies import CLIENT_TOKENS
from confirma_pipeline.defs.lib.push_assets import PushAsset, push_asset, source_asset
from confirma_pipeline.validation import InvoiceModel
from confirma_pipeline.validation.push_state import InvoiceLedgerModel

GROUP = "invoicing"

source_invoices = source_asset(
    "source_invoices",
    "Invoices to submit and their rows (confirma_source.invoices and confirma_source.invoice_rows): every "
    "header, reference, party, processing and distribution field of the create-invoice body.",
    GROUP,
    "confirma_source.invoices",
    InvoiceModel,
)


def _submit(ctx, config, confirma_api):
    from confirma_pipeline.push.invoices import push_invoices

    return push_invoices(ctx, dry_run=config.dry_run, partner_code=confirma_api.partner_code)


submitted_invoices = push_asset(
    PushAsset(
        name="submitted_invoices",
        group=GROUP,
        description=(
            "The invoice submission ledger: every invoice of an onboarded client, sent exactly once with that "
            "client's token (pending -> in_flight -> submitted | rejected | failed). Interrupted sends are "
            "looked up in the distribution records before any resend; invalid invoices are quarantined with "
            "every reason; an invoice changed after submission is flagged, never resent."
        ),
        deps=[source_invoices, "onboarded_clients", CLIENT_TOKENS],
        table="confirma.invoice_ledger",
        model=InvoiceLedgerModel,
        push=_submit,
        run_log_entity="invoice",
        contract_drift=True,
    )
)
