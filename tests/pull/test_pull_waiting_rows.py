"""The pull bounds the answers waiting for its writer by rows, not by count (`run_bounded`'s size-aware option):
one client's payments may be 50k rows and another's 50, so a count bounds nothing useful (issue 16 goal 2)."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from confirma_pipeline.api.concurrency import run_bounded
from confirma_pipeline.pull.engine import _Mapped, _size_bound
from confirma_pipeline.pull.payments import PAYMENTS


def test_answers_waiting_and_expected_in_flight_stay_within_the_size_bound() -> None:
    lock = threading.Lock()
    running = 0
    produced = 0
    taken = 0
    seen_at_start: list[int] = []  # sizes waiting or running when a call starts, after the first answer

    def fetch(n: int) -> int:
        nonlocal running, produced
        with lock:
            if produced:
                seen_at_start.append((produced - taken + running) * 50)
            running += 1
        time.sleep(0.002)
        with lock:
            running -= 1
            produced += 1
        return 50  # rows of this answer

    results = []
    for item, rows in run_bounded(fetch, range(40), 8, size=lambda rows: rows, max_waiting_size=100):
        results.append((item, rows))
        time.sleep(0.01)  # a slow writer
        with lock:
            taken += 1
    assert sorted(i for i, _ in results) == list(range(40))
    # A call starts only while waiting + expected in flight is below 100 rows: at most 2 answers before it,
    # plus the first burst (its sizes unknown) draining away.
    late = seen_at_start[len(seen_at_start) // 2 :]
    assert late and max(late) <= 100
    # Without the size option, the same slow writer lets up to 2 x 8 answers wait.


def test_without_the_size_option_the_count_bound_is_unchanged() -> None:
    waiting_peak = 0
    lock = threading.Lock()
    produced = taken = 0

    def fetch(n: int) -> int:
        nonlocal produced, waiting_peak
        with lock:
            produced += 1
            waiting_peak = max(waiting_peak, produced - taken)
        return n

    for _ in run_bounded(fetch, range(60), 4):
        time.sleep(0.003)
        with lock:
            taken += 1
    assert 4 < waiting_peak <= 2 * 4 + 1


def test_size_and_its_bound_go_together() -> None:
    with pytest.raises(ValueError, match="go together"):
        list(run_bounded(lambda n: n, range(3), 2, size=lambda n: n))


def test_the_payments_pull_bounds_its_waiting_answers_by_rows() -> None:
    bound = _size_bound(PAYMENTS)
    assert bound["max_waiting_size"] == PAYMENTS.max_waiting_rows

    assert bound["size"](_Mapped([pd.DataFrame({"a": range(3)}), pd.DataFrame({"a": range(2)})])) == 5


def test_a_pull_allocates_arrow_on_the_c_heap_and_sets_the_pool_back() -> None:
    import pyarrow as pa

    from confirma_pipeline.pull.memory import arrow_on_c_heap, give_back_memory

    before = pa.default_memory_pool().backend_name
    with arrow_on_c_heap():
        assert pa.default_memory_pool().backend_name == "system"
        give_back_memory()
    assert pa.default_memory_pool().backend_name == before
