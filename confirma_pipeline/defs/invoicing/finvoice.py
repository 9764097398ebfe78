"""Finvoice (e-invoice) addresses of the clients' buyers.

Group `invoicing`, not `receivables`: the addresses are an input of invoicing (a buyer's chosen address goes
into buyerParty.electronicInvoiceAccount / electronicRoutingAddress of the next invoices sent by e-invoice),
they say nothing about money received.
"""

# No `from __future__ import annotations`: Dagster resolves Config annotations at definition time.
import dagster as dg

from confirma_pipeline.defs.invoicing.assets import submitted_invoices
from confirma_pipeline.defs.lib.metadata import OWNERS
from confirma_pipeline.defs.lib.policies import API_POOL, API_RETRY_POLICY, CLIENT_TOKENS, PULLED_FRESHNESS
from confirma_pipeline.defs.lib.pulled import ALL_CLIENTS_PULLED, definition_metadata, run_pull
from confirma_pipeline.defs.resources import ConfirmaApiResource, TokenVaultResource, WarehouseResource
from confirma_pipeline.validation.writeback import FinvoiceCredentialModel


class FinvoiceConfig(dg.Config):
    creditor_ids: list[str] | None = None  # limit to buyers of these clients


@dg.asset(
    deps=[submitted_invoices, CLIENT_TOKENS],
    group_name="invoicing",
    owners=OWNERS,
    kinds={"api", "postgres"},
    pool=API_POOL,
    retry_policy=API_RETRY_POLICY,
    freshness_policy=PULLED_FRESHNESS,
    metadata=definition_metadata("confirma.finvoice_credentials", FinvoiceCredentialModel),
    check_specs=[dg.AssetCheckSpec(ALL_CLIENTS_PULLED, asset="finvoice_credentials")],
)
def finvoice_credentials(
    context: dg.AssetExecutionContext,
    config: FinvoiceConfig,
    warehouse: WarehouseResource,
    confirma_api: ConfirmaApiResource,
    token_vault: TokenVaultResource,
) -> dg.MaterializeResult:
    """E-invoice addresses (address, type such as EDI or IBAN, operator) of every buyer business id
    (Y-tunnus) found on submitted invoices, looked up once per business id with the token of a client that
    invoiced it (the answer is always an array). Each business id's set of addresses is replaced: new and
    changed ones written, vanished ones removed. The client chooses which address to use."""
    from confirma_pipeline.pull.finvoice import pull_finvoice_credentials

    return run_pull(
        context,
        warehouse,
        confirma_api,
        token_vault,
        lambda client, vault: pull_finvoice_credentials(
            warehouse.dsn,
            client,
            vault,
            creditor_ids=config.creditor_ids,
            logger=context.log,
            invoices_relation=warehouse.invoices_relation,
            concurrency=confirma_api.concurrency,
        ),
        "confirma.finvoice_credentials",
        FinvoiceCredentialModel,
    )
