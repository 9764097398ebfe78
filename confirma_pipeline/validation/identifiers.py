"""Vectorised checks for the identifiers and codes Confirma's data-validation page names, and the ones Finnish
creditors get wrong. Every check takes pandas Series and returns a boolean numpy-backed Series aligned on the
input index: True means valid. A null is never valid here; the pandera models decide where a null is allowed.

Everything runs column-wise (pyarrow string kernels / numpy). The python-stdnum checks (Y-tunnus, IBAN, RF)
run once per *unique* candidate value that already has the right shape; the Finnish 7-3-1 reference is
vectorised here (stdnum has none). Code lists and patterns: `reference` (pycountry, current codes only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from confirma_pipeline.api.contract import XML_FORBIDDEN_CHARACTERS
from confirma_pipeline.validation import reference as ref
from confirma_pipeline.validation.input_contract import STR_DTYPE

#: Amounts are float64 in frames; two amounts are "equal" when they differ by at most half a cent.
MONEY_TOLERANCE = 0.005 + 1e-9

# --- the shared reference rules (pycountry, python-stdnum, patterns): see `reference` ---------------------
COUNTRY_CODES = ref.COUNTRY_CODES
CURRENCY_CODES = ref.CURRENCY_CODES
LANGUAGE_CODES = ref.LANGUAGE_CODES
POSTAL_CODE_PATTERNS = ref.POSTAL_CODE_PATTERNS
EMAIL_PATTERN = ref.EMAIL_PATTERN
URL_PATTERN = ref.URL_PATTERN
BIC_PATTERN = ref.BIC_PATTERN

# Finnish reference: 7,3,1 repeating from the right over the base digits (check digit excluded).


# --- helpers --------------------------------------------------------------------------------------------


def _as_str(values) -> pd.Series:
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if s.dtype != STR_DTYPE:
        s = s.astype(STR_DTYPE)
    return s


def _bool(values: pd.Series) -> np.ndarray:
    """Boolean numpy array from a (possibly nullable) boolean Series; NA -> False."""
    if values.dtype == bool:
        return values.to_numpy(copy=True)
    return values.fillna(False).to_numpy(dtype=bool, copy=True)


def _digit_matrix(strings: list[str], width: int) -> np.ndarray:
    """(n, width) int64 matrix of the ASCII digits of n strings that all have exactly `width` characters."""
    if not strings:
        return np.zeros((0, width), dtype=np.int64)
    raw = np.frombuffer("".join(strings).encode("ascii"), dtype=np.uint8).reshape(len(strings), width)
    return raw.astype(np.int64) - 48


def _per_unique(s: pd.Series, candidate: np.ndarray, fn) -> np.ndarray:
    """Apply a Python predicate once per unique value among the candidate positions."""
    out = np.zeros(len(s), dtype=bool)
    if candidate.any():
        sub = s[candidate]
        codes, uniques = pd.factorize(sub)
        verdict = np.fromiter((fn(u) for u in uniques), dtype=bool, count=len(uniques))
        out[candidate] = verdict[codes]
    return out


def _compact_upper(s: pd.Series) -> pd.Series:
    return s.str.replace(" ", "", regex=False).str.upper()


def arrow_isin(values: pd.Series, value_set) -> np.ndarray:
    """`values.isin(value_set)` as a numpy bool array, hashed in Arrow (pandas' arrow-string `isin` with a large
    value set converts it to Python objects first). Nulls -> False."""
    arr = pa.array(_as_str(values))
    vs = pa.array(_as_str(pd.Series(value_set) if not isinstance(value_set, pd.Series) else value_set))
    if isinstance(vs, pa.ChunkedArray):
        vs = vs.combine_chunks()
    return pc.is_in(arr, value_set=vs).fill_null(False).to_numpy(zero_copy_only=False)


def arrow_index_in(values: pd.Series, value_set: pd.Series) -> np.ndarray:
    """Position of each value's first occurrence in `value_set` (int64), -1 when absent or null."""
    arr = pa.array(_as_str(values))
    vs = pa.array(_as_str(value_set))
    if isinstance(vs, pa.ChunkedArray):
        vs = vs.combine_chunks()
    return pc.index_in(arr, value_set=vs).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _result(values: np.ndarray, index) -> pd.Series:
    return pd.Series(values, index=index, dtype=bool)


# --- checks ---------------------------------------------------------------------------------------------


def is_business_id(values) -> pd.Series:
    """Finnish business id (Y-tunnus) `NNNNNNN-C` with a valid check digit: shape vectorised, then
    python-stdnum once per distinct shaped value."""
    s = _as_str(values)
    shaped = _bool(s.str.fullmatch(ref.BUSINESS_ID_SHAPE))
    return _result(_per_unique(s, shaped, ref.business_id_ok), s.index)


def is_iban(values) -> pd.Series:
    """IBAN (ISO 13616) with its country's BBAN format and length and mod 97 == 1 (python-stdnum, once per
    distinct value of the right shape). Spaces and lower case are tolerated (print format)."""
    s = _compact_upper(_as_str(values))
    shaped = _bool(s.str.fullmatch(ref.IBAN_SHAPE))
    return _result(_per_unique(s, shaped, ref.iban_ok), s.index)


def is_finnish_reference(values) -> pd.Series:
    """Finnish national payment reference (viitenumero): 4-20 digits (spaces allowed), the last being the check
    digit of the 7-3-1 weighted sum (weights from the right): (10 - sum % 10) % 10."""
    s = _as_str(values).str.replace(" ", "", regex=False)
    shaped = _bool(s.str.fullmatch(ref.FINNISH_REFERENCE_SHAPE))
    out = np.zeros(len(s), dtype=bool)
    if shaped.any():
        digits = _digit_matrix(s[shaped].str.pad(20, side="left", fillchar="0").tolist(), 20)
        out[shaped] = ref.finnish_reference_check_digits(digits[:, :19]) == digits[:, 19]
    return _result(out, s.index)


def is_rf_reference(values) -> pd.Series:
    """RF creditor reference (ISO 11649, python-stdnum once per distinct shaped value). Spaces and lower case
    tolerated."""
    s = _compact_upper(_as_str(values))
    shaped = _bool(s.str.fullmatch(ref.RF_SHAPE))
    return _result(_per_unique(s, shaped, ref.rf_reference_ok), s.index)


def is_payment_reference(values) -> pd.Series:
    """A Finnish 7-3-1 reference or an RF creditor reference."""
    s = _as_str(values)
    return is_finnish_reference(s) | is_rf_reference(s)


def postal_code_matches_country(codes, countries) -> pd.Series:
    """Postal code valid for its country: FI 5 digits (AX 22xxx), SE 3+2 digits with an optional space,
    NO and DK 4 digits, EE and DE 5 digits; any other country: not blank. A null code never matches."""
    c = _as_str(codes)
    k = _as_str(countries).str.upper()
    k.index = c.index
    out = _bool(c.str.strip().str.len() > 0)
    for country, pattern in POSTAL_CODE_PATTERNS.items():
        mask = _bool(k == country)
        if mask.any():
            out[mask] = _bool(c[mask].str.fullmatch(pattern))
    return _result(out, c.index)


def is_currency(values) -> pd.Series:
    """ISO 4217 alphabetic code, upper case (e.g. EUR, SEK, NOK, DKK)."""
    s = _as_str(values)
    return _result(_bool(s.isin(CURRENCY_CODES)), s.index)


def is_country(values) -> pd.Series:
    """ISO 3166-1 alpha-2 code, upper case (e.g. FI, SE, NO, DK)."""
    s = _as_str(values)
    return _result(_bool(s.isin(COUNTRY_CODES)), s.index)


def is_language(values) -> pd.Series:
    """ISO 639-1 code, case-insensitive (the API examples use FI, SV, EN). "DK" (Denmark's country code, in
    the docs' list of examples) is not a language: Danish is "da"."""
    s = _as_str(values)
    return _result(_bool(s.str.lower().isin(LANGUAGE_CODES)), s.index)


def is_email(values) -> pd.Series:
    """W3C / HTML5 e-mail address pattern."""
    s = _as_str(values)
    return _result(_bool(s.str.fullmatch(EMAIL_PATTERN)), s.index)


def is_url(values) -> pd.Series:
    """Common URL pattern (scheme optional: `www.example.fi` passes)."""
    s = _as_str(values)
    return _result(_bool(s.str.fullmatch(URL_PATTERN)), s.index)


def is_bic(values) -> pd.Series:
    """BIC (ISO 9362), upper case, 8 or 11 characters."""
    s = _as_str(values)
    return _result(_bool(s.str.fullmatch(BIC_PATTERN)), s.index)


def is_blank(values) -> pd.Series:
    """True where the value is null or only whitespace (i.e. not given). In Arrow kernels: empty, or
    `utf8_is_space` (every character whitespace; the same set `str.strip` removes, checked over every code
    point in tests/validation/test_check_masks.py)."""
    s = _as_str(values)
    arr = pa.array(s)
    blank = pc.or_kleene(pc.equal(pc.binary_length(arr), 0), pc.utf8_is_space(arr)).fill_null(True)
    return _result(blank.to_numpy(zero_copy_only=False), s.index)


def xml_safe(values) -> np.ndarray:
    """True where the text holds no character XML 1.0 cannot carry (api/contract.XML_FORBIDDEN_CHARACTERS;
    null: True), in one Arrow regex pass (RE2) over the column."""
    s = _as_str(values)
    arr = pa.array(s)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    data = arr.buffers()[2]  # validity, offsets, UTF-8 bytes (of the whole buffer: a superset of a slice's)
    if data is None or _bytes_plainly_safe(np.frombuffer(data, dtype=np.uint8)):
        return np.ones(len(s), dtype=bool)
    found = pc.match_substring_regex(arr, XML_FORBIDDEN_CHARACTERS).fill_null(False)
    return ~found.to_numpy(zero_copy_only=False)


def _bytes_plainly_safe(utf8: np.ndarray) -> bool:
    """True when a column's UTF-8 bytes cannot hold a forbidden character: every byte is at least 0x20 (no C0
    control at all) and below 0xEF (no U+F000..U+FFFF, which holds U+FFFE/U+FFFF, nor any 4-byte character).
    Two passes at memory speed instead of a regex per value; a column that fails it (a line break, an emoji)
    is judged by the regex."""
    return utf8.size == 0 or (int(utf8.min()) >= 0x20 and int(utf8.max()) < 0xEF)


def char_lengths_within(values, limit: int) -> np.ndarray:
    """True where the text has at most `limit` characters (null: True). Byte lengths come free with Arrow
    strings and a character is at least one byte, so characters are counted only for the few texts whose
    bytes exceed the limit."""
    s = _as_str(values)
    nbytes = pc.binary_length(pa.array(s)).fill_null(0).to_numpy(zero_copy_only=False)
    ok = nbytes <= limit
    if not ok.all():
        over = np.flatnonzero(~ok)
        ok[over] = s.iloc[over].str.len().to_numpy(dtype=float, na_value=0) <= limit
    return ok


def has_max_decimals(values, decimals: int = 2) -> pd.Series:
    """True where a float has at most `decimals` decimals (up to float noise: within 1e-6 plus 8 ulps of the
    scaled value of an integer). NaN and infinities -> False. The ulp term is computed only for the few
    values the 1e-6 bound alone does not settle."""
    x = (
        values.to_numpy(dtype=float, na_value=np.nan)
        if isinstance(values, pd.Series)
        else np.asarray(values, float)
    )
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = x * (10.0**decimals)
        off = np.abs(scaled - np.rint(scaled))
        ok = off <= 1e-6
        unsure = np.flatnonzero(~ok & np.isfinite(off))
        if len(unsure):
            ok[unsure] = off[unsure] <= 1e-6 + 8 * np.spacing(np.abs(scaled[unsure]))
    index = values.index if isinstance(values, pd.Series) else None
    return _result(ok, index)


def money_equal(a, b) -> np.ndarray:
    """Element-wise a == b within half a cent (NaN never equal)."""
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.abs(x - y) <= MONEY_TOLERANCE


__all__ = [
    "arrow_index_in",
    "arrow_isin",
    "BIC_PATTERN",
    "COUNTRY_CODES",
    "CURRENCY_CODES",
    "EMAIL_PATTERN",
    "LANGUAGE_CODES",
    "MONEY_TOLERANCE",
    "POSTAL_CODE_PATTERNS",
    "URL_PATTERN",
    "has_max_decimals",
    "is_bic",
    "char_lengths_within",
    "is_blank",
    "is_business_id",
    "is_country",
    "is_currency",
    "is_email",
    "is_finnish_reference",
    "is_iban",
    "is_language",
    "is_payment_reference",
    "is_rf_reference",
    "is_url",
    "money_equal",
    "postal_code_matches_country",
]
