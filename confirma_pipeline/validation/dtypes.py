"""pandera dtypes for the project's dtype contract (see `confirma_pipeline.validation.input_contract`).

pandera's own `DateTime` is unit-blind for tz-naive data (it reports and coerces to `datetime64[ns]`). Plain
dates are `datetime64[us]` in this project (what pandas 3 produces when it parses dates, and what the source
reader returns), so `DateUS` checks that exact unit and coerces to it. UTC timestamps use pandera's built-in
`DatetimeTZDtype("us", "UTC")`, which already checks the unit.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
from pandera import dtypes
from pandera.engines import pandas_engine

from confirma_pipeline.validation.input_contract import DATE_DTYPE


@pandas_engine.Engine.register_dtype
@dtypes.immutable
class DateUS(pandas_engine.DataType, dtypes.Timestamp):
    """A calendar date as tz-naive `datetime64[us]` (midnight)."""

    type = DATE_DTYPE

    def __str__(self) -> str:
        return str(DATE_DTYPE)

    def check(self, pandera_dtype, data_container=None):
        if data_container is not None:
            return bool(data_container.dtype == DATE_DTYPE)
        return isinstance(pandera_dtype, DateUS) or getattr(pandera_dtype, "type", None) == DATE_DTYPE

    def coerce(self, data_container):
        if isinstance(data_container, pd.DataFrame):
            return data_container.transform(self.coerce)
        if getattr(data_container.dtype, "tz", None) is not None:
            data_container = data_container.dt.tz_convert("UTC").dt.tz_localize(None)
        if not isinstance(data_container.dtype, np.dtype) or data_container.dtype.kind != "M":
            data_container = pd.to_datetime(data_container)
        return data_container.astype(DATE_DTYPE)


#: Annotation for a UTC timestamp column (`datetime64[us, UTC]`).
UTCTimestamp = Annotated[pd.DatetimeTZDtype, "us", "UTC"]
