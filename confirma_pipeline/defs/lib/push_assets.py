"""The push shape, written once: a warehouse table is read, each row is sent to Confirma exactly once through
one of the push functions (push/), and the outcome lands in one of our ledgers.

Each push asset is a `PushAsset` record (its name, the source tables it reads, its ledger table and model,
the push function it calls) and `push_assets` builds the source specs and the Dagster asset from it: the same
kinds, owners, pool, retry policy, run config, resources, error handling, contract drift and materialization
metadata for all of them. What truly differs between them is a field of the record, so it is written where it is decided, not
in a copied body.

Adding a push: the push function in push/ (taking a `RunContext`), its ledger's migration and pandera model,
one `PushAsset` record in the domain's module (invoicing/actions.py is a small example) and its checks from
defs/lib/checks.py (rows rejected this run, rows stuck).
"""

# No `from __future__ import annotations`: Dagster reads the Config and resource annotations at definition time.
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Optional

import dagster as dg

from confirma_pipeline.defs.contract_drift import drift_metadata
from confirma_pipeline.defs.lib.context import step_run_context
from confirma_pipeline.defs.lib.metadata import OWNERS, markdown_table, table_metadata
from confirma_pipeline.defs.lib.policies import API_POOL, API_RETRY_POLICY, operator_errors_fail_fast
from confirma_pipeline.defs.lib.run_log import step_sync_run
from confirma_pipeline.defs.resources import ConfirmaApiResource, TokenVaultResource, WarehouseResource
from confirma_pipeline.warehouse.source import count_rows


class PushConfig(dg.Config):
    """Run config shared by the push assets."""

    dry_run: bool = False  # read, validate and map as a real run; send nothing, write nothing
    creditor_ids: Optional[list[str]] = None  # noqa: UP045 - Dagster config needs Optional  # limit to these creditors (client backfills)


@dataclass(frozen=True)
class SourceTable:
    """A table the user fills (or maps onto their own table or view): the input contract of one push, shown as
    an asset spec, a root of the graph."""

    key: str
    description: str
    table: str
    model: type  # its pandera model (the input contract's columns)


def report_metadata(report, **tables: list[dict]) -> dict:
    """A push report's counts, its duration and its breakdown tables (per client unless others are named)."""
    tables = tables or {"per_client": report.per_client_table()}
    return {
        **{k: dg.MetadataValue.int(int(v)) for k, v in report.totals().items()},
        "duration_s": dg.MetadataValue.float(round(report.duration_s, 3)),
        **{name: markdown_table(rows) for name, rows in tables.items()},
    }


@dataclass(frozen=True)
class PushAsset:
    """One push asset as data.

    `push(ctx, config, confirma_api)` sends the rows with the step's `RunContext` (a lazy import inside it
    keeps the push code out of the code location's load) and returns its report; `metadata(report, conn)`
    turns the report into materialization metadata beside the ledger's table metadata; `summary(report)`
    gives the lines logged at the end."""

    name: str
    group: str
    description: str
    sources: Sequence[SourceTable]  # what the push reads (their specs join the asset's group)
    table: str  # the ledger the push writes
    model: type  # its pandera model (the column schema shown in Dagster)
    push: Callable[..., Any]
    deps: Sequence[Any] = ()  # the other assets it runs after, by key (str or dg.AssetKey), never by object
    metadata: Callable[[Any, Any], dict] = lambda report, conn: report_metadata(report)
    summary: Callable[[Any], Iterable[str]] = lambda report: [report.summary_line()]
    config: type[dg.Config] = PushConfig
    # confirma.sync_runs records real runs under this entity (None: the push keeps no run log)
    run_log_entity: str | None = None
    # a dry run opens the token vault too (the invoice preview decrypts the stored tokens as a real run
    # would); False: a dry run needs no key (onboarding's dry run stores no token)
    vault_in_dry_run: bool = True


def push_assets(spec: PushAsset) -> tuple:
    """The specs of the push's source tables, then its asset; unpack them into module names
    (`source_creditors, onboarded_clients = push_assets(...)`) so the defs folder loads them."""
    sources = tuple(
        dg.AssetSpec(
            key=source.key,
            description=source.description,
            group_name=spec.group,
            owners=OWNERS,
            kinds={"postgres"},
            metadata=table_metadata(source.table, source.model),
        )
        for source in spec.sources
    )
    return (*sources, _push_asset(spec, [*sources, *spec.deps]))


def _push_asset(spec: PushAsset, deps: list) -> dg.AssetsDefinition:
    """The Dagster asset of one push: pooled, retried (a retried step finds its own in-flight rows and never
    resends them), failing without a traceback on an operator's mistake."""

    @dg.asset(
        name=spec.name,
        description=spec.description,
        deps=deps,
        group_name=spec.group,
        owners=OWNERS,
        kinds={"api", "postgres"},
        pool=API_POOL,
        retry_policy=API_RETRY_POLICY,
        metadata=table_metadata(spec.table, spec.model),
    )
    def _asset(
        context: dg.AssetExecutionContext,
        config: spec.config,
        warehouse: WarehouseResource,
        confirma_api: ConfirmaApiResource,
        token_vault: TokenVaultResource,
    ) -> dg.MaterializeResult:
        dry_run = getattr(config, "dry_run", None)
        logged = spec.run_log_entity is not None and not dry_run
        log_run = (
            step_sync_run(context, warehouse, entity=spec.run_log_entity, direction="push")
            if logged
            else nullcontext()
        )
        with (
            operator_errors_fail_fast(),
            log_run as run,
            step_run_context(
                context,
                warehouse,
                confirma_api,
                token_vault,
                creditor_ids=config.creditor_ids,
                api=not dry_run,
                vault=spec.vault_in_dry_run or not dry_run,
            ) as ctx,
        ):
            report = spec.push(ctx, config, confirma_api)
            # Every push stores and shows what its API client saw of the contract (defs/contract_drift.py), as
            # the pulls do: onboarding's, the actions' and accounting's answers drift as much as the invoices'.
            drift = drift_metadata(warehouse, ctx.client)
            if logged:
                run.outcome(*report.sync_outcome())
        for line in spec.summary(report):
            context.log.info(line)
        with warehouse.connect() as conn:
            metadata = {
                **table_metadata(spec.table, spec.model, count_rows(conn, spec.table)),
                **spec.metadata(report, conn),
            }
        if dry_run is not None:
            metadata["dry_run"] = dry_run
        return dg.MaterializeResult(metadata={**metadata, **drift})

    return _asset
