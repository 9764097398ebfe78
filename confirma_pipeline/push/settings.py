"""Knobs of the push side, with the reasons for their defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PushSettings:
    # Requests in flight at once; 32 keeps a 20-50 ms API busy without AsyncClient's overheads
    # (performance-baselines.md part A).
    concurrency: int = 32
    # Attempts per row before it stops being retried automatically and a check fails (ERROR).
    max_attempts: int = 5
    # Invoices read, validated and mapped at a time: bounds memory whatever the backlog (two chunks
    # are held at once: one being sent, the next being prepared).
    chunk_size: int = 10_000
    # Rows committed `in_flight` per transaction before their POSTs: fewer commits (the sending
    # threads wait on each one), and a crash leaves at most this many rows to look up.
    claim_batch: int = 2_000
    # Answers committed per transaction (or every flush_seconds); safe because an uncommitted
    # answer leaves the row `in_flight`, which the next run looks up instead of resending.
    outcome_batch: int = 500
    flush_seconds: float = 0.5
    # Clients locked (advisory locks) and processed together.
    lock_batch: int = 200
    # Extra passes within one run for rows whose outcome was unknown (looked up, then resent).
    recovery_rounds: int = 2
    # create-client calls are sent one at a time, always (push/onboarding.py says why); this
    # records that for reports and benchmarks, it is not a knob.
    onboarding_concurrency: int = 1
