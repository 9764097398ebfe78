"""Retry timing: exponential backoff with full jitter, and `Retry-After` parsing."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from confirma_pipeline.api.contract import NOT_PROCESSED_STATUSES

RETRYABLE_GET_STATUSES = frozenset({429, 500, 502, 503, 504})
# A POST answered with these was not processed (the server refused before acting; CHOSEN in api/contract.py):
# safe to resend.
RETRYABLE_POST_STATUSES = NOT_PROCESSED_STATUSES


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent/invalid."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


@dataclass
class BackoffPolicy:
    """Full-jitter exponential backoff: uniform(0, min(max_s, base_s * 2**attempt)).

    A server's Retry-After is honoured, but never below `base_s` (so `Retry-After: 0` cannot burn every retry
    at once), plus up to `base_s` of jitter so many threads do not come back in the same instant. A
    Retry-After longer than `max_retry_after_s` is not waited for: the caller gives up instead.
    """

    base_s: float = 0.5
    max_s: float = 30.0
    max_retry_after_s: float = 120.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return max(retry_after, self.base_s) + self.rng.uniform(0, self.base_s)
        return self.rng.uniform(0, min(self.max_s, self.base_s * (2**attempt)))
