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


class _IteratorFailed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def run_bounded(
    fn: Callable[[T], R], items: Iterable[T], concurrency: int
) -> Iterator[tuple[T, R | BaseException]]:
    """Call `fn(item)` for each item on `concurrency` threads; yield `(item, result or exception)` as each
    call completes (not in input order).

    Memory stays bounded for any number of items: `items` is consumed lazily, at most `concurrency` calls run at
    once, and at most `2 * concurrency` answers wait for the caller, so the caller can commit each answer as it
    arrives (a slow caller slows the fan-out down instead of piling answers up). Each worker thread takes its
    next item itself, so the caller's thread is never on the critical path. Closing the iterator early stops
    new calls and waits for the ones in flight (never more than `concurrency`). An exception raised by `items`
    itself is re-raised to the caller.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")
    iterator = iter(items)
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
                with take_lock:
                    if stop.is_set():
                        return
                    try:
                        item = next(iterator)
                    except StopIteration:
                        stop.set()
                        return
                    except BaseException as exc:  # the caller's iterable failed: report it, stop everyone
                        stop.set()
                        done.put(_IteratorFailed(exc))
                        return
                try:
                    outcome: Any = fn(item)
                except BaseException as exc:  # handed to the caller, never swallowed
                    outcome = exc
                done.put((item, outcome))
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
                yield entry
        finally:
            stop.set()
            for _ in range(concurrency):
                slots.release()
    if failure is not None:
        raise failure
