"""Alerts for Dagster OSS: a run-failure sensor and an asset-check sensor posting through `NotifierResource`.
(Freshness: PULLED_FRESHNESS in policies.py, on every pulled asset; Dagster+ alerts: alert_policies.yaml.)

Both sensors are RUNNING by default (they never start runs, so they are harmless on a laptop): with no
CONFIRMA_ALERT_WEBHOOK_URL they log on every alert that alerts are off. One message per event: the run
failure sensor sees each failed run once (Dagster's run-status cursor), the check sensor reads each check
evaluation once (its cursor is the event log's storage id) and sends one message per failing check per run.
Which checks alert: every failed ERROR check; a failed WARN `*_rejected_this_run` check only when the run
rejected more than CONFIRMA_ALERT_REJECTED_SHARE of the rows it handled (default 5 %).
"""

from __future__ import annotations

import dagster as dg

from confirma_pipeline.alert_webhook import Alert, deliver, payload
from confirma_pipeline.defs.resources import _env_or_none

REJECTED_SUFFIX = "_rejected_this_run"
# The rows a push run handled (PushReport.totals keys in the materialization metadata).
_HANDLED_KEYS = (
    "pushed",
    "recovered_without_resend",
    "rejected_by_validation",
    "rejected_by_api",
    "failed_retry_next_run",
    "outcome_unknown",
)
_BATCH = 1000


def _first_line(text: str | None) -> str:
    return ((text or "").strip().splitlines() or [""])[0][:300]


class NotifierResource(dg.ConfigurableResource):
    """Posts alerts to a chat webhook. Unset `webhook_url`: alerts are off and only logged."""

    webhook_url: str | None = (
        None  # EnvVar("CONFIRMA_ALERT_WEBHOOK_URL"): a secret (Slack's URL is the token)
    )
    ui_base_url: str | None = None  # EnvVar("CONFIRMA_UI_BASE_URL"): run links
    payload_format: str | None = None  # slack | teams | json (default: CONFIRMA_ALERT_FORMAT, else slack)
    rejected_share: float | None = None  # default: CONFIRMA_ALERT_REJECTED_SHARE, else 0.05
    max_attempts: int = 3
    backoff_s: float = 1.0

    def __repr__(self) -> str:
        return f"NotifierResource(webhook={'<set>' if self.webhook_url else '<off>'})"

    @property
    def enabled(self) -> bool:
        return bool(self.webhook_url)

    def share_threshold(self) -> float:
        from confirma_pipeline import settings

        if self.rejected_share is not None:
            return settings.parse("CONFIRMA_ALERT_REJECTED_SHARE", str(self.rejected_share))
        return settings.get("CONFIRMA_ALERT_REJECTED_SHARE")

    def run_link(self, run_id: str) -> str | None:
        from confirma_pipeline import settings

        base = settings.parse("CONFIRMA_UI_BASE_URL", self.ui_base_url)
        return f"{base}/runs/{run_id}" if base else None

    def notify(self, alert: Alert, log) -> bool:
        from confirma_pipeline import settings

        if not self.enabled:
            log.info(f"alerts are off (CONFIRMA_ALERT_WEBHOOK_URL is not set); not sent: {alert.text()}")
            return False
        url = settings.parse("CONFIRMA_ALERT_WEBHOOK_URL", self.webhook_url)
        fmt = settings.parse("CONFIRMA_ALERT_FORMAT", self.payload_format)
        delivered, what = deliver(
            url, payload(alert, fmt), attempts=self.max_attempts, backoff_s=self.backoff_s
        )
        (log.info if delivered else log.warning)(f"alert '{alert.text().splitlines()[0]}': {what}")
        return delivered


def _partition_text(tags: dict) -> str | None:
    start, end = (
        tags.get("dagster/asset_partition_range_start"),
        tags.get("dagster/asset_partition_range_end"),
    )
    if start and end:
        return f"{start}..{end}" if start != end else start
    return tags.get("dagster/partition")


@dg.run_failure_sensor(
    name="confirma_run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts one alert per failed run of this code location: job, partitions, failed steps, run link.",
)
def run_failure_alert(context: dg.RunFailureSensorContext, notifier: NotifierResource) -> None:
    run = context.dagster_run
    lines = []
    for event in context.get_step_failure_events():
        error = event.event_specific_data.error if event.event_specific_data else None
        lines.append(
            f"failed step: {event.step_key}: {_first_line(error.message if error else event.message)}"
        )
    if not lines:  # failed before any step (e.g. a resource's settings): the run's own failure message
        lines.append(f"failed before any step: {_first_line(context.failure_event.message)}")
    partitions = _partition_text(run.tags)
    if partitions:
        lines.insert(0, f"partitions: {partitions}")
    alert = Alert(
        severity="error",
        title=f"Confirma pipeline: job {run.job_name} failed (run {run.run_id[:8]})",
        lines=tuple(lines),
        link=notifier.run_link(run.run_id),
        facts={"job": run.job_name, "run_id": run.run_id, "failed_steps": len(lines)},
    )
    notifier.notify(alert, context.log)


def _rows_handled(instance: dg.DagsterInstance, run_id: str, asset_key: dg.AssetKey) -> int | None:
    """Rows the run's materialization of `asset_key` handled (from its push metadata), if known."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    for record in records:
        materialization = record.event_log_entry.asset_materialization
        if materialization and materialization.asset_key == asset_key:
            metadata = materialization.metadata
            values = [metadata[k].value for k in _HANDLED_KEYS if k in metadata]
            return int(sum(values)) if values else None
    return None


def check_alert(
    instance: dg.DagsterInstance, run_id: str, evaluation, notifier: NotifierResource
) -> Alert | None:
    """The alert for one failed check evaluation, or None when it does not warrant one."""
    if evaluation.passed:
        return None
    check = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
    metadata = {k: v.value for k, v in (evaluation.metadata or {}).items()}
    counts = {k: v for k, v in metadata.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    if evaluation.severity != dg.AssetCheckSeverity.ERROR:
        if not evaluation.check_name.endswith(REJECTED_SUFFIX):
            return None
        rejected = int(metadata.get("rejected_this_run", 0))
        handled = _rows_handled(instance, run_id, evaluation.asset_key)
        share = rejected / max(handled or 0, rejected, 1)
        threshold = notifier.share_threshold()
        if share <= threshold:
            return None
        counts["share_rejected"] = round(share, 4)
        lines = (
            f"{rejected} of {handled if handled is not None else '?'} rows rejected ({share:.1%} > {threshold:.1%})",
        )
    else:
        lines = tuple(f"{k}: {v}" for k, v in counts.items())
    return Alert(
        severity="error" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warning",
        title=f"Confirma pipeline: check {check} failed ({evaluation.severity.value}, run {run_id[:8]})",
        lines=lines,
        link=notifier.run_link(run_id),
        facts={"check": check, "run_id": run_id, **counts},
    )


@dg.sensor(
    name="confirma_check_alerts",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Posts one alert per failed ERROR check per run, and per WARN *_rejected_this_run check above the "
        "configured share of the run's rows."
    ),
)
def check_alerts(context: dg.SensorEvaluationContext, notifier: NotifierResource) -> dg.SkipReason:
    instance = context.instance
    if context.cursor is None:  # first tick: start from now, never alert on history
        latest = instance.event_log_storage.get_event_records(
            dg.EventRecordsFilter(dg.DagsterEventType.ASSET_CHECK_EVALUATION), limit=1, ascending=False
        )
        context.update_cursor(str(latest[0].storage_id if latest else 0))
        return dg.SkipReason("started; alerting on check evaluations from now on")
    records = instance.event_log_storage.get_event_records(
        dg.EventRecordsFilter(dg.DagsterEventType.ASSET_CHECK_EVALUATION, after_cursor=int(context.cursor)),
        limit=_BATCH,
        ascending=True,
    )
    sent: set[tuple[str, str]] = set()
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        run_id = record.event_log_entry.run_id
        key = (run_id, f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
        if key not in sent and (alert := check_alert(instance, run_id, evaluation, notifier)):
            notifier.notify(alert, context.log)
            sent.add(key)
    if records:
        context.update_cursor(str(records[-1].storage_id))
    return dg.SkipReason(f"{len(records)} check evaluation(s) read, {len(sent)} alert(s)")


@dg.definitions
def alerting() -> dg.Definitions:
    return dg.Definitions(
        sensors=[run_failure_alert, check_alerts],
        resources={
            "notifier": NotifierResource(
                webhook_url=_env_or_none("CONFIRMA_ALERT_WEBHOOK_URL"),
                ui_base_url=_env_or_none("CONFIRMA_UI_BASE_URL"),
            )
        },
    )
