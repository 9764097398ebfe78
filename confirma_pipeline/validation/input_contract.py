"""The input contract's dtypes: every column of the input tables (schema `confirma_source`), its kind and
its nullability, declared once.

Why in `validation/`: the contract is what validation holds the input to; the warehouse's reader
(`warehouse/source.py`) and the pandera models (`validation/creditors.py`, `invoices.py`, `dtypes.py`) both
take it from here, so it points one way (warehouse -> validation, never back).

The one dtype contract
----------------------
`CREDITORS_CONTRACT`, `INVOICES_CONTRACT` and `INVOICE_ROWS_CONTRACT` map every column of the input tables
(sql/migrations/0002_source_tables.sql) to a kind and a nullability. The kind fixes the pandas dtype of the
frames this module returns; the pandera models in `confirma_pipeline.validation` declare the very same dtypes
(a test holds them together):

| SQL type          | kind          | pandas dtype                                   |
|-------------------|---------------|------------------------------------------------|
| text              | `str`         | `str` (pandas 3 default, pyarrow-backed; NULL -> NaN, '' stays '') |
| integer / bigint  | `int64`       | `int64` (NOT NULL columns)                     |
| bigint, nullable  | `Int64`       | `Int64` (nullable integer; NULL -> <NA>)       |
| numeric money     | `float64`     | `float64` (see below)                          |
| date              | `date`        | `datetime64[us]` (tz-naive, midnight)          |
| timestamptz       | `timestamptz` | `datetime64[us, UTC]`                          |
| boolean           | `bool`        | `bool`                                         |

Money is float64, not Decimal: numeric(14,2) values up to 10^12 are represented within far less than a cent,
vectorised checks need a native dtype, and every amount check compares with a half-cent tolerance
(`confirma_pipeline.validation.identifiers.MONEY_TOLERANCE`). Bodies round to 2 decimals when they are built.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

STR_DTYPE = pd.StringDtype(na_value=np.nan)  # == the pandas 3 default `str` dtype
DATE_DTYPE = np.dtype("datetime64[us]")
TIMESTAMPTZ_DTYPE = pd.DatetimeTZDtype(unit="us", tz="UTC")

#: kind -> pandas dtype of the returned frame
PANDAS_DTYPES: dict[str, object] = {
    "str": STR_DTYPE,
    "int64": np.dtype("int64"),
    "Int64": pd.Int64Dtype(),
    "float64": np.dtype("float64"),
    "date": DATE_DTYPE,
    "timestamptz": TIMESTAMPTZ_DTYPE,
    "bool": np.dtype("bool"),
}


@dataclass(frozen=True)
class ColumnSpec:
    kind: str  # a key of PANDAS_DTYPES
    nullable: bool = False

    @property
    def dtype(self):
        return PANDAS_DTYPES[self.kind]


def _c(kind: str, nullable: bool = False) -> ColumnSpec:
    return ColumnSpec(kind, nullable)


_S, _SN = _c("str"), _c("str", True)

CREDITORS_CONTRACT: dict[str, ColumnSpec] = {
    "creditor_id": _S,
    "service_type": _S,
    "partner_code": _S,
    "name": _S,
    "business_code": _S,
    "vat_reg_nbr": _S,
    "postal_address": _S,
    "postal_code": _S,
    "postal_district": _S,
    "country_code": _S,
    "telephone": _S,
    "email": _S,
    "website": _S,
    "language_code": _S,
    "currency_code": _S,
    "iban_account": _S,
    "bic": _S,
    "bankgiro": _S,
    "plusgiro": _S,
    "primary_contact_name": _S,
    "primary_contact_telephone": _S,
    "primary_contact_mobile": _S,
    "primary_contact_email": _S,
    "technical_contact_name": _S,
    "technical_contact_email": _S,
    "accountant_contact_name": _S,
    "accountant_contact_email": _S,
    "updated_at": _c("timestamptz"),
}

INVOICES_CONTRACT: dict[str, ColumnSpec] = {
    "invoice_id": _S,
    "creditor_id": _S,
    "payment_control_enabled": _c("bool"),
    "manual_approval_enabled": _c("bool"),
    "accounting_invoice_enabled": _c("bool"),
    "show_product_code_enabled": _c("bool"),
    "distribution_method": _S,
    "distribution_enabled": _c("bool"),
    "invoice_number": _c("int64"),
    "invoice_type": _S,
    "invoice_date": _c("date"),
    "due_date": _c("date"),
    "description": _SN,
    "additional_information": _SN,
    "currency_code": _S,
    "language_code": _S,
    "sales_reference": _SN,
    "buyer_reference": _SN,
    "agreement_reference": _SN,
    "payment_reference": _SN,
    "order_number": _SN,
    "order_date": _c("date", True),
    "electronic_payment_code": _SN,
    "credited_invoice_number": _c("Int64", True),
    "invoice_copy_url": _SN,
    **{
        f"seller_{name}": _SN
        for name in (
            "business_id",
            "name",
            "vat_code",
            "street",
            "postal_code",
            "postal_district",
            "country_code",
            "country_name",
            "contact_person_name",
            "contact_person_email",
            "email",
            "phone",
            "iban",
            "bic",
            "bankgiro",
            "postgiro",
        )
    },  # fmt: skip
    "buyer_entity_type": _S,
    "buyer_name": _S,
    "buyer_customer_account_id": _S,
    "buyer_personal_identity_number": _SN,
    "buyer_business_id": _SN,
    "buyer_vat_code": _SN,
    "buyer_electronic_invoice_account": _SN,
    "buyer_electronic_routing_address": _SN,
    "buyer_gln_number": _SN,
    "buyer_language_code": _S,
    "buyer_disable_collection": _c("bool"),
    "buyer_street": _S,
    "buyer_street2": _SN,
    "buyer_street3": _SN,
    "buyer_postal_code": _S,
    "buyer_postal_district": _S,
    "buyer_country_code": _S,
    "buyer_contact_person_name": _SN,
    "buyer_contact_person_email": _SN,
    "buyer_email": _SN,
    "buyer_phone": _SN,
    **{
        f"recipient_{name}": _SN
        for name in (
            "name",
            "business_id",
            "vat_code",
            "electronic_invoice_account",
            "electronic_routing_address",
            "gln_number",
            "email",
            "language_code",
            "street",
            "street2",
            "street3",
            "postal_code",
            "postal_district",
            "country_code",
        )
    },  # fmt: skip
    "net_amount": _c("float64"),
    "vat_amount": _c("float64"),
    "gross_amount": _c("float64"),
    "updated_at": _c("timestamptz"),
    # added by migration 0009 (the complete body)
    "creditor_costs_amount": _c("float64", True),
    "collection_fees_amount": _c("float64", True),
    "interest_type": _SN,
    "interest_percentage": _c("float64", True),
    "seller_street2": _SN,
    "seller_street3": _SN,
    "buyer_country_name": _SN,
    "recipient_country_name": _SN,
}

INVOICE_ROWS_CONTRACT: dict[str, ColumnSpec] = {
    "invoice_id": _S,
    "row_number": _c("int64"),
    "product_code": _SN,
    "name": _S,
    "quantity": _c("float64"),
    "unit_code": _S,
    "unit_price": _c("float64"),
    "vat_percentage": _c("float64"),
    "net_amount": _c("float64"),
    "vat_amount": _c("float64"),
    "gross_amount": _c("float64"),
    "discount_percentage": _c("float64", True),  # added by migration 0009
}

CONTRACTS: dict[str, dict[str, ColumnSpec]] = {
    "creditors": CREDITORS_CONTRACT,
    "invoices": INVOICES_CONTRACT,
    "invoice_rows": INVOICE_ROWS_CONTRACT,
}
