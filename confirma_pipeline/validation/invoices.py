"""pandera models of `confirma_source.invoices` and `confirma_source.invoice_rows`, and the cross-table check
that an invoice's totals equal the sums of its rows.

Money is float64 (see the dtype contract in `confirma_pipeline.warehouse.source`): amounts must have at most
two decimals, and every arithmetic comparison allows half a cent (`identifiers.MONEY_TOLERANCE`). A row's
amounts follow the rule chosen in `confirma_pipeline.api.contract`: net = round(quantity * unit_price, 2),
vat = round(net * vat_percentage / 100, 2), gross = net + vat. "Within half a cent of the unrounded value"
accepts exactly the correctly rounded cents, whichever way a tie was rounded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from confirma_pipeline.api.contract import (
    DISTRIBUTION_METHODS,
    ENTITY_TYPES,
    INTEREST_TYPES,
    INVOICE_TYPES,
    NEGATIVE_ALLOWED_TYPES,
    QUANTITY_DECIMALS,
    TOTALS_SIGN,
)
from confirma_pipeline.validation import identifiers as ids
from confirma_pipeline.validation._checks import (
    DATE_RANGE_CHECK,
    MAX_LENGTH_CHECK,
    XML_SAFE_CHECK,
    XML_SAFE_ERROR,
    business_id_ok,
    date_in_range,
    optional,
    postal_code_ok,
    present,
    row_check,
    within_max_length,
    xml_safe,
)
from confirma_pipeline.validation._checks import field as _f
from confirma_pipeline.validation._checks import nullable_field as _n
from confirma_pipeline.validation.dtypes import DateUS, UTCTimestamp
from confirma_pipeline.validation.text_lengths import INVOICE_ROW_TEXT_PATHS, INVOICE_TEXT_PATHS, max_lengths

INVOICE_REQUIRED_TEXT = (
    "invoice_id", "creditor_id", "buyer_name", "buyer_street", "buyer_postal_code", "buyer_postal_district",
)  # fmt: skip
INVOICE_EMAILS = (
    "seller_contact_person_email", "seller_email", "buyer_contact_person_email", "buyer_email", "recipient_email",
)  # fmt: skip
INVOICE_AMOUNTS = ("net_amount", "vat_amount", "gross_amount")
TOTALS_SIGN_CHECK = "totals_sign_fits_invoice_type"
#: column -> maximum characters (the CHOSEN limit of the body field it becomes)
INVOICE_MAX_LENGTHS = max_lengths(INVOICE_TEXT_PATHS)
INVOICE_ROW_MAX_LENGTHS = max_lengths(INVOICE_ROW_TEXT_PATHS)
#: row columns that may be negative only on NEGATIVE_ALLOWED_TYPES
SIGNED_ROW_COLUMNS = ("quantity", "unit_price", "net_amount", "vat_amount", "gross_amount")


class InvoiceModel(pa.DataFrameModel):
    """One invoice header with its processing, distribution, references, parties and totals. Nullable text
    columns are null when not given (the API body then carries null, as in the endpoint example)."""

    invoice_id: Series[str] = _f("Stable id of the invoice in the warehouse (key).", unique=True)
    creditor_id: Series[str] = _f("The creditor (client) issuing the invoice.")
    payment_control_enabled: Series[bool] = _f("processing.paymentControlEnabled.")
    manual_approval_enabled: Series[bool] = _f("processing.manualApprovalEnabled.")
    accounting_invoice_enabled: Series[bool] = _f("processing.accountingInvoiceEnabled.")
    show_product_code_enabled: Series[bool] = _f("processing.showProductCodeEnabled.")
    distribution_method: Series[str] = _f("distribution.method: EMAIL, PRINT or EINVOICE.")
    distribution_enabled: Series[bool] = _f("distribution.enabled.")
    invoice_number: Series[int] = _f("header.number, unique per creditor.", gt=0)
    invoice_type: Series[str] = _f("header.type: INVOICE or CREDIT_NOTE.")
    invoice_date: Series[DateUS] = _f("header.date.")
    due_date: Series[DateUS] = _f("header.dueDate, not before invoice_date.")
    description: Series[str] = _n("header.description.")
    additional_information: Series[str] = _n("header.additionalInformation.")
    currency_code: Series[str] = _f("header.currencyCode, ISO 4217.")
    language_code: Series[str] = _f("header.languageCode, ISO 639-1.")
    sales_reference: Series[str] = _n("references.sales (seller's reference).")
    buyer_reference: Series[str] = _n("references.buyer (buyer's reference).")
    agreement_reference: Series[str] = _n("references.agreement.")
    payment_reference: Series[str] = _n("references.payment: Finnish 7-3-1 or RF creditor reference.")
    order_number: Series[str] = _n("references.orderNumber.")
    order_date: Series[DateUS] = _n("references.orderDate.")
    electronic_payment_code: Series[str] = _n("references.electronicPaymentCode.")
    credited_invoice_number: Series[pd.Int64Dtype] = _n(
        "references.creditedInvoiceNumber (credit notes).", gt=0
    )
    invoice_copy_url: Series[str] = _n("references.invoiceCopyUrl.")
    seller_business_id: Series[str] = _n("sellerParty.businessId; null = the creditor's business_code.")
    seller_name: Series[str] = _n("sellerParty.name; null = the creditor's name.")
    seller_vat_code: Series[str] = _n("sellerParty.vatCode; null = the creditor's vat_reg_nbr.")
    seller_street: Series[str] = _n("sellerParty.address.street; null = the creditor's postal_address.")
    seller_postal_code: Series[str] = _n("sellerParty.address.postalCode; null = the creditor's.")
    seller_postal_district: Series[str] = _n("sellerParty.address.postalDistrict; null = the creditor's.")
    seller_country_code: Series[str] = _n("sellerParty.address.countryCode; null = the creditor's.")
    seller_country_name: Series[str] = _n("sellerParty.address.countryName, e.g. FINLAND.")
    seller_contact_person_name: Series[str] = _n("sellerParty.contact.contactPerson.name.")
    seller_contact_person_email: Series[str] = _n("sellerParty.contact.contactPerson.email.")
    seller_email: Series[str] = _n("sellerParty.contact.email; null = the creditor's email.")
    seller_phone: Series[str] = _n("sellerParty.contact.phone; null = the creditor's telephone.")
    seller_iban: Series[str] = _n("sellerParty.paymentDetails.iban; null = the creditor's iban_account.")
    seller_bic: Series[str] = _n("sellerParty.paymentDetails.bic; null = the creditor's bic.")
    seller_bankgiro: Series[str] = _n("sellerParty.paymentDetails.bankgiro.")
    seller_postgiro: Series[str] = _n("sellerParty.paymentDetails.postgiro.")
    buyer_entity_type: Series[str] = _f("buyerParty.entityType: BUSINESS or CONSUMER.")
    buyer_name: Series[str] = _f("buyerParty.name.")
    buyer_customer_account_id: Series[str] = _f("buyerParty.customerAccountId ('' if none).")
    buyer_personal_identity_number: Series[str] = _n("buyerParty.personalIdentityNumber (consumers).")
    buyer_business_id: Series[str] = _n("buyerParty.businessId (Y-tunnus for Finnish buyers).")
    buyer_vat_code: Series[str] = _n("buyerParty.vatCode.")
    buyer_electronic_invoice_account: Series[str] = _n(
        "buyerParty.electronicInvoiceAccount (e-invoice address)."
    )
    buyer_electronic_routing_address: Series[str] = _n("buyerParty.electronicRoutingAddress (operator id).")
    buyer_gln_number: Series[str] = _n("buyerParty.glnNumber.")
    buyer_language_code: Series[str] = _f("buyerParty.languageCode, ISO 639-1.")
    buyer_disable_collection: Series[bool] = _f("buyerParty.disableCollection.")
    buyer_street: Series[str] = _f("buyerParty.address.street.")
    buyer_street2: Series[str] = _n("buyerParty.address.street2.")
    buyer_street3: Series[str] = _n("buyerParty.address.street3.")
    buyer_postal_code: Series[str] = _f(
        "buyerParty.address.postalCode, validated against buyer_country_code."
    )
    buyer_postal_district: Series[str] = _f("buyerParty.address.postalDistrict.")
    buyer_country_code: Series[str] = _f("buyerParty.address.countryCode, ISO 3166-1 alpha-2.")
    buyer_contact_person_name: Series[str] = _n("buyerParty.contact.contactPerson.name.")
    buyer_contact_person_email: Series[str] = _n("buyerParty.contact.contactPerson.email.")
    buyer_email: Series[str] = _n("buyerParty.contact.email.")
    buyer_phone: Series[str] = _n("buyerParty.contact.phone.")
    recipient_name: Series[str] = _n("invoiceRecipientParty.name (all recipient fields null = the buyer).")
    recipient_business_id: Series[str] = _n("invoiceRecipientParty.businessId.")
    recipient_vat_code: Series[str] = _n("invoiceRecipientParty.vatCode.")
    recipient_electronic_invoice_account: Series[str] = _n("invoiceRecipientParty.electronicInvoiceAccount.")
    recipient_electronic_routing_address: Series[str] = _n("invoiceRecipientParty.electronicRoutingAddress.")
    recipient_gln_number: Series[str] = _n("invoiceRecipientParty.glnNumber.")
    recipient_email: Series[str] = _n("invoiceRecipientParty.email.")
    recipient_language_code: Series[str] = _n("invoiceRecipientParty.languageCode; null = the buyer's.")
    recipient_street: Series[str] = _n("invoiceRecipientParty.address.street.")
    recipient_street2: Series[str] = _n("invoiceRecipientParty.address.street2.")
    recipient_street3: Series[str] = _n("invoiceRecipientParty.address.street3.")
    recipient_postal_code: Series[str] = _n("invoiceRecipientParty.address.postalCode.")
    recipient_postal_district: Series[str] = _n("invoiceRecipientParty.address.postalDistrict.")
    recipient_country_code: Series[str] = _n("invoiceRecipientParty.address.countryCode.")
    net_amount: Series[float] = _f("amounts.netAmount: sum of the rows' net amounts.")
    vat_amount: Series[float] = _f("amounts.vatAmount: sum of the rows' VAT amounts.")
    gross_amount: Series[float] = _f("amounts.grossAmount: sum of the rows' gross amounts.")
    updated_at: Series[UTCTimestamp] = _f("When the source row last changed (UTC).")
    creditor_costs_amount: Series[float] = _n(
        "collection.costs.creditorCostsAmount: the seller's own costs, >= 0."
    )
    collection_fees_amount: Series[float] = _n(
        "collection.costs.collectionFeesAmount: fees already on it, >= 0."
    )
    interest_type: Series[str] = _n(
        f"collection.interest.type: {', '.join(INTEREST_TYPES)}.", isin=INTEREST_TYPES
    )
    interest_percentage: Series[float] = _n(
        "collection.interest.percentage, 0-100 (ignored by the agency for REFERENCE_RATE).", ge=0, le=100
    )
    seller_street2: Series[str] = _n("sellerParty.address.street2.")
    seller_street3: Series[str] = _n("sellerParty.address.street3.")
    buyer_country_name: Series[str] = _n("buyerParty.address.countryName, e.g. FINLAND.")
    recipient_country_name: Series[str] = _n("invoiceRecipientParty.address.countryName.")

    class Config:
        strict = True
        coerce = False
        name = "invoice"
        description = "Invoices to submit (confirma_source.invoices)."
        unique = ["creditor_id", "invoice_number"]

    # --- single-column checks ----------------------------------------------------------------------------

    @pa.check(*INVOICE_REQUIRED_TEXT, name="not_blank", error="must not be blank")
    def _not_blank(cls, s: pd.Series) -> pd.Series:
        return ~ids.is_blank(s)

    @pa.check(*INVOICE_MAX_LENGTHS, name=MAX_LENGTH_CHECK, error="longer than its body field allows")
    def _max_length(cls, s: pd.Series) -> pd.Series:
        return within_max_length(s, INVOICE_MAX_LENGTHS)

    @pa.check(*INVOICE_MAX_LENGTHS, name=XML_SAFE_CHECK, error=XML_SAFE_ERROR)
    def _xml_safe(cls, s: pd.Series) -> pd.Series:
        return xml_safe(s)

    @pa.check("invoice_date", "due_date", "order_date", name=DATE_RANGE_CHECK,
              error="is outside 2000-01-01 .. 2099-12-31 (a typo?)")  # fmt: skip
    def _date_range(cls, s: pd.Series) -> pd.Series:
        return date_in_range(s)

    @pa.check("distribution_method", name="distribution_method_known",
              error=f"must be one of {', '.join(DISTRIBUTION_METHODS)}")  # fmt: skip
    def _distribution_method(cls, s: pd.Series) -> pd.Series:
        return s.isin(DISTRIBUTION_METHODS)

    @pa.check("invoice_type", name="invoice_type_known", error=f"must be one of {', '.join(INVOICE_TYPES)}")
    def _invoice_type(cls, s: pd.Series) -> pd.Series:
        return s.isin(INVOICE_TYPES)

    @pa.check(
        "buyer_entity_type", name="buyer_entity_type_known", error=f"must be one of {', '.join(ENTITY_TYPES)}"
    )
    def _entity_type(cls, s: pd.Series) -> pd.Series:
        return s.isin(ENTITY_TYPES)

    @pa.check("currency_code", name="currency_is_iso4217", error="must be an ISO 4217 code")
    def _currency(cls, s: pd.Series) -> pd.Series:
        return ids.is_currency(s)

    @pa.check("language_code", "buyer_language_code", "recipient_language_code", name="language_is_iso639_1",
              error="must be an ISO 639-1 code")  # fmt: skip
    def _language(cls, s: pd.Series) -> pd.Series:
        return ids.is_language(s)

    @pa.check("buyer_country_code", name="country_is_iso3166", error="must be an ISO 3166-1 alpha-2 code")
    def _country(cls, s: pd.Series) -> pd.Series:
        return ids.is_country(s)

    @pa.check("seller_country_code", "recipient_country_code", name="country_is_iso3166",
              error="must be an ISO 3166-1 alpha-2 code when given")  # fmt: skip
    def _optional_country(cls, s: pd.Series) -> pd.Series:
        return optional(ids.is_country(s), s)

    @pa.check("payment_reference", name="payment_reference_checksum",
              error="must be a Finnish reference (7-3-1 check digit) or an RF creditor reference")  # fmt: skip
    def _payment_reference(cls, s: pd.Series) -> pd.Series:
        return optional(ids.is_payment_reference(s), s)

    @pa.check("seller_iban", name="iban_checksum", error="must be a valid IBAN when given")
    def _iban(cls, s: pd.Series) -> pd.Series:
        return optional(ids.is_iban(s), s)

    @pa.check("seller_bic", name="bic_format", error="must be a BIC (8 or 11 characters) when given")
    def _bic(cls, s: pd.Series) -> pd.Series:
        return optional(ids.is_bic(s), s)

    @pa.check(*INVOICE_EMAILS, name="email_format", error="must be an e-mail address when given")
    def _email(cls, s: pd.Series) -> pd.Series:
        return optional(ids.is_email(s), s)

    @pa.check("invoice_copy_url", name="url_format", error="must be a URL when given")
    def _url(cls, s: pd.Series) -> pd.Series:
        return optional(ids.is_url(s), s)

    @pa.check(*INVOICE_AMOUNTS, name="amount_has_two_decimals", error="must have at most 2 decimals")
    def _two_decimals(cls, s: pd.Series) -> pd.Series:
        return ids.has_max_decimals(s, 2)

    @pa.check("creditor_costs_amount", "collection_fees_amount", name="cost_non_negative_two_decimals",
              error="must be >= 0 with at most 2 decimals")  # fmt: skip
    def _costs(cls, s: pd.Series) -> pd.Series:
        return (s >= 0) & ids.has_max_decimals(s, 2)

    @row_check("fixed_interest_needs_percentage", columns=["interest_percentage"], context=["interest_type"],
               error="a FIXED interest needs its percentage")  # fmt: skip
    def _fixed_interest(cls, df: pd.DataFrame) -> pd.Series:
        return ~((df["interest_type"] == "FIXED").fillna(False) & df["interest_percentage"].isna())

    # --- row checks (several columns) --------------------------------------------------------------------

    @row_check("due_date_not_before_invoice_date", columns=["due_date"], context=["invoice_date"],
               error="due date is before the invoice date")  # fmt: skip
    def _due_date(cls, df: pd.DataFrame) -> pd.Series:
        return df["due_date"] >= df["invoice_date"]

    @row_check("gross_equals_net_plus_vat", columns=["gross_amount"], context=["net_amount", "vat_amount"],
               error="gross amount is not net + VAT")  # fmt: skip
    def _gross(cls, df: pd.DataFrame) -> pd.Series:
        ok = ids.money_equal(df["gross_amount"], df["net_amount"] + df["vat_amount"])
        return pd.Series(ok, index=df.index)

    @row_check(TOTALS_SIGN_CHECK, columns=list(INVOICE_AMOUNTS), context=["invoice_type"],
               error="the totals' sign does not fit the document type")  # fmt: skip
    def _totals_sign(cls, df: pd.DataFrame) -> pd.Series:
        sign = df["invoice_type"].map(TOTALS_SIGN).to_numpy(dtype=float, na_value=np.nan)
        ok = np.ones(len(df), dtype=bool)
        for column in INVOICE_AMOUNTS:
            signed = df[column].to_numpy(dtype=float) * sign
            ok &= ~(signed < 0)  # an unknown type (NaN) is invoice_type_known's business
        return pd.Series(ok, index=df.index)

    @row_check("business_id_check_digit", columns=["seller_business_id"], context=["seller_country_code"],
               error="a Finnish business id must be NNNNNNN-C with a valid check digit")  # fmt: skip
    def _seller_business_id(cls, df: pd.DataFrame) -> pd.Series:
        return business_id_ok(df["seller_business_id"], df["seller_country_code"], required=False)

    @row_check("business_id_check_digit", columns=["buyer_business_id"], context=["buyer_country_code"],
               error="a Finnish business id must be NNNNNNN-C with a valid check digit")  # fmt: skip
    def _buyer_business_id(cls, df: pd.DataFrame) -> pd.Series:
        return business_id_ok(df["buyer_business_id"], df["buyer_country_code"], required=False)

    @row_check("business_id_check_digit", columns=["recipient_business_id"], context=["recipient_country_code"],
               error="a Finnish business id must be NNNNNNN-C with a valid check digit")  # fmt: skip
    def _recipient_business_id(cls, df: pd.DataFrame) -> pd.Series:
        return business_id_ok(df["recipient_business_id"], df["recipient_country_code"], required=False)

    @row_check("postal_code_matches_country", columns=["buyer_postal_code"], context=["buyer_country_code"],
               error="postal code is not valid for the country")  # fmt: skip
    def _buyer_postal_code(cls, df: pd.DataFrame) -> pd.Series:
        return postal_code_ok(df["buyer_postal_code"], df["buyer_country_code"], required=True)

    @row_check("postal_code_matches_country", columns=["seller_postal_code"], context=["seller_country_code"],
               error="postal code is not valid for the country")  # fmt: skip
    def _seller_postal_code(cls, df: pd.DataFrame) -> pd.Series:
        return postal_code_ok(df["seller_postal_code"], df["seller_country_code"], required=False)

    @row_check("postal_code_matches_country", columns=["recipient_postal_code"],
               context=["recipient_country_code"], error="postal code is not valid for the country")  # fmt: skip
    def _recipient_postal_code(cls, df: pd.DataFrame) -> pd.Series:
        return postal_code_ok(df["recipient_postal_code"], df["recipient_country_code"], required=False)

    @row_check("credit_note_has_credited_invoice_number", columns=["credited_invoice_number"],
               context=["invoice_type"], error="a CREDIT_NOTE must name the credited invoice number")  # fmt: skip
    def _credit_note(cls, df: pd.DataFrame) -> pd.Series:
        credit = (df["invoice_type"] == "CREDIT_NOTE").to_numpy(dtype=bool)
        return pd.Series(~credit | df["credited_invoice_number"].notna().to_numpy(), index=df.index)

    @row_check("email_distribution_has_email_address", columns=["buyer_email", "recipient_email"],
               context=["distribution_method"],
               error="EMAIL distribution needs a buyer or recipient e-mail address")  # fmt: skip
    def _email_distribution(cls, df: pd.DataFrame) -> pd.Series:
        email = (df["distribution_method"] == "EMAIL").to_numpy(dtype=bool)
        has = present(df["buyer_email"]) | present(df["recipient_email"])
        return pd.Series(~email | has, index=df.index)

    @row_check("einvoice_distribution_has_address",
               columns=["buyer_electronic_invoice_account", "recipient_electronic_invoice_account"],
               context=["distribution_method"],
               error="EINVOICE distribution needs an electronic invoice account")  # fmt: skip
    def _einvoice_distribution(cls, df: pd.DataFrame) -> pd.Series:
        einvoice = (df["distribution_method"] == "EINVOICE").to_numpy(dtype=bool)
        has = present(df["buyer_electronic_invoice_account"]) | present(
            df["recipient_electronic_invoice_account"]
        )
        return pd.Series(~einvoice | has, index=df.index)


class InvoiceRowModel(pa.DataFrameModel):
    """One invoice row (product line)."""

    invoice_id: Series[str] = _f("The invoice this row belongs to.")
    row_number: Series[int] = _f("rows[].rowNumber, 1-based, unique per invoice.", ge=1)
    product_code: Series[str] = _n("rows[].productCode.")
    name: Series[str] = _f("rows[].name (product or service description).")
    quantity: Series[float] = _f(
        f"rows[].quantity (at most {QUANTITY_DECIMALS} decimals; negative on credits)."
    )
    unit_code: Series[str] = _f("rows[].unitCode, e.g. kpl, h, C62.")
    unit_price: Series[float] = _f("rows[].unitPrice excluding VAT.")
    vat_percentage: Series[float] = _f("rows[].vatPercentage, 0-100.", ge=0, le=100)
    net_amount: Series[float] = _f("rows[].netAmount = round(quantity * unit_price, 2).")
    vat_amount: Series[float] = _f("rows[].vatAmount = round(net_amount * vat_percentage / 100, 2).")
    gross_amount: Series[float] = _f("rows[].grossAmount = net_amount + vat_amount.")
    discount_percentage: Series[float] = _n(
        "rows[].discountPercentage, 0-100 (lowers net_amount).", ge=0, le=100
    )

    class Config:
        strict = True
        coerce = False
        name = "invoice_row"
        description = "Invoice rows (confirma_source.invoice_rows)."
        unique = ["invoice_id", "row_number"]

    @pa.check("invoice_id", "name", "unit_code", name="not_blank", error="must not be blank")
    def _not_blank(cls, s: pd.Series) -> pd.Series:
        return ~ids.is_blank(s)

    @pa.check(*INVOICE_ROW_MAX_LENGTHS, name=MAX_LENGTH_CHECK, error="longer than its body field allows")
    def _max_length(cls, s: pd.Series) -> pd.Series:
        return within_max_length(s, INVOICE_ROW_MAX_LENGTHS)

    @pa.check(*INVOICE_ROW_MAX_LENGTHS, name=XML_SAFE_CHECK, error=XML_SAFE_ERROR)
    def _xml_safe(cls, s: pd.Series) -> pd.Series:
        return xml_safe(s)

    @pa.check("unit_price", "net_amount", "vat_amount", "gross_amount", name="amount_has_two_decimals",
              error="must have at most 2 decimals")  # fmt: skip
    def _two_decimals(cls, s: pd.Series) -> pd.Series:
        return ids.has_max_decimals(s, 2)

    @pa.check("quantity", name="quantity_decimals", error=f"must have at most {QUANTITY_DECIMALS} decimals")
    def _quantity(cls, s: pd.Series) -> pd.Series:
        return ids.has_max_decimals(s, QUANTITY_DECIMALS)

    @row_check(
        "row_amounts_match_quantity_price_vat",
        columns=["net_amount", "vat_amount", "gross_amount"],
        context=["quantity", "unit_price", "vat_percentage", "discount_percentage"],
        error="net must be round(quantity*unit_price, 2), vat round(net*vat%/100, 2), gross net+vat",
    )
    def _row_amounts(cls, df: pd.DataFrame) -> pd.Series:
        return pd.Series(row_amounts_ok(df), index=df.index)


def expected_row_amounts(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unrounded (net, vat, gross) a row should carry: q*p, net*vat%/100 (on the row's own net), net+vat."""
    net = df["net_amount"].to_numpy(dtype=float)
    vat = df["vat_amount"].to_numpy(dtype=float)
    discount = (
        df["discount_percentage"].to_numpy(dtype=float, na_value=0.0) if "discount_percentage" in df else 0.0
    )
    exp_net = (
        df["quantity"].to_numpy(dtype=float) * df["unit_price"].to_numpy(dtype=float) * (1 - discount / 100)
    )
    exp_vat = net * df["vat_percentage"].to_numpy(dtype=float) / 100.0
    return exp_net, exp_vat, net + vat


def row_amounts_ok(df: pd.DataFrame) -> np.ndarray:
    exp_net, exp_vat, exp_gross = expected_row_amounts(df)
    return (
        ids.money_equal(df["net_amount"], exp_net)
        & ids.money_equal(df["vat_amount"], exp_vat)
        & ids.money_equal(df["gross_amount"], exp_gross)
    )


# --- cross-table: invoice totals vs its rows ----------------------------------------------------------------

ROW_SUMS_CHECK = "row_sums_equal_invoice_totals"
ROW_SIGN_CHECK = "no_negative_row_on_this_document_type"
HAS_ROWS_CHECK = "invoice_has_rows"
ROW_HAS_INVOICE_CHECK = "row_belongs_to_an_invoice"


def row_sums(invoices: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Per invoice (aligned on `invoices.index`): row count, sums of the rows' net/vat/gross, and
    `row_sums_equal_invoice_totals` (bool; False also when the invoice has no rows). Rows are matched to the
    first invoice with their invoice_id (duplicate ids are rejected by the model anyway)."""
    inv_ids = invoices["invoice_id"]
    n = len(invoices)
    first = ids.arrow_index_in(inv_ids, inv_ids)  # position of each id's first occurrence
    codes = ids.arrow_index_in(rows["invoice_id"], inv_ids) if len(rows) else np.zeros(0, np.int64)
    keep = codes >= 0
    pos = np.maximum(first, 0)
    counts = np.where(first >= 0, np.bincount(codes[keep], minlength=n)[pos], 0)
    out = pd.DataFrame({"row_count": counts}, index=invoices.index)
    ok = counts > 0
    for col in INVOICE_AMOUNTS:
        total = np.bincount(codes[keep], weights=rows[col].to_numpy(dtype=float)[keep], minlength=n)
        out[f"rows_{col}"] = np.where(first >= 0, total[pos], 0.0)
        ok &= ids.money_equal(invoices[col].to_numpy(dtype=float), out[f"rows_{col}"].to_numpy())
    out[ROW_SUMS_CHECK] = ok
    return out


def row_sums_equal_invoice_totals(invoices: pd.DataFrame, rows: pd.DataFrame) -> pd.Series:
    """Boolean per invoice: it has rows and its net, VAT and gross totals equal the sums of its rows (within
    half a cent)."""
    return row_sums(invoices, rows)[ROW_SUMS_CHECK]


def negative_rows(invoices: pd.DataFrame, rows: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """(positions of rows carrying a negative value on a document type that allows none, the type of each
    row's invoice). Rows of unknown invoices are not judged here."""
    codes = ids.arrow_index_in(rows["invoice_id"], invoices["invoice_id"]) if len(rows) else np.zeros(0, int)
    allowed = ids.arrow_isin(invoices["invoice_type"], list(NEGATIVE_ALLOWED_TYPES)) if len(invoices) else []
    allowed = np.asarray(allowed, dtype=bool)
    judged = (codes >= 0) & ~np.where(
        codes >= 0, allowed[np.maximum(codes, 0)] if len(allowed) else False, True
    )
    negative = np.zeros(len(rows), dtype=bool)
    for column in SIGNED_ROW_COLUMNS:
        negative |= rows[column].to_numpy(dtype=float) < 0
    positions = np.flatnonzero(judged & negative)
    types = (
        invoices["invoice_type"].to_numpy(dtype=object)[codes[positions]].tolist() if len(positions) else []
    )
    return positions, types
