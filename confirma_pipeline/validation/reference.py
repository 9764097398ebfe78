"""The reference rules, once, for local validation and the sandbox alike.

- Country, currency and language codes come from pycountry (ISO 3166-1 alpha-2, ISO 4217, ISO 639-1), current
  codes only: pycountry lists no withdrawn currency (HRK, BGN, ANG, CUC, SLL, ZWL) and no retired language code
  (`bh`). The ISO 4217 test and "no currency" codes XTS and XXX are not accepted.
- Y-tunnus, IBAN (with each country's BBAN rules) and RF creditor references are python-stdnum's. The
  validation (`identifiers`) calls them once per distinct value that already has the right shape; the
  sandbox calls them per field.
- The Finnish 7-3-1 reference (stdnum has none): its arithmetic is `finnish_reference_check_digits`, over a
  digit matrix, which `identifiers` applies to a column and `finnish_reference_ok` to one value.
- The text patterns (e-mail, URL, BIC) and the postal code patterns by country are shared as strings.
"""

from __future__ import annotations

import re

import numpy as np
import pycountry
from stdnum import iban as _iban
from stdnum import iso11649 as _rf
from stdnum.fi import ytunnus as _ytunnus

COUNTRY_CODES: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries)
CURRENCY_CODES: frozenset[str] = frozenset(c.alpha_3 for c in pycountry.currencies) - {"XTS", "XXX"}
#: lower case; the API examples send upper case (FI, SV, EN), so matching is case-insensitive
LANGUAGE_CODES: frozenset[str] = frozenset(
    lang.alpha_2 for lang in pycountry.languages if getattr(lang, "alpha_2", None)
)

#: The HTML5 (W3C) "valid e-mail address" pattern (the data-validation page says "W3C standard").
EMAIL_PATTERN = (
    r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*"
)
#: A common URL pattern: optional http(s) scheme, a host name with a TLD, optional port, path/query/fragment.
URL_PATTERN = (
    r"(?i)(?:https?://)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}(?::\d{1,5})?(?:[/?#]\S*)?"
)
#: BIC / SWIFT code: 4 bank letters, 2 country letters, 2 location characters, optional 3-character branch.
BIC_PATTERN = r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?"
#: Postal code patterns by country (anchored, applied to the code as given). Other countries: not blank.
POSTAL_CODE_PATTERNS: dict[str, str] = {
    "FI": r"\d{5}",
    "AX": r"22\d{3}",
    "SE": r"\d{3} ?\d{2}",
    "NO": r"\d{4}",
    "DK": r"\d{4}",
    "EE": r"\d{5}",
    "DE": r"\d{5}",
}
BUSINESS_ID_SHAPE = r"\d{7}-\d"
IBAN_SHAPE = r"[A-Z]{2}\d{2}[0-9A-Z]{11,30}"
RF_SHAPE = r"RF\d{2}[0-9A-Z]{1,21}"


def business_id_ok(value: str) -> bool:
    """A Finnish business id (Y-tunnus) with a valid check digit (stdnum.fi.ytunnus), shaped NNNNNNN-C."""
    return bool(re.fullmatch(BUSINESS_ID_SHAPE, value)) and _ytunnus.is_valid(value)


def iban_ok(value: str) -> bool:
    """An IBAN: known country, its BBAN format and length, mod 97 (stdnum.iban). Spaces / lower case allowed."""
    return _iban.is_valid(value)


def rf_reference_ok(value: str) -> bool:
    """An ISO 11649 RF creditor reference (stdnum.iso11649). Spaces / lower case allowed."""
    return _rf.is_valid(value)


_REFERENCE_WEIGHTS = np.resize(np.array([7, 3, 1], dtype=np.int64), 19)[::-1].copy()
FINNISH_REFERENCE_SHAPE = r"[0-9]{4,20}"  # ASCII digits only (Python's \d takes any script's digits)


def finnish_reference_check_digits(base_digits: np.ndarray) -> np.ndarray:
    """7-3-1 check digit of each row of a (n, 19) digit matrix (the base, left-padded with zeros): weights
    7, 3, 1 repeating from the right, check = (10 - sum % 10) % 10. Validation (a column), the sandbox (one
    value) and the sample generators all use this one function."""
    return (10 - (base_digits @ _REFERENCE_WEIGHTS) % 10) % 10


def finnish_reference_ok(value: str) -> bool:
    """A Finnish 7-3-1 reference (4-20 digits, spaces allowed), by the same arithmetic as a column."""
    digits = value.replace(" ", "")
    if not re.fullmatch(FINNISH_REFERENCE_SHAPE, digits):
        return False
    matrix = np.array([int(d) for d in digits.rjust(20, "0")], dtype=np.int64).reshape(1, 20)
    return bool(finnish_reference_check_digits(matrix[:, :19])[0] == matrix[0, 19])


def payment_reference_ok(value: str) -> bool:
    """A Finnish 7-3-1 reference or an RF creditor reference."""
    compact = value.replace(" ", "").upper()
    return rf_reference_ok(compact) if compact.startswith("RF") else finnish_reference_ok(value)


def language_ok(value: str) -> bool:
    return value.lower() in LANGUAGE_CODES
