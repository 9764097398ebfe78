"""Which body field each source text column becomes, so a column's maximum length is the CHOSEN limit of its
field (`api.contract.TEXT_MAX_LENGTHS`), read in one place by validation and checked against the bodies the
mappers build (a test maps overlong text and finds it at exactly these paths).

It lives in validation/ (not mapping/) so that validation never imports mapping: mapping reads the creditor
field tables from here (`mapping.clients`), the dependency points one way (issue #12)."""

from __future__ import annotations

from confirma_pipeline.api.contract import TEXT_MAX_LENGTHS

#: body path -> creditors column
CLIENT_FIELDS: dict[str, str] = {
    "name": "name",
    "businessCode": "business_code",
    "vatRegNbr": "vat_reg_nbr",
    "postalAddress": "postal_address",
    "postalCode": "postal_code",
    "postalDistrict": "postal_district",
    "countryCode": "country_code",
    "telephone": "telephone",
    "email": "email",
    "website": "website",
    "languageCode": "language_code",
    "currencyCode": "currency_code",
    "ibanAccount": "iban_account",
    "bic": "bic",
    "bankgiro": "bankgiro",
    "plusgiro": "plusgiro",
}
CONTACT_FIELDS: dict[str, dict[str, str]] = {
    "primary": {
        "name": "primary_contact_name",
        "telephone": "primary_contact_telephone",
        "mobile": "primary_contact_mobile",
        "email": "primary_contact_email",
    },
    "technical": {"name": "technical_contact_name", "email": "technical_contact_email"},
    "accountant": {"name": "accountant_contact_name", "email": "accountant_contact_email"},
}

_SELLER = "invoice.parties.sellerParty"
_BUYER = "invoice.parties.buyerParty"
_RECIPIENT = "invoice.parties.invoiceRecipientParty"
_ADDRESS = {"street": "street", "street2": "street2", "street3": "street3", "postal_code": "postalCode",
            "postal_district": "postalDistrict", "country_name": "countryName"}  # fmt: skip

CREDITOR_TEXT_PATHS: dict[str, str] = {
    "partner_code": "service.partnerCode",
    **{column: f"client.{key}" for key, column in CLIENT_FIELDS.items()},
    **{column: f"contacts.{role}.{key}" for role, fields in CONTACT_FIELDS.items() for key, column in fields.items()},
}  # fmt: skip

INVOICE_TEXT_PATHS: dict[str, str] = {
    "description": "invoice.header.description",
    "additional_information": "invoice.header.additionalInformation",
    "sales_reference": "invoice.references.sales",
    "buyer_reference": "invoice.references.buyer",
    "agreement_reference": "invoice.references.agreement",
    "payment_reference": "invoice.references.payment",
    "order_number": "invoice.references.orderNumber",
    "electronic_payment_code": "invoice.references.electronicPaymentCode",
    "invoice_copy_url": "invoice.references.invoiceCopyUrl",
    "seller_business_id": f"{_SELLER}.businessId",
    "seller_name": f"{_SELLER}.name",
    "seller_vat_code": f"{_SELLER}.vatCode",
    **{f"seller_{c}": f"{_SELLER}.address.{k}" for c, k in _ADDRESS.items() if not c.startswith("street")},
    "seller_street": f"{_SELLER}.address.street",
    "seller_contact_person_name": f"{_SELLER}.contact.contactPerson.name",
    "seller_contact_person_email": f"{_SELLER}.contact.contactPerson.email",
    "seller_email": f"{_SELLER}.contact.email",
    "seller_phone": f"{_SELLER}.contact.phone",
    "seller_iban": f"{_SELLER}.paymentDetails.iban",
    "seller_bic": f"{_SELLER}.paymentDetails.bic",
    "seller_bankgiro": f"{_SELLER}.paymentDetails.bankgiro",
    "seller_postgiro": f"{_SELLER}.paymentDetails.postgiro",
    **{f"buyer_{c}": f"{_BUYER}.{k}" for c, k in {
        "name": "name", "customer_account_id": "customerAccountId",
        "personal_identity_number": "personalIdentityNumber", "business_id": "businessId", "vat_code": "vatCode",
        "electronic_invoice_account": "electronicInvoiceAccount",
        "electronic_routing_address": "electronicRoutingAddress", "gln_number": "glnNumber",
    }.items()},
    **{f"buyer_{c}": f"{_BUYER}.address.{k}" for c, k in _ADDRESS.items() if c != "country_name"},
    "buyer_contact_person_name": f"{_BUYER}.contact.contactPerson.name",
    "buyer_contact_person_email": f"{_BUYER}.contact.contactPerson.email",
    "buyer_email": f"{_BUYER}.contact.email",
    "buyer_phone": f"{_BUYER}.contact.phone",
    **{f"recipient_{c}": f"{_RECIPIENT}.{k}" for c, k in {
        "name": "name", "business_id": "businessId", "vat_code": "vatCode",
        "electronic_invoice_account": "electronicInvoiceAccount",
        "electronic_routing_address": "electronicRoutingAddress", "gln_number": "glnNumber", "email": "email",
    }.items()},
    **{f"recipient_{c}": f"{_RECIPIENT}.address.{k}" for c, k in _ADDRESS.items() if c != "country_name"},
}  # fmt: skip

INVOICE_ROW_TEXT_PATHS: dict[str, str] = {
    "product_code": "invoice.rows[].productCode",
    "name": "invoice.rows[].name",
    "unit_code": "invoice.rows[].unitCode",
}


def max_lengths(paths: dict[str, str]) -> dict[str, int]:
    """column -> CHOSEN maximum length, for the columns whose field has one."""
    return {column: TEXT_MAX_LENGTHS[path] for column, path in paths.items() if path in TEXT_MAX_LENGTHS}
