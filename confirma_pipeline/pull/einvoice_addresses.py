"""Pull the e-invoice (Finvoice) addresses of the clients' buyers, by business id (Y-tunnus).

The business ids are the distinct `buyer_business_id`s of submitted invoices. The look-up is per company, not
per client, so each business id is asked once, with the token of one client that invoiced it. The answer is
always an array (possibly empty). Each business id's addresses are replaced as a set (`bulk.replace_window`
scoped by business id: new ones inserted, changed ones updated, vanished ones deleted, others untouched).

A business id the API refuses as malformed (400) is counted and skipped: it is bad source data, reported by
the invoice validation, not a reason to fail every other look-up.

Named for what it holds: the API endpoint and the table say "finvoice credentials" (`GET /finvoice/credentials`,
`confirma.finvoice_credentials`); they are buyers' addresses, not credentials of ours.
"""

from __future__ import annotations

from functools import partial

import psycopg

from confirma_pipeline.mapping.responses import einvoice_addresses_frame
from confirma_pipeline.pull.engine import pull
from confirma_pipeline.pull.spec import PerKey, PullRun, PullSpec, ReplaceScopes, WorkItem
from confirma_pipeline.validation.pulled import EInvoiceAddressModel
from confirma_pipeline.warehouse import submission_ledger


def _business_ids(conn: psycopg.Connection, creditor_ids: list[str], run: PullRun) -> list[WorkItem]:
    """One item per distinct buyer business id, asked with the token of the first client that invoiced it."""
    asked_by: dict[str, str] = {}
    for creditor_id, business_id in submission_ledger.buyer_business_ids(
        conn, run.ctx.relations.invoices, creditor_ids
    ):
        asked_by.setdefault(business_id, creditor_id)
    return [WorkItem(creditor_id, business_id) for business_id, creditor_id in sorted(asked_by.items())]


EINVOICE_ADDRESSES = PullSpec(
    model=EInvoiceAddressModel,
    work=_business_ids,
    items_counted="business_ids",
    fetch=PerKey("get_finvoice_credentials"),
    skip_statuses={400: "business_ids_refused"},
    frames=lambda item, addresses: [einvoice_addresses_frame(item.key, addresses)],
    write=ReplaceScopes("business_id"),
)

#: `pull_einvoice_addresses(ctx)` replaces the e-invoice addresses of every buyer business id of the active
#: clients' submitted invoices.
pull_einvoice_addresses = partial(pull, EINVOICE_ADDRESSES)
