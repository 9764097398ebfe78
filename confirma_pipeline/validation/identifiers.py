"""Vectorised checks for the identifiers and codes Confirma's data-validation page names, and the ones Finnish
creditors get wrong. Every check takes pandas Series and returns a boolean numpy-backed Series aligned on the
input index: True means valid. A null is never valid here; the pandera models decide where a null is allowed.

Everything runs column-wise (pyarrow string kernels / numpy). Only the mod-97 checks (IBAN and RF references)
loop in Python, once per *unique* candidate value that already has the right shape.

Lists: ISO 3166-1 alpha-2, ISO 4217 and ISO 639-1 are taken from the iso-codes 4.15 data (Debian), plus the
currencies ZWG and XCG introduced since; the test / no-currency codes XTS and XXX are not accepted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from confirma_pipeline.warehouse.source import STR_DTYPE

#: Amounts are float64 in frames; two amounts are "equal" when they differ by at most half a cent.
MONEY_TOLERANCE = 0.005 + 1e-9

# --- code lists -----------------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


COUNTRY_CODES: frozenset[str] = _words(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
    BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
    FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
    IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
    PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE
    YT ZA ZM ZW
    """
)

CURRENCY_CODES: frozenset[str] = _words(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
    CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW
    KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD
    NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE
    SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED
    VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG ZWL
    """
)

LANGUAGE_CODES: frozenset[str] = _words(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz
    ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik
    io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml
    mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd
    se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi
    vo wa wo xh yi yo za zh zu
    """
)

#: Confirma's data-validation page lists "DK" among its language examples (FI, SV, NO, DK, EN). DK is the
#: country code of Denmark, not an ISO 639-1 code (Danish is "da"); it is accepted as an alias of Danish so
#: that payloads written after the docs are not rejected.
LANGUAGE_ALIASES: dict[str, str] = {"dk": "da"}
_LANGUAGES_ACCEPTED = LANGUAGE_CODES | frozenset(LANGUAGE_ALIASES)

#: IBAN length per country (SWIFT IBAN registry). Countries not listed: 15-34 characters.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AX": 18, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30,
    "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25,
    "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

#: Postal code patterns by country (anchored, applied to the code as given). Other countries: non-empty.
POSTAL_CODE_PATTERNS: dict[str, str] = {
    "FI": r"\d{5}",
    "AX": r"22\d{3}",
    "SE": r"\d{3} ?\d{2}",
    "NO": r"\d{4}",
    "DK": r"\d{4}",
    "EE": r"\d{5}",
    "DE": r"\d{5}",
}

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

# Y-tunnus: 7 digits, hyphen, check digit; weights 7,9,10,5,8,4,2 over the 7 digits.
_BUSINESS_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
# Finnish reference: 7,3,1 repeating from the right over the base digits (check digit excluded).
_REFERENCE_WEIGHTS = np.resize(np.array([7, 3, 1], dtype=np.int64), 19)[::-1].copy()


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


def _mod97(alnum: str) -> int:
    """ISO 7064 mod 97-10 of a string of digits and upper-case letters (A=10 ... Z=35)."""
    return int("".join(str(int(ch, 36)) for ch in alnum)) % 97


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
    """Finnish business id (Y-tunnus) `NNNNNNN-C`: mod 11 with weights 7,9,10,5,8,4,2; remainder 0 -> check
    digit 0, remainder 1 -> no valid id, otherwise 11 - remainder."""
    s = _as_str(values)
    shaped = _bool(s.str.fullmatch(r"\d{7}-\d"))
    out = np.zeros(len(s), dtype=bool)
    if shaped.any():
        digits = _digit_matrix(s[shaped].str.replace("-", "", regex=False).tolist(), 8)
        remainder = (digits[:, :7] @ _BUSINESS_ID_WEIGHTS) % 11
        expected = np.where(remainder == 0, 0, 11 - remainder)
        out[shaped] = (remainder != 1) & (expected == digits[:, 7])
    return _result(out, s.index)


def is_iban(values) -> pd.Series:
    """IBAN (ISO 13616): letters+2 check digits+BBAN, per-country length, mod 97 == 1. Spaces and lower case
    are tolerated (print format); the API should be sent the compact form."""
    s = _compact_upper(_as_str(values))
    shaped = _bool(s.str.fullmatch(r"[A-Z]{2}\d{2}[0-9A-Z]{11,30}"))
    lengths = s.str.len().to_numpy(dtype=float, na_value=0)
    expected = s.str.slice(0, 2).map(IBAN_LENGTHS).to_numpy(dtype=float, na_value=np.nan)
    length_ok = np.where(np.isnan(expected), (lengths >= 15) & (lengths <= 34), lengths == expected)
    candidate = shaped & length_ok
    return _result(_per_unique(s, candidate, lambda v: _mod97(v[4:] + v[:4]) == 1), s.index)


def is_finnish_reference(values) -> pd.Series:
    """Finnish national payment reference (viitenumero): 4-20 digits (spaces allowed), the last being the check
    digit of the 7-3-1 weighted sum (weights from the right): (10 - sum % 10) % 10."""
    s = _as_str(values).str.replace(" ", "", regex=False)
    shaped = _bool(s.str.fullmatch(r"\d{4,20}"))
    out = np.zeros(len(s), dtype=bool)
    if shaped.any():
        digits = _digit_matrix(s[shaped].str.pad(20, side="left", fillchar="0").tolist(), 20)
        check = (10 - (digits[:, :19] @ _REFERENCE_WEIGHTS) % 10) % 10
        out[shaped] = check == digits[:, 19]
    return _result(out, s.index)


def is_rf_reference(values) -> pd.Series:
    """RF creditor reference (ISO 11649): `RF` + 2 check digits + 1-21 alphanumerics; mod 97 == 1 after moving
    the first four characters to the end. Spaces and lower case tolerated."""
    s = _compact_upper(_as_str(values))
    shaped = _bool(s.str.fullmatch(r"RF\d{2}[0-9A-Z]{1,21}"))
    return _result(_per_unique(s, shaped, lambda v: _mod97(v[4:] + v[:4]) == 1), s.index)


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
    """ISO 639-1 code, case-insensitive (the API examples use FI, SV, EN); "DK" accepted as Danish (see
    `LANGUAGE_ALIASES`)."""
    s = _as_str(values)
    return _result(_bool(s.str.lower().isin(_LANGUAGES_ACCEPTED)), s.index)


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
    """True where the value is null or only whitespace (i.e. not given)."""
    s = _as_str(values)
    return _result(~_bool(s.str.strip().str.len() > 0), s.index)


def has_max_decimals(values, decimals: int = 2) -> pd.Series:
    """True where a float has at most `decimals` decimals (up to float noise). NaN -> False."""
    x = (
        values.to_numpy(dtype=float, na_value=np.nan)
        if isinstance(values, pd.Series)
        else np.asarray(values, float)
    )
    scaled = x * (10.0**decimals)
    with np.errstate(invalid="ignore"):
        ok = np.abs(scaled - np.round(scaled)) <= 1e-6 + 8 * np.spacing(np.abs(scaled))
    index = values.index if isinstance(values, pd.Series) else None
    return _result(ok & np.isfinite(x), index)


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
    "IBAN_LENGTHS",
    "LANGUAGE_ALIASES",
    "LANGUAGE_CODES",
    "MONEY_TOLERANCE",
    "POSTAL_CODE_PATTERNS",
    "URL_PATTERN",
    "has_max_decimals",
    "is_bic",
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
