"""Accounting sync in simulated time: what the target system (Netvisor, Procountor, NetBaron) does with the
vouchers and payments Confirma queued.

An item is listed from the moment it is queued, as pending (status 0, SEEN). After `syncDelayDays`
simulated days it is either synced (status 1, "Successfully synced", with the day as syncDate) or, for a
`failureRate` share drawn from the state's seeded random generator, failed (status 2, INFERRED) with a
description of the kind a target system gives. Both knobs are set through the control API:
`POST /_sandbox/accounting {"failureRate": 0.2, "syncDelayDays": 2}` (defaults 0 and 1; a reset restores
them; routes/control.py serves it). The age of an item is kept in the record under a private key, which
the status routes hide.
"""

from __future__ import annotations

from typing import Any

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox.state import ACCOUNTING_SYNC_DEFAULTS, SandboxState

DEFAULTS = ACCOUNTING_SYNC_DEFAULTS
FAILURE_DESCRIPTIONS = (
    "Account not found in the target chart of accounts",
    "Accounting period is closed in the target system",
    "Dimension value not found in the target system",
    "Invoice not found in the target system",
)
_AGE = "_ageDays"


def settings(state: SandboxState) -> dict[str, Any]:
    return state.accounting_sync


def public(row: dict[str, Any]) -> dict[str, Any]:
    """A status record as the API shows it (without the simulation's private keys)."""
    return {k: v for k, v in row.items() if not k.startswith("_")}


def sync_day(state: SandboxState) -> dict[str, int]:
    """One simulated day of the target systems; returns how many items synced and failed."""
    config = settings(state)
    day = state.today.isoformat()
    counts = {"synced": 0, "syncFailed": 0}
    for rows in list(state.ledgers.values()) + list(state.accounting_payments.values()):
        for row in rows:
            if row["status"] != c.SYNC_PENDING:
                continue
            row[_AGE] = row.get(_AGE, 0) + 1
            if row[_AGE] < config["syncDelayDays"]:
                continue
            if state.rng.random() < config["failureRate"]:
                description = FAILURE_DESCRIPTIONS[state.rng.randrange(len(FAILURE_DESCRIPTIONS))]
                row.update(status=c.SYNC_FAILED, syncDate=None, description=description)
                counts["syncFailed"] += 1
            else:
                row.update(status=c.SYNC_SYNCED, syncDate=day, description=c.SYNC_DESCRIPTIONS[c.SYNC_SYNCED])
                counts["synced"] += 1
    return counts
