"""Materialization metadata shared by the pulled assets (payments, settlements, distribution, cases,
credentials, Finvoice addresses): table, column schema, row count, window, calls made and per-run counts."""

from __future__ import annotations

import dagster as dg

from confirma_pipeline.defs.contract_drift import drift_metadata
from confirma_pipeline.defs.lib.metadata import count_rows, markdown_table, table_metadata
from confirma_pipeline.defs.lib.policies import operator_errors_fail_fast
from confirma_pipeline.defs.lib.run_log import step_sync_run

# Name of the WARN check every pulled asset carries: clients skipped because their token was refused.
ALL_CLIENTS_PULLED = "all_clients_pulled"


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
