"""The date window a pull covers: inclusive calendar days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Window:
    """Days `start`..`end`, both inclusive (the API's fromDate/toDate are inclusive dates)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window end {self.end} is before its start {self.start}")

    @classmethod
    def of(cls, start: date | str, end: date | str | None = None) -> Window:
        first = date.fromisoformat(start) if isinstance(start, str) else start
        last = first if end is None else (date.fromisoformat(end) if isinstance(end, str) else end)
        return cls(first, last)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def extended_back(self, days: int) -> Window:
        """The same window reaching `days` further into the past (a look-back for data that still changes)."""
        return Window(self.start - timedelta(days=max(0, days)), self.end)

    def __str__(self) -> str:
        return self.start.isoformat() if self.start == self.end else f"{self.start}..{self.end}"
