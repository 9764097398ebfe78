"""What invoicing pulls back from Confirma: distribution records (daily partitions by invoice date), case
details, and the e-invoice (Finvoice) addresses of the buyers.

The e-invoice addresses belong to `invoicing`, not `receivables`: they are an input of invoicing (a buyer's
chosen address goes into buyerParty.electronicInvoiceAccount / electronicRoutingAddress of the next invoices
sent by e-invoice), they say nothing about money received. Their asset keeps the API's name
(`finvoice_credentials`, the table too).
"""

# No `from __future__ import annotations`: Dagster resolves Config annotations at definition time.
import dagster as dg

from confirma_pipeline.defs.lib.pulled import pulled_asset
from confirma_pipeline.pull.cases import CASES
from confirma_pipeline.pull.distribution import DISTRIBUTION
from confirma_pipeline.pull.einvoice_addresses import EINVOICE_ADDRESSES

GROUP = "invoicing"


class DistributionConfig(dg.Config):
    """Run config of the distribution pull."""

    creditor_ids: list[str] | None = None  # limit to these clients (a client backfill)
    # Also re-read invoices dated this many days before the window: delivery status and case ids arrive
    # after the invoice date.
    lookback_days: int = 30


class CasesConfig(dg.Config):
    creditor_ids: list[str] | None = None


class FinvoiceConfig(dg.Config):
    creditor_ids: list[str] | None = None  # limit to buyers of these clients


distribution = pulled_asset(
    DISTRIBUTION,
    group=GROUP,
    deps=("submitted_invoices", "client_credentials"),
    config=DistributionConfig,
    description="""Distribution (delivery) records of each active client's invoices, by invoice date (Europe/Helsinki
    partitions): status, method, timestamps, payment-control status and the agency case id. One
    `GET /invoice/distribution?fromInvDate&toInvDate` per client for the whole run window plus
    `lookback_days` (statuses and case ids arrive after the invoice date); upserted by (client, invoice
    number). Each record's case id is written onto confirma.invoice_ledger.case_id, which the cases asset reads.""",
)

cases = pulled_asset(
    CASES,
    group=GROUP,
    deps=("distribution", "client_credentials"),
    config=CasesConfig,
    description="""Payment-control and collection case details of submitted invoices: status, stage, dates, balance
    (capital, interest, costs, total). Asks `GET /invoice/case?caseId=` for every case that is still open or
    was never fetched (case ids from the distribution records, via the ledger); a closed case is final and
    not asked again. Upserted by case id.""",
)

finvoice_credentials = pulled_asset(
    EINVOICE_ADDRESSES,
    group=GROUP,
    deps=("submitted_invoices", "client_credentials"),
    config=FinvoiceConfig,
    description="""E-invoice addresses (address, type such as EDI or IBAN, operator) of every buyer business id
    (Y-tunnus) found on submitted invoices, looked up once per business id with the token of a client that
    invoiced it (the answer is always an array). Each business id's set of addresses is replaced: new and
    changed ones written, vanished ones removed. The client chooses which address to use.""",
)
