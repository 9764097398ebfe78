"""What a dry run may print of a body: its shape and amounts, never a buyer's personal data.

Buyers and invoice recipients may be consumers, so every text under them is masked except codes
(entity type, country, language); contacts, e-mails, phones and personal ids are masked anywhere.
Seller names and business ids stay: they are the creditor's own public identifiers."""

from __future__ import annotations

from typing import Any

MASK = "***"
PERSON_PARTIES = {"buyerParty", "invoiceRecipientParty"}
KEEP_IN_PERSON_PARTIES = {"entityType", "countryCode", "countryName", "languageCode", "disableCollection"}
ALWAYS_MASKED = {
    "email",
    "phone",
    "telephone",
    "mobile",
    "personalIdentityNumber",
    "contact",
    "contactPerson",
}


def mask_personal(body: Any, *, _inside_person: bool = False, _masked: bool = False) -> Any:
    """A copy of a request body with personal fields masked (non-empty strings become '***')."""
    if isinstance(body, dict):
        out = {}
        for key, value in body.items():
            inside = _inside_person or key in PERSON_PARTIES
            masked = _masked or key in ALWAYS_MASKED or (_inside_person and key not in KEEP_IN_PERSON_PARTIES)
            out[key] = mask_personal(value, _inside_person=inside, _masked=masked)
        return out
    if isinstance(body, list):
        return [mask_personal(v, _inside_person=_inside_person, _masked=_masked) for v in body]
    if _masked and isinstance(body, str) and body:
        return MASK
    return body
