"""An adaptive limit on the requests one client has in flight and sends per second, shared by its threads.

The API documents no rate limit, so nothing is capped by default: the limit starts at its ceiling
(`max_concurrency`, and `max_rate_per_s` when one is configured) and moves only on what the answers say:

- 429 (too many requests): the send rate is cut to 90 % of what the server *accepted* in the second before the
  refused request was sent (requests sent in that second minus those refused). Counting sends, not answers, is
  what makes the first cut land near the server's limit: answers lag sends by a round trip, so at the first 429
  of a burst most accepted requests are still in flight. A 429 never raises the rate, so the refusals of one
  episode (requests already in flight, the server's window still full) do not compound. The throttled request
  itself waits its Retry-After in the client's retry loop (a 429 means "not processed": api/contract.py); the
  others go on at the lower rate (holding every thread for a long Retry-After would hang a step), from the
  moment a one-second window of what was sent has room for them (after an unpaced burst the window is still
  full of it: sending into it only collects more 429s; at a steady pace there is no pause).
- latency rising above twice the lowest seen (+50 ms for the client's own queueing, see LATENCY_SLACK_S), or a
  5xx / transport error: the concurrency limit shrinks by 10 % (25 % on errors), at most once per current
  round trip; latency alone never below a quarter of the ceiling.
- healthy answers: the concurrency limit grows by 1/limit per answer (about +1 per round trip); the send rate
  recovers quickly toward the accepted rate measured at the last cut (half the gap per second, like CUBIC's
  concave phase), then probes past it slowly (1 %, at least 1 request/s, per second), back up to the ceiling.
  A rate no longer binding (no ceiling and the rate 50 % above what is served) is dropped altogether.

This is AIMD on the rate plus a gradient-style latency check on concurrency, as in Netflix's
concurrency-limits. Evenly spaced sends (no bursts) keep a server's per-second window from tripping. Waiting
threads are woken one per free slot (never all at once: with 32 threads a broadcast per answer cost ~10 %
of the client's CPU).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType

THROTTLED = 429
RATE_CUT = 0.9  # of the rate the server accepted in the second before a refused send
#: Below the accepted rate measured at the last cut, the rate closes this share of the gap per second.
RATE_RECOVERY_PER_S = 0.5
RATE_GROWTH_PER_S = 0.01  # of the rate, per second of healthy answers, when probing past the last cut's rate
MIN_RATE_GROWTH_PER_S = 1.0
MIN_RATE_PER_S = 0.5
#: How long a cut stays recent enough that an unbounded rate is not dropped as "not binding".
RATE_HOLD_S = 5.0
LATENCY_TOLERANCE = 2.0
#: Latency measured in the client includes its own queueing: the GIL shared by the sending threads and, on a
#: busy machine, waiting for a core (tens of ms at load 8 on 2 cores). That is not the server queueing, and
#: shrinking concurrency for it only lowers throughput, so the slack is wide; a queueing server adds more.
LATENCY_SLACK_S = 0.050
#: Rising latency alone never takes concurrency below this share of the ceiling (errors and 5xx can).
LATENCY_FLOOR = 0.25
CONCURRENCY_CUT_SLOW = 0.9
CONCURRENCY_CUT_ERROR = 0.75
WINDOW_S = 1.0


class Slot:
    """One request's place (a context manager from `AdaptiveLimiter.slot()`): entering waits for a free slot
    and the send time; the caller sets `status` from the answer (None: no answer, a transport error)."""

    __slots__ = ("_limiter", "_endpoint", "sent_at", "status")

    def __init__(self, limiter: AdaptiveLimiter, endpoint: str) -> None:
        self._limiter = limiter
        self._endpoint = endpoint
        self.sent_at = 0.0
        self.status: int | None = None

    def __enter__(self) -> Slot:
        self.sent_at = self._limiter._enter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._limiter._leave(self)


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
        self._cond = threading.Condition(threading.Lock())
        self._in_flight = 0
        self._waiting = 0
        self._next_send = -math.inf
        self._last_growth = -math.inf
        self._served: deque[float] = deque()  # answer times (not 429) in the last second
        self._sent: deque[float] = deque()  # send times of every attempt in the last two seconds
        self._refused: deque[float] = deque()  # send times of the attempts answered 429, same span
        self._accepted_at_cut = 0.0
        # per endpoint: (lowest seen, drifting up; average)
        self._latency: dict[str, tuple[float, float]] = {}
        self._round_trip_s = 0.0
        self._last_rate_cut = -math.inf
        self._last_limit_cut = -math.inf

    def slot(self, endpoint: str = "") -> Slot:
        """Hold one request's place: waits for a free slot and its send time, then measures the answer.
        Latency is judged per `endpoint` (endpoints differ in speed; one must not make another look slow)."""
        return Slot(self, endpoint)

    def _enter(self) -> float:
        with self._cond:
            if self._in_flight >= max(1, int(self.limit)):
                self._waiting += 1
                try:
                    while self._in_flight >= max(1, int(self.limit)):
                        self._cond.wait()
                finally:
                    self._waiting -= 1
            self._in_flight += 1
            now = self._clock()
            start = now
            if self.rate:
                start = max(now, self._next_send)
                self._next_send = start + 1.0 / self.rate
            sent = self._sent
            sent.append(start)
            while sent[0] < start - 2 * WINDOW_S:
                sent.popleft()
        if start > now:
            self._sleep(start - now)
        return start

    def _leave(self, slot: Slot) -> None:
        with self._cond:
            self._in_flight -= 1
            now = self._clock()
            if slot.status == THROTTLED:
                self._throttled(now, slot.sent_at)
            elif slot.status is None or slot.status >= 500:
                self._shrink(now, CONCURRENCY_CUT_ERROR)
            else:
                served = self._served
                served.append(now)
                while served[0] < now - WINDOW_S:
                    served.popleft()
                self._healthy(now, slot._endpoint, now - slot.sent_at)
            free = int(self.limit) - self._in_flight
            if self._waiting and free > 0:
                self._cond.notify(free)

    def _throttled(self, now: float, sent_at: float) -> None:
        self.throttled += 1
        refused = self._refused
        refused.append(sent_at)
        while refused[0] < sent_at - 2 * WINDOW_S:
            refused.popleft()
        since = sent_at - WINDOW_S
        # Sent in the second before the refused one, and not refused (or not answered yet: sent before a
        # refused one, a server with a sliding window took them).
        window = [t for t in self._sent if since <= t < sent_at]
        accepted = float(len(window) - sum(1 for t in refused if since <= t < sent_at))
        if accepted < 1:  # nothing measured (e.g. the first request refused): halve what is being served
            accepted = self.rate or max(len(self._served), self.limit) / 2
        self._accepted_at_cut = accepted
        cut = max(MIN_RATE_PER_S, accepted * RATE_CUT)
        self.rate = cut if self.rate is None else min(self.rate, cut)
        self._last_rate_cut = now
        self._next_send = max(self._next_send, self._window_clear_at(sorted(window), accepted, self.rate))

    @staticmethod
    def _window_clear_at(window: list[float], limit: float, rate: float) -> float:
        """When sends paced at `rate` can start without the server's one-second window (holding `window`)
        going past `limit`: the send at `window[j]` leaves it at `window[j] + 1`, and until then the
        `len(window) - j` still in it plus the new ones must stay within the limit. At a steady pace that is
        at once; after an unpaced burst it waits for the burst to leave the window (at most a second)."""
        n = len(window)
        return max((t + WINDOW_S - (limit - n + j) / rate for j, t in enumerate(window)), default=-math.inf)

    def _shrink(self, now: float, factor: float, floor: float = 1.0) -> None:
        if now - self._last_limit_cut < self._round_trip_s or self.limit <= floor:
            return
        self._last_limit_cut = now
        self.limit = max(1.0, floor, self.limit * factor)

    def _healthy(self, now: float, endpoint: str, latency_s: float) -> None:
        lowest, average = self._latency.get(endpoint, (latency_s, latency_s))
        # The lowest drifts up 0.1 % per answer, so a lasting change of the network is accepted in time.
        lowest, average = min(latency_s, lowest * 1.001), 0.9 * average + 0.1 * latency_s
        self._latency[endpoint] = (lowest, average)
        self._round_trip_s = average
        if average > LATENCY_TOLERANCE * lowest + LATENCY_SLACK_S:
            self._shrink(now, CONCURRENCY_CUT_SLOW, floor=LATENCY_FLOOR * self.max_concurrency)
        elif self.limit < self.max_concurrency:
            self.limit = min(float(self.max_concurrency), self.limit + 1.0 / self.limit)
        elapsed, self._last_growth = min(1.0, now - self._last_growth), now
        rate = self.rate
        if rate is None:
            return
        gap = self._accepted_at_cut - rate
        step = max(RATE_GROWTH_PER_S * rate, MIN_RATE_GROWTH_PER_S, RATE_RECOVERY_PER_S * gap)
        rate += step * elapsed
        if self.max_rate_per_s is not None:
            rate = min(rate, self.max_rate_per_s)
        elif now - self._last_rate_cut > RATE_HOLD_S and rate > 1.5 * max(1, len(self._served)):
            rate = None  # not binding any more: concurrency and latency set the pace
        self.rate = rate

    def snapshot(self) -> dict[str, float | int | None]:
        """The current limits, for run metadata and logs."""
        with self._cond:
            return {
                "concurrency_limit": round(self.limit, 1),
                "rate_limit_per_s": None if self.rate is None else round(self.rate, 1),
                "throttled": self.throttled,
            }
