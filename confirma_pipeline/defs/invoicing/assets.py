"""Invoicing: warehouse invoices -> Confirma invoices, recorded in the submission ledger."""

from confirma_pipeline.defs.lib.policies import CLIENT_TOKENS
from confirma_pipeline.defs.lib.push_assets import PushAsset, PushConfig, SourceTable, push_assets
from confirma_pipeline.validation import InvoiceModel
from confirma_pipeline.validation.push_state import InvoiceLedgerModel


class InvoicePushConfig(PushConfig):
    """The push run config, plus a shard: K runs or pods each take `shard` of `shards` (run/shard.py), so a
    night too large for one process splits by client. Only the invoice push has it: onboarding is one at a
    time by design and actions are few."""

    shard: int = 0
    shards: int = 1


def _submit(ctx, config, confirma_api):
    from confirma_pipeline.push.invoices import push_invoices

    return push_invoices(
        ctx, dry_run=config.dry_run, partner_code=confirma_api.partner_code, shard=_shard(config)
    )


def _shard(config):
    """The run config's shard (None: all clients); a bad pair fails the step at once, naming it."""
    from confirma_pipeline.errors import OperatorError
    from confirma_pipeline.run.shard import Shard

    if config.shards <= 1 and config.shard == 0:
        return None
    try:
        return Shard(config.shard, config.shards)
    except ValueError as exc:
        raise OperatorError(f"run config shard/shards: {exc}") from None


source_invoices, submitted_invoices = push_assets(
    PushAsset(
        name="submitted_invoices",
        group="invoicing",
        description=(
            "The invoice submission ledger: every invoice of an onboarded client, sent exactly once with that "
            "client's token (pending -> in_flight -> submitted | rejected | failed). Interrupted sends are "
            "looked up in the distribution records before any resend; invalid invoices are quarantined with "
            "every reason; an invoice changed after submission is flagged, never resent."
        ),
        sources=[
            SourceTable(
                "source_invoices",
                "Invoices to submit and their rows (confirma_source.invoices and confirma_source.invoice_rows): "
                "every header, reference, party, processing and distribution field of the create-invoice body.",
                "confirma_source.invoices",
                InvoiceModel,
            )
        ],
        deps=["onboarded_clients", CLIENT_TOKENS],
        table="confirma.invoice_ledger",
        model=InvoiceLedgerModel,
        push=_submit,
        config=InvoicePushConfig,
        run_log_entity="invoice",
    )
)
