"""Keep a pull's memory flat: Arrow on the C heap while it runs, and freed memory handed back after each write.

A pull's peak is its answers in flight and waiting; once written they are freed, but the allocators keep the
pages for reuse: pyarrow's pool (mimalloc) keeps the decoded columns' pages, which the next answer's Python
objects and pandas' buffers cannot use, and glibc's malloc, whose mmap threshold grows after each large block
freed, serves later frames from its heap and keeps that heap's freed top. Without this the process holds its
largest moment for the rest of the run (issue 16 goal 2: peak memory flat in the number of rows). Dask's
workers trim the same way.

pyarrow's default pool (mimalloc) keeps a heap per thread: answers are decoded on the fetching worker threads
and freed on the writer's thread, and each worker's heap then holds its pages (measured: RSS grew ~15 MB per
200k rows with 8 workers, not with 1, while pyarrow reported 0 bytes allocated). So while a pull runs,
Arrow allocates from the system allocator (`arrow_on_c_heap`), whose free pages `malloc_trim` returns.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
from collections.abc import Iterator
from functools import cache

import pyarrow as pa


@cache
def _malloc_trim():
    """glibc's `malloc_trim`, or None (another C library: nothing to trim)."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def give_back_memory() -> None:
    """Return the free pages of pyarrow's pool and of the C heap to the operating system (milliseconds)."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@contextlib.contextmanager
def arrow_on_c_heap() -> Iterator[None]:
    """Arrow's default pool is the system allocator inside the block (set back afterwards)."""
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)
