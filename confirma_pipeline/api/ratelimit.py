"""An adaptive limit on the requests one client has in flight and sends per second, shared by its threads.

The API documents no rate limit, so nothing is capped by default: the limit starts at its ceiling
(`max_concurrency`, and `max_rate_per_s` when one is configured) and moves only on what the answers say:

- 429 (too many requests): the send rate is cut to 90 % of the rate it was paced at (unpaced: of the answers
  served in the last second), once per two-second episode, since requests already in flight when the first
  429 came, and the server's window still full of them, answer 429 too. The throttled request itself waits
  its Retry-After in the client's retry loop; the others go on at the lower rate (holding every thread for
  a long Retry-After would hang a step).
- latency rising above twice the lowest seen (+10 ms for scheduling noise), or a 5xx / transport error:
  the concurrency limit shrinks by 10 % (25 % on errors), at most once per current round trip.
- healthy answers: the concurrency limit grows by 1/limit per answer (about +1 per round trip) and the send
  rate by 1 % (at least 1 request/s) per second, back up to the ceilings; a rate no longer binding (the ceiling unset and the rate
  50 % above what is served) is dropped altogether.

This is AIMD on the rate plus a gradient-style latency check on concurrency, as in Netflix's
concurrency-limits. Evenly spaced sends (no bursts) keep a server's per-second window from tripping.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

THROTTLED = 429
RATE_CUT = 0.9
#: After a cut, further 429s are the same episode for this long: answers to requests sent before the cut, and
#: a server's one-second window still full of them.
RATE_CUT_QUIET_S = 2.0
RATE_GROWTH_PER_S = 0.01  # of the rate, per second of healthy answers
MIN_RATE_GROWTH_PER_S = 1.0
MIN_RATE_PER_S = 0.5
LATENCY_TOLERANCE = 2.0
LATENCY_SLACK_S = 0.010
CONCURRENCY_CUT_SLOW = 0.9
CONCURRENCY_CUT_ERROR = 0.75


@dataclass
class Slot:
    """What one request's answer said; set by the caller inside `AdaptiveLimiter.slot()`."""

    status: int | None = None  # None: no answer (transport error)


class AdaptiveLimiter:
    """Thread-safe adaptive concurrency and rate limit (see the module docstring)."""

    def __init__(
        self,
        max_concurrency: int,
        max_rate_per_s: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if max_rate_per_s is not None and max_rate_per_s < 0:
            raise ValueError("max_rate_per_s must not be negative")
        self.max_concurrency = int(max_concurrency)
        self.max_rate_per_s = max_rate_per_s or None
        self.limit = float(self.max_concurrency)
        self.rate: float | None = self.max_rate_per_s
        self.throttled = 0
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition()
        self._in_flight = 0
        self._next_send = -math.inf
        self._last_growth = -math.inf
        self._served: deque[float] = deque()
        self._latency: dict[
            str, tuple[float, float]
        ] = {}  # per endpoint: (lowest seen, drifting up; average)
        self._round_trip_s = 0.0
        self._last_rate_cut = -math.inf
        self._last_limit_cut = -math.inf

    @contextlib.contextmanager
    def slot(self, endpoint: str = "") -> Iterator[Slot]:
        """Hold one request's place: waits for a free slot and its send time, then measures the answer.
        Latency is judged per `endpoint` (endpoints differ in speed; one must not make another look slow)."""
        self._enter()
        started = self._clock()
        slot = Slot()
        try:
            yield slot
        finally:
            self._leave(slot, endpoint, self._clock() - started)

    def _enter(self) -> None:
        with self._cond:
            while self._in_flight >= max(1, int(self.limit)):
                self._cond.wait()
            self._in_flight += 1
            now = self._clock()
            start = now
            if self.rate:
                start = max(now, self._next_send)
                self._next_send = start + 1.0 / self.rate
            wait = start - now
        if wait > 0:
            self._sleep(wait)

    def _leave(self, slot: Slot, endpoint: str, latency_s: float) -> None:
        with self._cond:
            self._in_flight -= 1
            now = self._clock()
            while self._served and self._served[0] < now - 1.0:
                self._served.popleft()
            if slot.status == THROTTLED:
                self._throttled(now)
            elif slot.status is None or slot.status >= 500:
                self._shrink(now, CONCURRENCY_CUT_ERROR)
            else:
                self._served.append(now)
                self._healthy(now, endpoint, latency_s)
            self._cond.notify_all()

    def _throttled(self, now: float) -> None:
        self.throttled += 1
        if now - self._last_rate_cut < RATE_CUT_QUIET_S:
            return
        self._last_rate_cut = now
        # What was sent: the paced rate when there is one (answers lag it by a round trip and by pacing
        # jitter, so counting them would cut too deep), else what was served in the last second.
        served = len(self._served)
        base = self.rate if self.rate is not None else (served or self.limit / 2)
        self.rate = max(MIN_RATE_PER_S, base * RATE_CUT)

    def _shrink(self, now: float, factor: float) -> None:
        if now - self._last_limit_cut < self._round_trip_s:
            return
        self._last_limit_cut = now
        self.limit = max(1.0, self.limit * factor)

    def _healthy(self, now: float, endpoint: str, latency_s: float) -> None:
        lowest, average = self._latency.get(endpoint, (latency_s, latency_s))
        # The lowest drifts up 0.1 % per answer, so a lasting change of the network is accepted in time.
        lowest, average = min(latency_s, lowest * 1.001), 0.9 * average + 0.1 * latency_s
        self._latency[endpoint] = (lowest, average)
        self._round_trip_s = average
        if average > LATENCY_TOLERANCE * lowest + LATENCY_SLACK_S:
            self._shrink(now, CONCURRENCY_CUT_SLOW)
        else:
            self.limit = min(float(self.max_concurrency), self.limit + 1.0 / self.limit)
        elapsed, self._last_growth = min(1.0, now - self._last_growth), now
        if self.rate is not None:
            self.rate += max(RATE_GROWTH_PER_S * self.rate, MIN_RATE_GROWTH_PER_S) * elapsed
            if self.max_rate_per_s is not None:
                self.rate = min(self.rate, self.max_rate_per_s)
            elif now - self._last_rate_cut > 5.0 and self.rate > 1.5 * max(1, len(self._served)):
                self.rate = None  # not binding any more: concurrency and latency set the pace

    def snapshot(self) -> dict[str, float | int | None]:
        """The current limits, for run metadata and logs."""
        with self._cond:
            return {
                "concurrency_limit": round(self.limit, 1),
                "rate_limit_per_s": None if self.rate is None else round(self.rate, 1),
                "throttled": self.throttled,
            }
