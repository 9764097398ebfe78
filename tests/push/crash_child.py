"""A push run in a process of its own, for crash trials: `python crash_child.py DSN SANDBOX_URL RUN_ID`.

Answers are committed rarely (huge outcome batch), so a kill -9 while sending leaves many rows in flight."""

from __future__ import annotations

import sys

from push_helpers import make_client

from confirma_pipeline.push.invoices import push_invoices
from confirma_pipeline.push.settings import PushSettings
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.vault import TokenVault

SETTINGS = PushSettings(concurrency=2, claim_batch=10, outcome_batch=10_000, flush_seconds=3600.0)


class _Sandbox:
    def __init__(self, url: str) -> None:
        self.url = url


if __name__ == "__main__":
    dsn, url, run_id = sys.argv[1:4]
    with make_client(_Sandbox(url), max_retries=1) as api:
        report = push_invoices(RunContext(dsn, api, TokenVault.from_env(), settings=SETTINGS, run_id=run_id))
    print(report.summary_line(), flush=True)
