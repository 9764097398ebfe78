"""pandera models of the push side's own tables: the client registry and the submission ledger.

They describe the tables for analysts (the `dagster/column_schema` of `onboarded_clients` and
`submitted_invoices`) and pin the states the state machines may take."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from confirma_pipeline.validation._checks import field as _f
from confirma_pipeline.validation._checks import nullable_field as _n
from confirma_pipeline.validation.dtypes import UTCTimestamp

CLIENT_STATES = ("in_flight", "created", "imported", "rejected", "failed", "not_created")
LEDGER_STATES = ("pending", "in_flight", "submitted", "rejected", "failed")


class ClientRegistryModel(pa.DataFrameModel):
    """confirma.clients: one row per creditor the pipeline onboarded, tried to, or imported."""

    creditor_id: Series[str] = _f("The warehouse's stable creditor id.", unique=True)
    state: Series[str] = _f(
        "in_flight (outcome unknown: an operator settles it), created, imported, "
        "rejected (by the API), failed (transient), not_created (settled by an operator).",
        isin=CLIENT_STATES,
    )
    client_identifier: Series[pd.Int64Dtype] = _n("Confirma's clientIdentifier.", unique=True)
    customer_code: Series[pd.Int64Dtype] = _n("confirmaFinanceCustomerCode.")
    payment_reference_prefix: Series[pd.Int64Dtype] = _n("paymentReferencePrefix.")
    content_hash: Series[str] = _n("Hash of the create-client body last sent (detects a corrected creditor).")
    attempts: Series[int] = _f("Create-client attempts so far.", ge=0)
    last_error: Series[str] = _n("Last sanitized error (status and the server's reason, never a payload).")
    in_flight_since: Series[UTCTimestamp] = _n("When the unanswered POST was sent.")
    created_at: Series[UTCTimestamp] = _f("First seen.")
    updated_at: Series[UTCTimestamp] = _f("Last change.")

    class Config:
        strict = "filter"
        coerce = True


class InvoiceLedgerModel(pa.DataFrameModel):
    """confirma.invoice_ledger: the exactly-once state of every invoice of an onboarded client."""

    invoice_id: Series[str] = _f("The warehouse's stable invoice id.", unique=True)
    creditor_id: Series[str] = _f("The invoice's creditor.")
    invoice_number: Series[int] = _f("invoice.header.number, unique per creditor.")
    state: Series[str] = _f("pending -> in_flight -> submitted | rejected | failed.", isin=LEDGER_STATES)
    attempts: Series[int] = _f("Sends so far.", ge=0)
    payload_hash: Series[str] = _f("sha256 of the body as sent.")
    source_hash: Series[str] = _n("md5 of the source rows when sent (changed-after-submission detection).")
    last_error: Series[str] = _n("Last sanitized error: status and the server's reason.")
    last_http_status: Series[pd.Int64Dtype] = _n("HTTP status of the last answer.")
    changed_after_submission: Series[bool] = _f("The source changed after the invoice was sent (not resent).")
    case_id: Series[pd.Int64Dtype] = _n("The agency case id, from the distribution records.")
    in_flight_since: Series[UTCTimestamp] = _n("When the unanswered POST was sent.")
    submitted_at: Series[UTCTimestamp] = _n("When Confirma accepted it.")
    origin: Series[str] = _f(
        "pushed (sent by this pipeline) or adopted (already at Confirma, registered by a client backfill).",
        isin=("pushed", "adopted"),
    )

    class Config:
        strict = "filter"
        coerce = True
