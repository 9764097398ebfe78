"""Bounded, streaming fan-out over a thread pool."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_WORKER_DONE = object()
_NO_ITEM = object()


class _IteratorFailed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def run_bounded(
    fn: Callable[[T], R],
    items: Iterable[T],
    concurrency: int,
    *,
    size: Callable[[R], int] | None = None,
    max_waiting_size: int | None = None,
) -> Iterator[tuple[T, R | BaseException]]:
    """Call `fn(item)` for each item on `concurrency` threads; yield `(item, result or exception)` as each
    call completes (not in input order).

    Memory stays bounded for any number of items: `items` is consumed lazily, at most `concurrency` calls run at
    once, and at most `2 * concurrency` answers wait for the caller, so the caller can commit each answer as it
    arrives (a slow caller slows the fan-out down instead of piling answers up). Each worker thread takes its
    next item itself, so the caller's thread is never on the critical path. Closing the iterator early stops
    new calls and waits for the ones in flight (never more than `concurrency`). An exception raised by `items`
    itself is re-raised to the caller.

    Size-aware option (`size` and `max_waiting_size`, e.g. rows per answer): when answers vary in size, a count
    bounds nothing useful (2 x concurrency answers of 50k rows each are most of a process). Then a worker takes
    its next item only while the size of the answers waiting for the caller, plus the size expected from the
    calls in flight (their number x the mean size of the answers so far), stays below `max_waiting_size`; an
    answer counts as waiting until the caller asks for the next one (so the caller's own work on it counts).
    Until the first answer is back (its size unknown), one call runs at a time. One call is always allowed, so an
    answer larger than the bound still passes; the count bound above holds too.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    if (size is None) != (max_waiting_size is None):
        raise ValueError("size and max_waiting_size go together")
    iterator = iter(items)
    budget = _SizeBudget(size, max_waiting_size) if size is not None else None
    take_lock = threading.Lock()
    slots = threading.Semaphore(2 * concurrency)
    stop = threading.Event()
    done: SimpleQueue[Any] = SimpleQueue()

    def worker() -> None:
        try:
            while True:
                slots.acquire()
                if stop.is_set():
                    return
                if budget is not None and not budget.start(stop):
                    return
                item: Any = _NO_ITEM
                with take_lock:
                    try:
                        if not stop.is_set():
                            item = next(iterator)
                    except StopIteration:
                        stop.set()
                    except BaseException as exc:  # the caller's iterable failed: report it, stop everyone
                        stop.set()
                        done.put(_IteratorFailed(exc))
                if item is _NO_ITEM:
                    if budget is not None:
                        budget.cancel()
                    return
                try:
                    outcome: Any = fn(item)
                except BaseException as exc:  # handed to the caller, never swallowed
                    outcome = exc
                weight = budget.finish(outcome) if budget is not None else 0
                done.put((item, outcome, weight))
        finally:
            done.put(_WORKER_DONE)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="confirma-api") as pool:
        for _ in range(concurrency):
            pool.submit(worker)
        finished = 0
        failure: BaseException | None = None
        try:
            while finished < concurrency:
                entry = done.get()
                if entry is _WORKER_DONE:
                    finished += 1
                    slots.release()  # wake a worker that may be waiting for a slot so it can see `stop`
                    continue
                if isinstance(entry, _IteratorFailed):
                    failure = entry.error
                    continue
                slots.release()
                item, outcome, weight = entry
                yield item, outcome
                if budget is not None:
                    budget.taken(weight)
        finally:
            stop.set()
            if budget is not None:
                budget.wake()
            for _ in range(concurrency):
                slots.release()
    if failure is not None:
        raise failure


class _SizeBudget:
    """`run_bounded`'s size-aware bound: the size waiting for the caller plus the size expected in flight."""

    def __init__(self, size: Callable[[Any], int], limit: int) -> None:
        if limit < 1:
            raise ValueError("max_waiting_size must be >= 1")
        self.size, self.limit = size, limit
        self.changed = threading.Condition()
        self.waiting = 0  # size of the answers not yet taken by the caller
        self.in_flight = 0  # calls running
        self.answers = 0  # answers so far, and their total size: the mean expected of a call in flight
        self.total = 0

    def _expected(self) -> float:
        return self.waiting + (self.in_flight * self.total / self.answers if self.answers else 0)

    def _fits(self) -> bool:
        if not (self.in_flight or self.waiting):
            return True  # one call always runs
        if not self.answers:
            return False  # the first answer's size is not known yet: one call at a time until it is
        return self._expected() < self.limit

    def start(self, stop: threading.Event) -> bool:
        """Wait until one more call fits; False once stopped."""
        with self.changed:
            while not stop.is_set() and not self._fits():
                self.changed.wait()
            if stop.is_set():
                return False
            self.in_flight += 1
            return True

    def cancel(self) -> None:
        """A started call that found no item."""
        with self.changed:
            self.in_flight -= 1
            self.changed.notify_all()

    def finish(self, outcome: Any) -> int:
        weight = 0 if isinstance(outcome, BaseException) else max(0, int(self.size(outcome)))
        with self.changed:
            self.in_flight -= 1
            self.waiting += weight
            self.answers += 1
            self.total += weight
            self.changed.notify_all()
        return weight

    def taken(self, weight: int) -> None:
        with self.changed:
            self.waiting -= weight
            self.changed.notify_all()

    def wake(self) -> None:
        with self.changed:
            self.changed.notify_all()
