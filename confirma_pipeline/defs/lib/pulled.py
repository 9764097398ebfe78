"""One factory for the pulled assets (payments, settlements, distribution, cases, client tokens, e-invoice
addresses) and one for the checks that count bad rows of a pulled table.

A pulled asset differs from the others only by a small record (`PulledAsset`: key, group, the table it
writes and its model, deps as asset keys, daily partitions or not, config class, description, and how to call
its pull); everything they share is written here once: pool, retries, freshness policy, kinds, owners, table
metadata and column schema, the run log, contract drift, the materialization metadata of the `PullReport`,
and the WARN check `all_clients_pulled` (clients skipped because their token was refused).
"""

# No `from __future__ import annotations`: Dagster resolves the asset function's annotations.
import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import dagster as dg
import psycopg

from confirma_pipeline.defs.contract_drift import drift_metadata
from confirma_pipeline.defs.lib.metadata import OWNERS, markdown_table, table_metadata
from confirma_pipeline.defs.lib.partitions import daily_partitions, partition_window, single_run_backfill
from confirma_pipeline.defs.lib.policies import (
    API_POOL,
    API_RETRY_POLICY,
    PULLED_FRESHNESS,
    operator_errors_fail_fast,
)
from confirma_pipeline.defs.lib.run_log import step_sync_run
from confirma_pipeline.defs.resources import ConfirmaApiResource, TokenVaultResource, WarehouseResource
from confirma_pipeline.pull import engine
from confirma_pipeline.pull.report import PullReport
from confirma_pipeline.pull.spec import PulledTable, PullSpec
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.warehouse.findings import Finding
from confirma_pipeline.warehouse.source import count_rows

# Name of the WARN check every pulled asset carries: clients skipped because their token was refused.
ALL_CLIENTS_PULLED = "all_clients_pulled"
ALL_CLIENTS_PULLED_DESCRIPTION = (
    "Every active client was pulled (a client whose token was refused is skipped and named)"
)


def definition_metadata(table: str, model) -> dict:
    """Definition-time metadata: the table and the column schema of its pandera model."""
    return table_metadata(table, model)


def pull_metadata(report, warehouse, table: str, model, extra_tables: tuple[str, ...] = ()) -> dict:
    """Materialization metadata of one pull. `report` is a `confirma_pipeline.pull.PullReport`."""
    with warehouse.connect() as conn:
        rows = count_rows(conn, table)
        extra = {f"rows_{t.split('.')[-1]}": dg.MetadataValue.int(count_rows(conn, t)) for t in extra_tables}
    metadata: dict = {
        **table_metadata(table, model, rows),
        **extra,
        **{k: dg.MetadataValue.int(int(v)) for k, v in report.totals().items()},
        "duration_s": dg.MetadataValue.float(round(report.duration_s, 3)),
        "per_client": markdown_table(report.per_client_table()),
    }
    if report.window is not None:
        metadata["window"] = dg.MetadataValue.text(str(report.window))
    if report.fetch_window is not None:
        metadata["fetch_window"] = dg.MetadataValue.text(str(report.fetch_window))
    if report.mode is not None:
        metadata["mode"] = dg.MetadataValue.text(report.mode)
    if report.unauthorized:
        metadata["clients_token_refused"] = dg.MetadataValue.text(", ".join(sorted(report.unauthorized)))
    return metadata


def unauthorized_check_result(report, asset_key: dg.AssetKey, check_name: str) -> dg.AssetCheckResult:
    """WARN when some clients' tokens were refused (those clients were skipped, the others written)."""
    skipped = sorted(report.unauthorized)
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
        passed=not skipped,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(skipped)} client(s) skipped: token refused (marked invalid; client_credentials renews it, "
            "then rerun the partition)"
            if skipped
            else "every active client was pulled"
        ),
        metadata={
            "clients_skipped": dg.MetadataValue.int(len(skipped)),
            "clients": dg.MetadataValue.text(", ".join(skipped[:50]) or "-"),
        },
    )


def run_pull(
    context,
    warehouse,
    confirma_api,
    token_vault,
    pull,
    table: str,
    model,
    *,
    extra_tables=(),
    all_clients_check: bool = True,
) -> dg.MaterializeResult:
    """Run one pull (`pull(client, vault) -> PullReport`) with a pooled API client and the token vault,
    and turn its report into the asset's MaterializeResult (and its all-clients-pulled check)."""
    entity = context.asset_key.to_user_string()
    with (
        operator_errors_fail_fast(),
        step_sync_run(context, warehouse, entity=entity, direction="pull") as run,
    ):
        vault = token_vault.get_vault()
        with confirma_api.get_client() as client:
            report = pull(client, vault)
            drift = drift_metadata(warehouse, client)
        run.outcome(*report.sync_outcome())
    checks = (
        [unauthorized_check_result(report, context.asset_key, ALL_CLIENTS_PULLED)]
        if all_clients_check
        else []
    )
    return dg.MaterializeResult(
        metadata={**pull_metadata(report, warehouse, table, model, extra_tables), **drift},
        check_results=checks,
    )


# --- the pulled-asset factory -----------------------------------------------------------------------------


def config_options(context: dg.AssetExecutionContext, config: dg.Config) -> dict:
    """The pull's own options are the run config's fields, but `creditor_ids` (it narrows the run context)."""
    return {name: value for name, value in config.model_dump().items() if name != "creditor_ids"}


@dataclass(frozen=True)
class PulledAsset:
    """What one pulled asset is made of. `pull` is a `PullSpec` (key, table and partitioning derive from it)
    or a bespoke pull of `pull/` given with its `key`, `target` and `partitioned`; either is called as
    `pull(ctx, [window,] **options, concurrency=n)`. `config` must have `creditor_ids` (a client backfill
    narrows the run to those clients); `description` is cleaned like a docstring."""

    group: str
    deps: tuple[str, ...]  # asset keys, also of other domains (never asset objects)
    config: type[dg.Config]
    description: str
    pull: Callable[..., PullReport]
    key: str | None = None
    target: PulledTable | None = None
    partitioned: bool | None = None  # daily partitions, a date range backfilled in one run with its window
    options: Callable[[dg.AssetExecutionContext, Any], dict] = config_options
    all_clients_check: bool = True  # the WARN check `all_clients_pulled`
    freshness: bool = True  # the nightly freshness policy of pulled data

    def resolved(self) -> "PulledAsset":
        """The record with what a spec says filled in (and its pull the engine's run of it)."""
        if not isinstance(self.pull, PullSpec):
            return self
        spec = self.pull
        return replace(
            self,
            pull=partial(engine.pull, spec),
            key=self.key or spec.entity,
            target=self.target or spec.target,
            partitioned=spec.windowed if self.partitioned is None else self.partitioned,
        )


def pulled_asset(pull: Callable[..., PullReport], **fields: Any) -> dg.AssetsDefinition:
    """The Dagster asset of a pulled table, with its definition metadata and its `all_clients_pulled` check,
    from the record `PulledAsset(pull, **fields)`."""
    record = PulledAsset(pull=pull, **fields).resolved()
    target = record.target

    def materialize(
        context: dg.AssetExecutionContext,
        config,
        warehouse: WarehouseResource,
        confirma_api: ConfirmaApiResource,
        token_vault: TokenVaultResource,
    ) -> dg.MaterializeResult:
        window = (partition_window(context),) if record.partitioned else ()
        options = record.options(context, config)

        def pull(client, vault) -> PullReport:
            ctx = RunContext(
                warehouse.dsn, client, vault, relations=warehouse.relations(),
                creditor_ids=config.creditor_ids, logger=context.log,
            )  # fmt: skip
            return record.pull(ctx, *window, **options, concurrency=confirma_api.concurrency)

        return run_pull(
            context, warehouse, confirma_api, token_vault, pull, target.table, target.model,
            extra_tables=target.also_written, all_clients_check=record.all_clients_check,
        )  # fmt: skip

    materialize.__annotations__["config"] = record.config  # Dagster reads the config class from here
    checks = (
        [dg.AssetCheckSpec(ALL_CLIENTS_PULLED, asset=record.key, description=ALL_CLIENTS_PULLED_DESCRIPTION)]
        if record.all_clients_check
        else []
    )
    daily = {"partitions_def": daily_partitions, "backfill_policy": single_run_backfill}
    return dg.asset(
        name=record.key,
        deps=[dg.AssetKey(d) for d in record.deps],
        description=inspect.cleandoc(record.description),
        group_name=record.group,
        owners=OWNERS,
        kinds={"api", "postgres"},
        pool=API_POOL,
        retry_policy=API_RETRY_POLICY,
        freshness_policy=PULLED_FRESHNESS if record.freshness else None,
        metadata=definition_metadata(target.table, target.model),
        check_specs=checks,
        **(daily if record.partitioned else {}),
    )(materialize)


# --- checks counting bad rows of a pulled table -----------------------------------------------------------


def failing_and_sample(finding: Finding) -> dict:
    return {"failing": dg.MetadataValue.int(finding.count), "sample": markdown_table(finding.sample)}


@dataclass(frozen=True)
class FindingCheck:
    """A check that passes when a query of warehouse/findings.py finds no row. `bad` may name `{count}`."""

    name: str
    asset: str
    find: Callable[[psycopg.Connection], Finding]
    description: str
    ok: str
    bad: str
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR
    blocking: bool = False
    metadata: Callable[[Finding], dict] = failing_and_sample


def finding_check(name: str, asset: str, find: Callable[[psycopg.Connection], Finding], **fields: Any):
    """The Dagster check of the record `FindingCheck(name, asset, find, **fields)` (callable directly with
    `warehouse=` in tests)."""
    check = FindingCheck(name, asset, find, **fields)

    @dg.asset_check(
        name=check.name, asset=check.asset, blocking=check.blocking, description=check.description
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as conn:
            finding = check.find(conn)
        return dg.AssetCheckResult(
            passed=finding.passed,
            severity=check.severity,
            description=check.ok if finding.passed else check.bad.format(count=finding.count),
            metadata=check.metadata(finding),
        )

    return _check
