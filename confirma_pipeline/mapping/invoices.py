"""Invoices + rows (+ creditors) -> SalesInvoiceRequest bodies (`POST /api/v1/partner/invoice`).

Shape: the endpoint example of the docs for processing, distribution, header, references and parties (keys in
the documented order), plus `invoice.rows[]` and `invoice.amounts`, whose shape the docs do not show: it is the
one CHOSEN in `confirma_pipeline.api.contract` (INVOICE_ROW_FIELDS, AMOUNT_FIELDS).

Values:
- null where the endpoint example sends null when the source column is null (description, additionalInformation,
  electronicPaymentCode, creditedInvoiceNumber, invoiceCopyUrl, personalIdentityNumber, the e-invoice fields,
  glnNumber, street2/3, countryName, every recipient field); `customerAccountId` is "" when empty;
- `invoice.collection` (costs, interest) and `rows[].discountPercentage` only where given (CHOSEN placement);
- the seller party defaults, column by column, to the creditor's own details when `seller_*` is null
  (businessId <- business_code, name, vatCode <- vat_reg_nbr, street <- postal_address, postal code/district,
  country, countryName from the country code, contact person <- primary contact, email, phone <- telephone,
  iban/bic/bankgiro/postgiro <- iban_account/bic/bankgiro/plusgiro); a creditor's "" becomes null here;
- the recipient's languageCode defaults to the buyer's (as in the example: every recipient field null but the
  language);
- money: JSON numbers rounded to 2 decimals; quantities: numbers rounded to 4 decimals; dates `YYYY-MM-DD`;
  `header.number` and `creditedInvoiceNumber` integers.

Built column-wise: every column is converted to a Python list once, rows are grouped by invoice with one sort,
and the dicts are assembled by position (no per-row `.loc`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from confirma_pipeline.api.contract import AMOUNT_FIELDS, INVOICE_ROW_FIELDS
from confirma_pipeline.mapping import _columns as col
from confirma_pipeline.validation.identifiers import arrow_index_in
from confirma_pipeline.validation.input_contract import INVOICES_CONTRACT

#: sellerParty.address.countryName for the seller's country (the example sends "FINLAND").
COUNTRY_NAMES: dict[str, str] = {
    "FI": "FINLAND",
    "AX": "ÅLAND ISLANDS",
    "SE": "SWEDEN",
    "NO": "NORWAY",
    "DK": "DENMARK",
    "EE": "ESTONIA",
    "DE": "GERMANY",
    "IS": "ICELAND",
    "LV": "LATVIA",
    "LT": "LITHUANIA",
}

#: seller column -> creditors column it defaults to
SELLER_DEFAULTS: dict[str, str] = {
    "seller_business_id": "business_code",
    "seller_name": "name",
    "seller_vat_code": "vat_reg_nbr",
    "seller_street": "postal_address",
    "seller_postal_code": "postal_code",
    "seller_postal_district": "postal_district",
    "seller_country_code": "country_code",
    "seller_contact_person_name": "primary_contact_name",
    "seller_contact_person_email": "primary_contact_email",
    "seller_email": "email",
    "seller_phone": "telephone",
    "seller_iban": "iban_account",
    "seller_bic": "bic",
    "seller_bankgiro": "bankgiro",
    "seller_postgiro": "plusgiro",
}


def _seller_columns(invoices: pd.DataFrame, creditors: pd.DataFrame | None) -> dict[str, list]:
    out: dict[str, list] = {c: col.texts(invoices[c]) for c in (*SELLER_DEFAULTS, "seller_country_name")}
    if creditors is None or creditors.empty:
        return out
    pos = arrow_index_in(invoices["creditor_id"], creditors["creditor_id"])
    found = pos >= 0
    safe = np.where(found, pos, 0)
    for seller_col, cred_col in SELLER_DEFAULTS.items():
        cred_values = col.texts(creditors[cred_col])
        values = out[seller_col]
        out[seller_col] = [
            v if v is not None else ((cred_values[p] or None) if ok else None)
            for v, p, ok in zip(values, safe.tolist(), found.tolist(), strict=True)
        ]
    out["seller_country_name"] = [
        name if name is not None else COUNTRY_NAMES.get(country or "")
        for name, country in zip(out["seller_country_name"], out["seller_country_code"], strict=True)
    ]
    return out


def _row_lists(invoices: pd.DataFrame, rows: pd.DataFrame) -> list[list[dict]]:
    """For each invoice (by position), its rows as body dicts ordered by row number."""
    n = len(invoices)
    grouped: list[list[dict]] = [[] for _ in range(n)]
    if rows.empty or n == 0:
        return grouped
    codes = arrow_index_in(rows["invoice_id"], invoices["invoice_id"])
    row_numbers = rows["row_number"].to_numpy()
    order = np.lexsort((row_numbers, codes))
    sorted_codes = codes[order]
    start = int(np.searchsorted(sorted_codes, 0))  # skip rows of unknown invoices (code -1)
    order = order[start:]
    sorted_codes = sorted_codes[start:]
    sub = rows.iloc[order]
    values = [
        col.ints(sub["row_number"]),
        col.texts(sub["product_code"]),
        col.texts(sub["name"]),
        col.numbers(sub["quantity"], 4),
        col.texts(sub["unit_code"]),
        col.money(sub["unit_price"]),
        col.numbers(sub["vat_percentage"], 2),
        col.money(sub["net_amount"]),
        col.money(sub["vat_amount"]),
        col.money(sub["gross_amount"]),
    ]
    row_dicts = [dict(zip(INVOICE_ROW_FIELDS, t, strict=True)) for t in zip(*values, strict=True)]
    if "discount_percentage" in sub:  # CHOSEN: only on rows that have one
        for row, discount in zip(row_dicts, col.numbers(sub["discount_percentage"], 2), strict=True):
            if discount is not None:
                row["discountPercentage"] = discount
    bounds = np.searchsorted(sorted_codes, np.arange(n + 1))
    for i in np.flatnonzero(np.diff(bounds)).tolist():
        grouped[i] = row_dicts[bounds[i] : bounds[i + 1]]
    return grouped


def invoice_bodies(
    invoices: pd.DataFrame, rows: pd.DataFrame, creditors: pd.DataFrame | None = None
) -> list[dict]:
    """One SalesInvoiceRequest body per invoices row, in frame order (zip with `invoices["invoice_id"]`).

    `rows` may hold rows of other invoices (ignored); `creditors` (optional) supplies seller defaults."""
    with col.gc_paused():
        return _invoice_bodies(invoices, rows, creditors)


def _invoice_bodies(invoices: pd.DataFrame, rows: pd.DataFrame, creditors: pd.DataFrame | None) -> list[dict]:
    n = len(invoices)
    if n == 0:
        return []
    t = {c: col.texts(invoices[c]) for c, spec in INVOICES_CONTRACT.items() if spec.kind == "str"}
    b = {c: col.bools(invoices[c]) for c, spec in INVOICES_CONTRACT.items() if spec.kind == "bool"}
    seller = _seller_columns(invoices, creditors)
    number = col.ints(invoices["invoice_number"])
    credited = col.ints(invoices["credited_invoice_number"])
    inv_date, due_date, order_date = (
        col.dates(invoices[c]) for c in ("invoice_date", "due_date", "order_date")
    )
    amounts = [col.money(invoices[c]) for c in ("net_amount", "vat_amount", "gross_amount")]
    rows_of = _row_lists(invoices, rows)
    customer_account = [v or "" for v in t["buyer_customer_account_id"]]
    recipient_language = [
        r if r is not None else buyer
        for r, buyer in zip(t["recipient_language_code"], t["buyer_language_code"], strict=True)
    ]

    rec = col.records
    seller_party = rec(
        ("businessId", "name", "vatCode", "address", "contact", "paymentDetails"),
        seller["seller_business_id"],
        seller["seller_name"],
        seller["seller_vat_code"],
        rec(
            ("street", "street2", "street3", "postalCode", "postalDistrict", "countryCode", "countryName"),
            seller["seller_street"],
            t["seller_street2"],
            t["seller_street3"],
            *(seller[f"seller_{c}"] for c in ("postal_code", "postal_district", "country_code")),
            seller["seller_country_name"],
        ),
        rec(
            ("contactPerson", "email", "phone"),
            rec(
                ("name", "email"), seller["seller_contact_person_name"], seller["seller_contact_person_email"]
            ),
            seller["seller_email"],
            seller["seller_phone"],
        ),
        rec(
            ("iban", "bic", "bankgiro", "postgiro"),
            *(seller[f"seller_{c}"] for c in ("iban", "bic", "bankgiro", "postgiro")),
        ),
    )
    address_keys = (
        "street",
        "street2",
        "street3",
        "postalCode",
        "postalDistrict",
        "countryCode",
        "countryName",
    )
    address_cols = (
        "street",
        "street2",
        "street3",
        "postal_code",
        "postal_district",
        "country_code",
        "country_name",
    )
    buyer_party = rec(
        (
            "entityType", "name", "customerAccountId", "personalIdentityNumber", "businessId", "vatCode",
            "electronicInvoiceAccount", "electronicRoutingAddress", "glnNumber", "languageCode",
            "disableCollection", "address", "contact",
        ),
        *(t[f"buyer_{c}"] for c in ("entity_type", "name")),
        customer_account,
        *(
            t[f"buyer_{c}"]
            for c in (
                "personal_identity_number", "business_id", "vat_code", "electronic_invoice_account",
                "electronic_routing_address", "gln_number", "language_code",
            )
        ),
        b["buyer_disable_collection"],
        rec(address_keys, *(t[f"buyer_{c}"] for c in address_cols)),
        rec(
            ("contactPerson", "email", "phone"),
            rec(("name", "email"), t["buyer_contact_person_name"], t["buyer_contact_person_email"]),
            t["buyer_email"],
            t["buyer_phone"],
        ),
    )  # fmt: skip
    recipient_party = rec(
        (
            "name", "businessId", "vatCode", "electronicInvoiceAccount", "electronicRoutingAddress", "glnNumber",
            "email", "languageCode", "address",
        ),
        *(
            t[f"recipient_{c}"]
            for c in (
                "name", "business_id", "vat_code", "electronic_invoice_account", "electronic_routing_address",
                "gln_number", "email",
            )
        ),
        recipient_language,
        rec(address_keys, *(t[f"recipient_{c}"] for c in address_cols)),
    )  # fmt: skip
    header = rec(
        ("number", "type", "date", "dueDate", "description", "additionalInformation", "currencyCode", "languageCode"),
        number, t["invoice_type"], inv_date, due_date, t["description"], t["additional_information"],
        t["currency_code"], t["language_code"],
    )  # fmt: skip
    references = rec(
        (
            "sales", "buyer", "agreement", "payment", "orderNumber", "orderDate", "electronicPaymentCode",
            "creditedInvoiceNumber", "invoiceCopyUrl",
        ),
        t["sales_reference"], t["buyer_reference"], t["agreement_reference"], t["payment_reference"],
        t["order_number"], order_date, t["electronic_payment_code"], credited, t["invoice_copy_url"],
    )  # fmt: skip
    processing = rec(
        ("paymentControlEnabled", "manualApprovalEnabled", "accountingInvoiceEnabled", "showProductCodeEnabled"),
        b["payment_control_enabled"], b["manual_approval_enabled"], b["accounting_invoice_enabled"],
        b["show_product_code_enabled"],
    )  # fmt: skip
    distribution = rec(("method", "enabled"), t["distribution_method"], b["distribution_enabled"])
    amount_dicts = rec(AMOUNT_FIELDS, *amounts)
    collections = _collections(invoices, t)
    bodies = [
        {
            "processing": proc,
            "distribution": dist,
            "invoice": {
                "header": head,
                "references": refs,
                "parties": {"sellerParty": sp, "buyerParty": bp, "invoiceRecipientParty": rp},
                "rows": rws,
                "amounts": amt,
            },
        }
        for proc, dist, head, refs, sp, bp, rp, rws, amt in zip(
            processing, distribution, header, references, seller_party, buyer_party, recipient_party, rows_of,
            amount_dicts, strict=True,
        )
    ]  # fmt: skip
    for body, collection in zip(bodies, collections, strict=True):
        if collection:
            body["invoice"]["collection"] = collection
        parties = body["invoice"]["parties"]
        for party, keys in _ONLY_WHEN_GIVEN:
            address = parties[party]["address"]
            for key in keys:
                if address[key] is None:
                    del address[key]
    return bodies


#: address fields the documented example does not carry: sent only when given (bodies stay as documented)
_ONLY_WHEN_GIVEN = (
    ("sellerParty", ("street2", "street3")),
    ("buyerParty", ("countryName",)),
    ("invoiceRecipientParty", ("countryName",)),
)


def _collections(invoices: pd.DataFrame, t: dict[str, list]) -> list[dict]:
    """invoice.collection (CHOSEN placement): costs and interest, each only when given (the docs: "only use it
    when such costs exist"); an invoice without either gets no `collection` at all."""
    costs = [col.money(invoices[c]) for c in ("creditor_costs_amount", "collection_fees_amount")]
    percentage = col.numbers(invoices["interest_percentage"], 4)
    out = []
    for creditor_costs, fees, kind, pct in zip(*costs, t["interest_type"], percentage, strict=True):
        collection: dict = {}
        if creditor_costs is not None or fees is not None:
            collection["costs"] = {
                "creditorCostsAmount": creditor_costs or 0.0,
                "collectionFeesAmount": fees or 0.0,
            }
        if kind is not None:
            collection["interest"] = {"type": kind, "percentage": pct if pct is not None else 0.0}
        out.append(collection)
    return out
