"""pandera model of `confirma_source.creditors` (the create-client body, one row per creditor)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from confirma_pipeline.api.contract import SERVICE_TYPES
from confirma_pipeline.validation import identifiers as ids
from confirma_pipeline.validation._checks import (
    MAX_LENGTH_CHECK,
    XML_SAFE_CHECK,
    XML_SAFE_ERROR,
    business_id_ok,
    optional,
    postal_code_ok,
    row_check,
    within_max_length,
    xml_safe,
)
from confirma_pipeline.validation._checks import field as _f
from confirma_pipeline.validation.dtypes import UTCTimestamp
from confirma_pipeline.validation.text_lengths import CREDITOR_TEXT_PATHS, max_lengths

# Text columns that must not be blank (create-client required fields, contract.REQUIRED_CLIENT_FIELDS, except
# partnerCode, which the pipeline may fill from its configuration when the row leaves it empty).
REQUIRED_TEXT = (
    "creditor_id", "name", "business_code", "postal_address", "postal_code", "postal_district",
    "primary_contact_name",
)  # fmt: skip
#: column -> maximum characters (the CHOSEN limit of the body field it becomes)
CREDITOR_MAX_LENGTHS = max_lengths(CREDITOR_TEXT_PATHS)
OPTIONAL_EMAILS = ("primary_contact_email", "technical_contact_email", "accountant_contact_email")


class CreditorModel(pa.DataFrameModel):
    """One creditor to onboard as a Confirma client. Optional text fields are '' when not given (never null),
    exactly as the create-client example sends them."""

    creditor_id: Series[str] = _f("Stable id of the creditor in the warehouse (key).", unique=True)
    service_type: Series[str] = _f("Confirma service: LIFECYCLE, INTERMEDIATION or COOP (service.type).")
    partner_code: Series[str] = _f(
        "Partner code (service.partnerCode); '' = use the pipeline's configured code."
    )
    name: Series[str] = _f("Legal name of the creditor (client.name).")
    business_code: Series[str] = _f("Business id, Finnish Y-tunnus NNNNNNN-C for FI (client.businessCode).")
    vat_reg_nbr: Series[str] = _f("VAT registration number, e.g. FI06461158 (client.vatRegNbr).")
    postal_address: Series[str] = _f("Street address (client.postalAddress).")
    postal_code: Series[str] = _f("Postal code, validated against country_code (client.postalCode).")
    postal_district: Series[str] = _f("Post office / city (client.postalDistrict).")
    country_code: Series[str] = _f("ISO 3166-1 alpha-2 country (client.countryCode).")
    telephone: Series[str] = _f("Telephone, '' if none (client.telephone).")
    email: Series[str] = _f("E-mail of the creditor (client.email).")
    website: Series[str] = _f("Website URL, '' if none (client.website).")
    language_code: Series[str] = _f("ISO 639-1 language, e.g. FI, SV, EN (client.languageCode).")
    currency_code: Series[str] = _f("ISO 4217 currency, e.g. EUR (client.currencyCode).")
    iban_account: Series[str] = _f("Settlement account IBAN, '' if none (client.ibanAccount).")
    bic: Series[str] = _f("BIC of the account, '' if none (client.bic).")
    bankgiro: Series[str] = _f("Swedish bankgiro number, '' if none (client.bankgiro).")
    plusgiro: Series[str] = _f("Swedish plusgiro number, '' if none (client.plusgiro).")
    primary_contact_name: Series[str] = _f("Primary contact's name (contacts.primary.name).")
    primary_contact_telephone: Series[str] = _f("Primary contact's telephone (contacts.primary.telephone).")
    primary_contact_mobile: Series[str] = _f("Primary contact's mobile (contacts.primary.mobile).")
    primary_contact_email: Series[str] = _f("Primary contact's e-mail (contacts.primary.email).")
    technical_contact_name: Series[str] = _f("Technical contact's name (contacts.technical.name).")
    technical_contact_email: Series[str] = _f("Technical contact's e-mail (contacts.technical.email).")
    accountant_contact_name: Series[str] = _f("Accountant's name (contacts.accountant.name).")
    accountant_contact_email: Series[str] = _f("Accountant's e-mail (contacts.accountant.email).")
    updated_at: Series[UTCTimestamp] = _f("When the source row last changed (UTC).")

    class Config:
        strict = True
        coerce = False
        name = "creditor"
        description = "Creditors to onboard (confirma_source.creditors)."

    @pa.check(*REQUIRED_TEXT, name="not_blank", error="must not be blank")
    def _not_blank(cls, s: pd.Series) -> pd.Series:
        return ~ids.is_blank(s)

    @pa.check(
        "partner_code",
        name="partner_code_or_CONFIRMA_PARTNER_CODE_set",
        error="is blank and CONFIRMA_PARTNER_CODE is not set (the API refuses an empty service.partnerCode)",
    )
    def _partner_code(cls, s: pd.Series) -> pd.Series:
        return ~ids.is_blank(s)

    @pa.check(*CREDITOR_MAX_LENGTHS, name=MAX_LENGTH_CHECK, error="longer than its body field allows")
    def _max_length(cls, s: pd.Series) -> pd.Series:
        return within_max_length(s, CREDITOR_MAX_LENGTHS)

    @pa.check(*CREDITOR_MAX_LENGTHS, name=XML_SAFE_CHECK, error=XML_SAFE_ERROR)
    def _xml_safe(cls, s: pd.Series) -> pd.Series:
        return xml_safe(s)

    @pa.check("service_type", name="service_type_known", error=f"must be one of {', '.join(SERVICE_TYPES)}")
    def _service_type(cls, s: pd.Series) -> pd.Series:
        return s.isin(SERVICE_TYPES)

    @pa.check("country_code", name="country_is_iso3166", error="must be an ISO 3166-1 alpha-2 code")
    def _country(cls, s: pd.Series) -> pd.Series:
        return ids.is_country(s)

    @pa.check("language_code", name="language_is_iso639_1", error="must be an ISO 639-1 code")
    def _language(cls, s: pd.Series) -> pd.Series:
        return ids.is_language(s)

    @pa.check("currency_code", name="currency_is_iso4217", error="must be an ISO 4217 code")
    def _currency(cls, s: pd.Series) -> pd.Series:
        return ids.is_currency(s)

    @pa.check("email", name="email_format", error="must be an e-mail address")
    def _email(cls, s: pd.Series) -> pd.Series:
        return ids.is_email(s)

    @pa.check(*OPTIONAL_EMAILS, name="email_format", error="must be an e-mail address or ''")
    def _optional_email(cls, s: pd.Series) -> pd.Series:
        return optional(ids.is_email(s), s)

    @pa.check("website", name="url_format", error="must be a URL or ''")
    def _website(cls, s: pd.Series) -> pd.Series:
        return optional(ids.is_url(s), s)

    @pa.check("iban_account", name="iban_checksum", error="must be a valid IBAN or ''")
    def _iban(cls, s: pd.Series) -> pd.Series:
        return optional(ids.is_iban(s), s)

    @pa.check("bic", name="bic_format", error="must be a BIC (8 or 11 characters) or ''")
    def _bic(cls, s: pd.Series) -> pd.Series:
        return optional(ids.is_bic(s), s)

    @row_check(
        "business_id_check_digit",
        columns=["business_code"],
        context=["country_code"],
        error="a Finnish business id must be NNNNNNN-C with a valid check digit",
    )
    def _business_code(cls, df: pd.DataFrame) -> pd.Series:
        return business_id_ok(df["business_code"], df["country_code"], required=True)

    @row_check(
        "postal_code_matches_country",
        columns=["postal_code"],
        context=["country_code"],
        error="postal code is not valid for the country",
    )
    def _postal_code(cls, df: pd.DataFrame) -> pd.Series:
        return postal_code_ok(df["postal_code"], df["country_code"], required=True)
