"""Policies shared by the domains: retries for API steps, pools, and how operator errors fail."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import dagster as dg

from confirma_pipeline.defs.lib.partitions import TIMEZONE
from confirma_pipeline.errors import OperatorError

# Every asset that calls the API with client tokens depends on this one, so a token is renewed BEFORE
# they run, never while one runs (a renewal kills the old token at once): a dependency, not luck.
CLIENT_TOKENS = dg.AssetKey("client_credentials")

# Pools cap concurrent steps across runs (limits in the instance: see instance.py and
# dagster.yaml.example). The API client rate-limits requests on top. There is one pool: every step
# that writes the warehouse heavily also calls the API (a step has one pool), and the writes are
# upserts under per-client advisory locks, so a separate warehouse pool would bound nothing more.
API_POOL = "confirma_api"

# Step retries for steps that call the API. Re-execution is safe: pushes go through the ledger
# and writes are upserts. Transient HTTP errors are already retried inside the client; these
# retries cover a step that died (e.g. the API was down for minutes).
API_RETRY_POLICY = dg.RetryPolicy(
    max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)

# Every pulled asset (data read from the API) must have been updated between 02:00 and 06:00 Helsinki:
# the nightly run starts at 02:00 and takes minutes. Asset health and Dagster+ freshness alerts
# (alert_policies.yaml) read it. The policy is per asset, not per partition, so the partition freshness
# checks (receivables/checks.py) stay: they prove yesterday's *partition* was filled, which a backfill of
# an old partition alone would pass for here.
PULLED_FRESHNESS = dg.FreshnessPolicy.cron(
    deadline_cron="0 6 * * *", lower_bound_delta=dt.timedelta(hours=4), timezone=TIMEZONE
)


@contextmanager
def operator_errors_fail_fast():
    """Turn a configuration or data error into a Dagster failure that is not retried and whose
    message (already free of secrets) is shown as is, without a traceback of our internals."""
    try:
        yield
    except OperatorError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
