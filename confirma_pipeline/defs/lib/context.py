"""`step_run_context`: the `RunContext` of one Dagster step, built from its resources.

Why here: every push, pull and backfill step turns the same three resources, its run id and its logger into
the one object the Dagster-free core takes (confirma_pipeline/run/context.py); written once, an asset body
says only what is its own (a dry run, the clients asked for).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext

from confirma_pipeline.push.settings import PushSettings
from confirma_pipeline.run.context import RunContext


@contextmanager
def step_run_context(
    context,
    warehouse,
    confirma_api,
    token_vault,
    *,
    creditor_ids: Sequence[str] | None = None,
    api: bool = True,
    vault: bool = True,
) -> Iterator[RunContext]:
    """The step's `RunContext`, with a pooled API client open for the block (closed after it).

    `api=False` gives no client (a dry run sends nothing), `vault=False` no token vault (a dry run of
    onboarding stores no token). The vault is opened before the client, so a missing key is named first."""
    opened_vault = token_vault.get_vault() if vault else None
    with confirma_api.get_client() if api else nullcontext() as client:
        yield RunContext(
            dsn=warehouse.dsn,
            client=client,
            vault=opened_vault,
            relations=warehouse.relations(),
            settings=PushSettings(concurrency=confirma_api.concurrency),
            run_id=context.run.run_id,
            creditor_ids=tuple(creditor_ids) if creditor_ids is not None else None,
            logger=context.log,
        )
