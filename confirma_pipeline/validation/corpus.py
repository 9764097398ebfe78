"""A corpus of good and bad source rows, each bad row labelled with the check that must name it.

Built on the sample generator (`samples`): good rows are valid by construction, then each bad kind spoils
`per_kind` rows in one way a user or an upstream system would (a withdrawn currency, a 100,000-character
description, a negative row on an INVOICE, a NULL in a NOT NULL boolean, an orphan row ...). Used by the
corpus test (every bad row explained, every good row sent exactly once), the agreement test (local validation
and the sandbox reject the same bodies) and the validation benchmark (10 % bad rows of mixed kinds).

A kind's `body` flag says whether the fault is visible in the API body (so the sandbox can judge it too):
NULLs of a source column, rows no chunk reads (unknown creditor, orphan row), duplicates across rows and
excess decimals (the mapper rounds them away) are not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from confirma_pipeline.validation.samples import sample_creditors, sample_invoices

#: values that look hostile but are valid: they must go out byte for byte
HOSTILE_TEXTS = (
    'O\'Brien "Quoted" Oy',
    "Robert'); DROP TABLE invoices;--",
    "Kahvila ☕ 🇫🇮 Oy",
    "Zalgo Z̷̢a̵l̴g̷o̶",
    "שלום עולם مرحبا",
)
UNKNOWN_CREDITOR = "NO-SUCH-CREDITOR"


@dataclass(frozen=True)
class Kind:
    name: str
    check: str  # the check the reason must name
    #: (invoices, rows, invoice positions) -> None (changed in place) or the new rows frame
    spoil: Callable[[pd.DataFrame, pd.DataFrame, list[int]], pd.DataFrame | None]
    body: bool = True  # visible in the API body (the sandbox judges it too)
    nullable_input: bool = False  # needs a relaxed (nullable) relation
    storable: bool = True  # survives a numeric(14,2) / numeric(_,4) column (excess decimals are rounded away)


def _set(column: str, value) -> Callable:
    def spoil(inv, rows, pos):
        for p in pos:
            inv.at[p, column] = value

    return spoil


def _null(column: str) -> Callable:
    def spoil(inv, rows, pos):
        dtype = inv[column].dtype
        nullable = {"bool": "boolean", "int64": "Int64", "float64": "Float64"}.get(str(dtype))
        if nullable:
            inv[column] = inv[column].astype(nullable)
        for p in pos:
            inv.at[p, column] = None

    return spoil


def _rows_of(inv, rows, p) -> np.ndarray:
    return np.flatnonzero((rows["invoice_id"] == inv.at[p, "invoice_id"]).to_numpy())


def _row_set(column: str, value, *, keep_totals: bool = False) -> Callable:
    def spoil(inv, rows, pos):
        if value is None and str(rows[column].dtype) == "float64":
            rows[column] = rows[column].astype("Float64")
        for p in pos:
            first = _rows_of(inv, rows, p)[0]
            rows.iat[first, rows.columns.get_loc(column)] = value

    return spoil


def _negative_invoice(inv, rows, pos):
    for p in pos:
        r = _rows_of(inv, rows, p)
        for c in ("quantity", "net_amount", "vat_amount", "gross_amount"):
            rows.iloc[r, rows.columns.get_loc(c)] *= -1
        for c in ("net_amount", "vat_amount", "gross_amount"):
            inv.at[p, c] = -inv.at[p, c]


def _credit_note_without_number(inv, rows, pos):
    _negative_invoice(inv, rows, pos)
    for p in pos:
        inv.at[p, "invoice_type"] = "CREDIT_NOTE"


def _positive_credit_note(inv, rows, pos):
    for p in pos:
        inv.at[p, "invoice_type"] = "CREDIT_NOTE"
        inv.at[p, "credited_invoice_number"] = 1


def _finnish_buyer_id(value: str) -> Callable:
    """A Finnish buyer (the Y-tunnus check applies to Finnish parties) with the business id `value`."""

    def spoil(inv, rows, pos):
        for p in pos:
            inv.loc[p, ["buyer_business_id", "buyer_country_code", "buyer_postal_code"]] = [
                value,
                "FI",
                "00100",
            ]

    return spoil


def _due_before(inv, rows, pos):
    for p in pos:
        inv.at[p, "due_date"] = inv.at[p, "invoice_date"] - pd.Timedelta(days=1)


def _shift(column: str, delta: float, *, rows_level: bool = False) -> Callable:
    def spoil(inv, rows, pos):
        for p in pos:
            if rows_level:
                first = _rows_of(inv, rows, p)[0]
                rows.iat[first, rows.columns.get_loc(column)] += delta
            else:
                inv.at[p, column] = inv.at[p, column] + delta

    return spoil


def _no_rows(inv, rows, pos):
    drop = np.concatenate([_rows_of(inv, rows, p) for p in pos])
    return rows.drop(index=rows.index[drop])


def _einvoice(inv, rows, pos):
    for p in pos:
        inv.at[p, "distribution_method"] = "EINVOICE"


def _duplicate_number(inv, rows, pos):
    """Pairs of spoiled invoices share a creditor and a number: both are rejected, no good one is touched."""
    for first, second in zip(pos[::2], pos[1::2], strict=False):
        inv.at[second, "creditor_id"] = inv.at[first, "creditor_id"]
        inv.at[second, "invoice_number"] = inv.at[first, "invoice_number"]


INVOICE_KINDS: tuple[Kind, ...] = (
    Kind("withdrawn_currency", "currency_is_iso4217", _set("currency_code", "HRK")),
    Kind("lower_case_currency", "currency_is_iso4217", _set("currency_code", "eur")),
    Kind("retired_language", "language_is_iso639_1", _set("language_code", "bh")),
    Kind("country_as_language", "language_is_iso639_1", _set("language_code", "DK")),
    Kind("unknown_country", "country_is_iso3166", _set("buyer_country_code", "XX")),
    Kind("reference_check_digit", "payment_reference_checksum", _set("payment_reference", "2516000018")),
    Kind("rf_reference_checksum", "payment_reference_checksum", _set("payment_reference", "RF19ABC123")),
    Kind("iban_unknown_country", "iban_checksum", _set("seller_iban", "XX57123456789012345")),
    Kind("iban_all_digit_gb", "iban_checksum", _set("seller_iban", "GB11123456123456789012")),
    Kind("bic_lower_case", "bic_format", _set("seller_bic", "dabafihh")),
    Kind("bad_email", "email_format", _set("buyer_email", "not-an-email")),
    Kind("bad_url", "url_format", _set("invoice_copy_url", "not a url")),
    Kind("bad_postal_code", "postal_code_matches_country", _set("buyer_postal_code", "123")),
    Kind("buyer_business_id", "business_id_check_digit", _finnish_buyer_id("1234567-8")),
    Kind("due_before_date", "due_date_not_before_invoice_date", _due_before),
    Kind("unknown_distribution", "distribution_method_known", _set("distribution_method", "FAX")),
    Kind("unknown_type", "invoice_type_known", _set("invoice_type", "ORDER")),
    Kind("unknown_entity_type", "buyer_entity_type_known", _set("buyer_entity_type", "ALIEN")),
    Kind("blank_buyer_name", "not_blank", _set("buyer_name", "   ")),
    Kind("huge_description", "max_length", _set("description", "d" * 100_000)),
    Kind("long_buyer_name", "max_length", _set("buyer_name", "b" * 5_000)),
    Kind("long_row_name", "max_length", _row_set("name", "r" * 12_000)),
    Kind("control_character_name", "xml_characters", _set("buyer_name", "Kello\x07 Oy")),
    Kind("control_character_row", "xml_characters", _row_set("name", "Escape \x1b[31m red")),
    Kind("invoice_date_1900", "date_in_range", _set("invoice_date", pd.Timestamp("1900-01-01"))),
    Kind("due_date_2999", "date_in_range", _set("due_date", pd.Timestamp("2999-12-31"))),
    Kind("zero_invoice_number", "greater_than(0)", _set("invoice_number", 0)),
    Kind("gross_not_net_plus_vat", "gross_equals_net_plus_vat", _shift("gross_amount", 0.01)),
    # the mapper rounds money to cents and quantities to 4 decimals: the body cannot show these two
    Kind(
        "three_decimals", "amount_has_two_decimals", _shift("net_amount", 0.001), body=False, storable=False
    ),
    Kind(
        "credit_note_without_number", "credit_note_has_credited_invoice_number", _credit_note_without_number
    ),
    Kind("positive_credit_note", "totals_sign_fits_invoice_type", _positive_credit_note),
    Kind("email_without_address", "email_distribution_has_email_address", _set("buyer_email", None)),
    Kind("einvoice_without_address", "einvoice_distribution_has_address", _einvoice),
    Kind("negative_invoice", "no_negative_row_on_this_document_type", _negative_invoice),
    Kind(
        "row_quantity_decimals",
        "quantity_decimals",
        _row_set("quantity", 1.00001),
        body=False,
        storable=False,
    ),
    Kind("row_net_off", "row_amounts_match_quantity_price_vat", _shift("net_amount", 0.05, rows_level=True)),
    Kind("row_vat_over_100", "less_than_or_equal_to(100)", _row_set("vat_percentage", 150.0)),
    Kind("totals_not_rows", "row_sums_equal_invoice_totals", _shift("vat_amount", 1.0)),
    Kind("no_rows", "invoice_has_rows", _no_rows),
    Kind("duplicate_number", "invoice_number_unique_per_creditor_id", _duplicate_number, body=False),
    Kind("null_boolean", "not_null", _null("payment_control_enabled"), body=False, nullable_input=True),
    Kind("null_integer", "not_null", _null("invoice_number"), body=False, nullable_input=True),
    Kind("null_text", "not_null", _null("buyer_name"), body=False, nullable_input=True),
    Kind("null_date", "not_null", _null("invoice_date"), body=False, nullable_input=True),
    Kind("null_money", "not_null", _null("net_amount"), body=False, nullable_input=True),
    Kind("null_row_quantity", "not_null", _row_set("quantity", None), body=False, nullable_input=True),
    Kind("unknown_creditor", "creditor_exists", _set("creditor_id", UNKNOWN_CREDITOR), body=False),
)

CREDITOR_KINDS: tuple[tuple[str, str, str, str], ...] = (
    # (kind, column, value, check)
    ("business_code_check_digit", "business_code", "1234567-8", "business_id_check_digit"),
    ("creditor_postal_code", "postal_code", "123", "postal_code_matches_country"),
    ("creditor_email", "email", "not-an-email", "email_format"),
    ("creditor_iban", "iban_account", "FI2112345600000786", "iban_checksum"),
    ("creditor_language_dk", "language_code", "DK", "language_is_iso639_1"),
    ("creditor_currency_hrk", "currency_code", "HRK", "currency_is_iso4217"),
    ("creditor_website", "website", "not a url", "url_format"),
    ("creditor_service_type", "service_type", "GOLD", "service_type_known"),
    ("creditor_country_uk", "country_code", "UK", "country_is_iso3166"),
    ("creditor_bic", "bic", "DABA", "bic_format"),
    ("creditor_technical_email", "technical_contact_email", "tech@", "email_format"),
    ("creditor_long_name", "name", "n" * 71, "max_length"),
    ("creditor_blank_name", "name", "  ", "not_blank"),
    ("creditor_control_character", "postal_district", "Helsinki\x0c", "xml_characters"),
)


@dataclass
class Corpus:
    creditors: pd.DataFrame
    invoices: pd.DataFrame
    rows: pd.DataFrame
    #: (entity, key) -> (kind, check the reason must name)
    bad: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    #: kinds whose fault the API body shows (the sandbox must reject them too)
    body_kinds: frozenset[str] = frozenset()

    @property
    def good_invoice_ids(self) -> list[str]:
        bad = {k for (e, k) in self.bad if e == "invoice"}
        waiting = set(
            self.invoices.loc[self.invoices["creditor_id"].isin(self.bad_creditor_ids), "invoice_id"]
        )
        return [i for i in self.invoices["invoice_id"] if i not in bad and i not in waiting]

    @property
    def bad_creditor_ids(self) -> list[str]:
        return [k for (e, k) in self.bad if e == "creditor"]


def build_corpus(
    n_good: int = 600,
    per_kind: int = 10,
    *,
    n_creditors: int = 8,
    creditor_kinds: bool = True,
    hostile: bool = True,
    orphan_rows: int = 10,
    nullable: bool = True,
    database: bool = False,
    rows_per_invoice: int | tuple[int, int] = (1, 4),
    seed: int = 3,
) -> Corpus:
    """Good invoices plus `per_kind` invoices spoiled by each kind (and one creditor per creditor kind, whose
    invoices wait for it). `nullable=False` leaves out the kinds that need a relaxed input relation;
    `database=True` those a warehouse column cannot hold (excess decimals, rounded away on insert)."""
    kinds = [k for k in INVOICE_KINDS if (nullable or not k.nullable_input) and (k.storable or not database)]
    bad_creditors = len(CREDITOR_KINDS) if creditor_kinds else 0
    creditors = sample_creditors(n_creditors + bad_creditors, seed=seed)
    good_creditors = creditors["creditor_id"].tolist()[:n_creditors]
    n_invoices = n_good + per_kind * len(kinds)
    invoices, rows = sample_invoices(n_invoices, rows_per_invoice, creditor_ids=good_creditors, seed=seed)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_invoices)
    bad: dict[tuple[str, str], tuple[str, str]] = {}
    for k, kind in enumerate(kinds):
        pos = sorted(order[n_good + k * per_kind : n_good + (k + 1) * per_kind].tolist())
        new_rows = kind.spoil(invoices, rows, pos)
        rows = rows if new_rows is None else new_rows
        for p in pos:
            bad[("invoice", invoices.at[p, "invoice_id"])] = (kind.name, kind.check)
    if hostile:
        good_pos = order[: min(len(HOSTILE_TEXTS) * 3, n_good)]
        texts = [HOSTILE_TEXTS[i % len(HOSTILE_TEXTS)] for i in range(len(good_pos))]
        for column in ("buyer_name", "description"):
            invoices[column] = invoices[column].astype(object)
            invoices.loc[good_pos, column] = texts
    for j, (name, column, value, check) in enumerate(CREDITOR_KINDS[:bad_creditors]):
        p = n_creditors + j
        creditors.at[p, column] = value
        bad[("creditor", creditors.at[p, "creditor_id"])] = (name, check)
        # two good invoices of each bad creditor: they wait for it
        victims = order[j * 2 : j * 2 + 2]
        invoices.loc[victims, "creditor_id"] = creditors.at[p, "creditor_id"]
    if orphan_rows:
        extra = rows.iloc[:orphan_rows].copy()
        extra["invoice_id"] = [f"ORPHAN-{i:04d}" for i in range(orphan_rows)]
        extra["row_number"] = 1
        for key in extra["invoice_id"]:
            bad[("invoice_row", f"{key}/1")] = ("orphan_row", "row_belongs_to_an_invoice")
        rows = pd.concat([rows, extra], ignore_index=True)
    body_kinds = frozenset(k.name for k in kinds if k.body)
    return Corpus(creditors, invoices.reset_index(drop=True), rows.reset_index(drop=True), bad, body_kinds)
