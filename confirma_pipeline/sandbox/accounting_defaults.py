"""Defaults of the simulated accounting systems (a module of its own so `state.py` can import it without
importing the routes): every queued item syncs one simulated day later, none fail."""

ACCOUNTING_SYNC_DEFAULTS = {"failureRate": 0.0, "syncDelayDays": 1}
