"""A client onboarded "by hand", for the sandbox demo and tests: Confirma created it outside this pipeline
(its token came in a PDF and the operator imports it, as `confirma-pipeline tokens import` does), and another
system already sent some of its invoices. This is the starting point a `backfill client --adopt-existing`
is for. Local use only: it calls the create-client endpoint with the provisioning token.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from confirma_pipeline.api.errors import RejectedError


@dataclass
class HandOnboarded:
    creditor_id: str
    client_identifier: int
    sent_by_hand: list[int] = field(default_factory=list)  # invoice numbers already at Confirma


def onboard_by_hand(
    creditor_id: str,
    client,
    *,
    invoices_at_confirma: int = 0,
    dsn: str | None = None,
    vault=None,
    relations=None,
    partner_code: str | None = None,
) -> HandOnboarded | None:
    """Create the client at Confirma from its source row, import its token, and send its first
    `invoices_at_confirma` source invoices (by invoice id) with its own token, as another system would.
    `partner_code` fills a blank `service.partnerCode`, as in onboarding.
    Returns None when the warehouse already knows the client (nothing done twice)."""
    from confirma_pipeline.api.client import encode_body
    from confirma_pipeline.cli.vault import import_token
    from confirma_pipeline.mapping import creditor_bodies
    from confirma_pipeline.mapping.invoices import invoice_bodies
    from confirma_pipeline.warehouse.connection import connect
    from confirma_pipeline.warehouse.source import Relations, iter_invoices, read_creditors

    relations = relations or Relations()
    with connect(dsn) as conn:
        if conn.execute("SELECT 1 FROM confirma.clients WHERE creditor_id = %s", (creditor_id,)).fetchone():
            return None
        creditor = read_creditors(conn, relations.creditors, creditor_ids=[creditor_id])
    answer = client.create_client(creditor_bodies(creditor, partner_code=partner_code)[0])
    token = answer.api_access_token.get_secret_value()
    import_token(creditor_id, token, client_identifier=answer.client_identifier, vault=vault, dsn=dsn)
    done = HandOnboarded(creditor_id, answer.client_identifier)
    if invoices_at_confirma <= 0:
        return done
    with connect(dsn) as conn:
        chunk = next(
            iter_invoices(
                conn,
                relations.invoices,
                relations.invoice_rows,
                [creditor_id],
                chunk_size=invoices_at_confirma,
            ),
            None,
        )
    if chunk is None:
        return done
    invoices, rows = chunk
    for number, body in zip(
        invoices["invoice_number"].tolist(), invoice_bodies(invoices, rows, creditor), strict=True
    ):
        try:
            client.create_invoice(token, encode_body(body))
            done.sent_by_hand.append(int(number))
        except RejectedError:
            continue  # a planted bad row: the other system could not send it either
    return done
