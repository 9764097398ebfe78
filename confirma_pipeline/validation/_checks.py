"""Building blocks shared by the models: row-level (multi-column) checks carrying the columns they are about.

A row check is a pandera dataframe check returning one boolean per row. Its `statistics` record the columns
it judges (`columns`) and the columns that explain the verdict (`context`), so `reasons.py` can write
"buyer_postal_code '123' fails postal_code_matches_country for buyer_country_code 'FI'" without knowing the
check. (pandera does not pass `statistics` to the check function; it is metadata only.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pandera.pandas as pa

from confirma_pipeline.api.contract import DATE_RANGE
from confirma_pipeline.validation import identifiers as ids


def field(description: str, **kwargs):
    """A model column with its description (the description is what Dagster's column schema shows)."""
    return pa.Field(description=description, **kwargs)


def nullable_field(description: str, **kwargs):
    """A model column that may be NULL."""
    return pa.Field(description=description, nullable=True, **kwargs)


def row_check(name: str, *, columns: Sequence[str], context: Sequence[str] = (), error: str):
    """Decorator for a DataFrameModel classmethod `(cls, df) -> bool Series` judging each row."""
    return pa.dataframe_check(
        name=name, error=error, statistics={"columns": tuple(columns), "context": tuple(context)}
    )


def present(s: pd.Series) -> np.ndarray:
    """Not null and not blank."""
    return ~ids.is_blank(s).to_numpy()


def optional(valid: pd.Series, s: pd.Series) -> pd.Series:
    """`valid`, but a blank value (null, '' or spaces) passes: the field is simply not given."""
    return valid | ids.is_blank(s)


def business_id_ok(business_id: pd.Series, country: pd.Series, *, required: bool) -> pd.Series:
    """Y-tunnus check digit where the party is Finnish (country FI, or not given); other countries' business
    ids have other formats and are only required to be present when `required`."""
    finnish = (country.isna() | (country == "FI")).to_numpy(dtype=bool)
    given = present(business_id)
    valid = ids.is_business_id(business_id).to_numpy()
    ok = np.where(finnish, valid, True)
    ok = ok if required else np.where(given, ok, True)
    return pd.Series(ok, index=business_id.index)


def postal_code_ok(code: pd.Series, country: pd.Series, *, required: bool) -> pd.Series:
    """Postal code valid for its country; when not `required`, a blank code passes. An unknown/blank country
    falls back to "not blank"."""
    ok = ids.postal_code_matches_country(code, country.fillna("")).to_numpy()
    if not required:
        ok = np.where(present(code), ok, True)
    return pd.Series(ok, index=code.index)


MAX_LENGTH_CHECK = "max_length"


def within_max_length(s: pd.Series, limits: dict[str, int]) -> pd.Series:
    """Text no longer than its column's CHOSEN limit (`limits[s.name]`, characters); a null passes."""
    return pd.Series(ids.char_lengths_within(s, limits[s.name]), index=s.index)


XML_SAFE_CHECK = "xml_characters"
XML_SAFE_ERROR = "holds a character XML (Finvoice) cannot carry"


def xml_safe(s: pd.Series) -> pd.Series:
    """Text free of characters XML 1.0 cannot carry (Finvoice is XML; api/contract.XML_FORBIDDEN_CHARACTERS)."""
    return pd.Series(ids.xml_safe(s), index=s.index)


DATE_RANGE_CHECK = "date_in_range"


def date_in_range(s: pd.Series) -> pd.Series:
    """A date within api/contract.DATE_RANGE (CHOSEN); null passes (a required date has its own not_null)."""
    low, high = (pd.Timestamp(d) for d in DATE_RANGE)
    return s.isna() | ((s >= low) & (s <= high))
