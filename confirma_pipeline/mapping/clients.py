"""Creditors frame -> create-client bodies (`POST /api/v1/partner/client`).

The body is exactly the shape of the create-client page's example (three parts: service, client, contacts;
keys in the documented order). Optional values are sent as empty strings `""`, never null and never omitted,
as the example does.
"""

from __future__ import annotations

import pandas as pd

from confirma_pipeline.mapping._columns import gc_paused, texts_or_empty
from confirma_pipeline.validation.text_lengths import CLIENT_FIELDS, CONTACT_FIELDS


def client_bodies(creditors: pd.DataFrame, *, partner_code: str | None = None) -> list[dict]:
    """One create-client body per creditors row, in frame order (zip with `creditors["creditor_id"]`).

    `partner_code` fills `service.partnerCode` where the row's `partner_code` is empty (the partner's code is
    usually one setting for the whole integration)."""
    service_type = texts_or_empty(creditors["service_type"])
    partner = texts_or_empty(creditors["partner_code"])
    if partner_code:
        partner = [p or partner_code for p in partner]
    client_cols = {key: texts_or_empty(creditors[col]) for key, col in CLIENT_FIELDS.items()}
    contact_cols = {
        role: {key: texts_or_empty(creditors[col]) for key, col in fields.items()}
        for role, fields in CONTACT_FIELDS.items()
    }
    with gc_paused():
        return _assemble(service_type, partner, client_cols, contact_cols, len(creditors))


def _assemble(service_type, partner, client_cols, contact_cols, n: int) -> list[dict]:
    bodies: list[dict] = []
    client_keys = list(client_cols)
    client_values = list(client_cols.values())
    for i in range(n):
        bodies.append(
            {
                "service": {"type": service_type[i], "partnerCode": partner[i]},
                "client": {key: values[i] for key, values in zip(client_keys, client_values, strict=True)},
                "contacts": {
                    role: {key: values[i] for key, values in cols.items()}
                    for role, cols in contact_cols.items()
                },
            }
        )
    return bodies


def client_body(creditor: pd.Series | dict, *, partner_code: str | None = None) -> dict:
    """The create-client body of one creditor (a row as a Series or a mapping of column -> value)."""
    frame = pd.DataFrame([dict(creditor)])
    return client_bodies(frame, partner_code=partner_code)[0]
