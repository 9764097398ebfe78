"""Which clients one of K push processes takes: a stable hash of the creditor id, modulo K.

Why shard by client: one interpreter sends ~1000-1500 requests/s at most (its threads share one GIL), so a
night larger than that is split across processes, or pods, each taking the clients whose hash falls in its
shard. The hash is CRC-32 of the id's UTF-8 bytes: the same in every process, Python version and machine
(Python's own `hash()` of a str is salted per process). Shards never overlap, and even if two runs were
given the same shard, the per-client advisory locks (warehouse/locks.py) still keep a client to one run.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (0-based, as a Kubernetes indexed Job's JOB_COMPLETION_INDEX)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard must be I/K with 0 <= I < K, got {self.index}/{self.count}")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`"I/K"`, e.g. `"0/2"` and `"1/2"` for two processes."""
        index, sep, count = text.partition("/")
        try:
            if not sep:
                raise ValueError
            return cls(int(index), int(count))
        except ValueError:
            raise ValueError(f"shard must be I/K with 0 <= I < K (e.g. 0/2), got {text!r}") from None

    def holds(self, creditor_id: str) -> bool:
        return zlib.crc32(creditor_id.encode("utf-8")) % self.count == self.index

    def pick(self, creditor_ids: Iterable[str]) -> list[str]:
        """The ids of this shard, in their order."""
        return [c for c in creditor_ids if self.holds(c)]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
