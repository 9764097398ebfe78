"""Warehouse rows -> API bodies, and stable hashes of bodies and rows. Knows nothing of Dagster."""

from confirma_pipeline.mapping.clients import client_bodies, client_body
from confirma_pipeline.mapping.hashing import canonical_json, canonical_json_bytes, payload_hash
from confirma_pipeline.mapping.invoices import invoice_bodies
from confirma_pipeline.validation.row_hashes import content_hash, row_hashes

#: Alias of `client_bodies` (creditors -> create-client bodies).
creditor_bodies = client_bodies

__all__ = [
    "canonical_json",
    "canonical_json_bytes",
    "client_bodies",
    "client_body",
    "content_hash",
    "creditor_bodies",
    "invoice_bodies",
    "payload_hash",
    "row_hashes",
]
