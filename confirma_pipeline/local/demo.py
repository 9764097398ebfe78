"""`confirma-pipeline demo` (`make demo`): the whole story on a laptop with no credentials.

Starts the embedded warehouse and the sandbox, seeds a realistic sample (some rows deliberately
invalid, one client onboarded "by hand" whose token is imported), runs `nightly_sync` through
Dagster with the multiprocess executor on a Postgres-backed instance, advances the sandbox's
simulated time, runs it again, and prints what happened. A second demo continues the same
simulated calendar and sends nothing twice.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

HAND_ONBOARDED_CREDITOR = "CRED-0002"
ADVANCE_DAYS = 30
SAMPLE_SPAN_DAYS = 20  # invoices are dated in the 20 days before the sandbox calendar starts
HELSINKI = "Europe/Helsinki"
DEMO_ACCOUNTING_CREDITORS = 3  # creditors with sample ledger vouchers and accounting payments
# The counts the demo shows per sync_runs row (the table keeps them all).
_RUN_LOG_COUNTS = (
    "pushed",
    "failed_retry_next_run",
    "outcome_unknown",
    "rejected_by_validation",
    "rejected_by_api",
    "records_received",
    "clients_failed",
)


@dataclass
class DemoSummary:
    runs: list[dict] = field(default_factory=list)
    clients: dict[str, int] = field(default_factory=dict)
    invoices: dict[str, int] = field(default_factory=dict)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)
    row_status: list[tuple[str, str, int]] = field(default_factory=list)  # (entity, state, count)
    not_sent: list[tuple[str, str, str, str]] = field(default_factory=list)  # (entity, key, state, reason)
    payments: tuple[int, float] = (0, 0.0)
    settlements: tuple[int, float, int] = (0, 0.0, 0)
    journal_creates: dict[str, int] = field(default_factory=dict)
    duplicate_creates: int = 0
    accounting: list[tuple] = field(default_factory=list)  # (kind, state, sync, count)
    duplicate_accounting_sends: int = 0
    actions: list[tuple] = field(default_factory=list)  # demo invoice actions and their cases' new state
    sync_runs: list[tuple] = field(default_factory=list)
    seconds: float = 0.0
    backfill: list[str] = field(default_factory=list)  # the hand-onboarded client's backfill outcome


def nightly_sync_job():
    """Module-level, so the multiprocess executor can reconstruct the job in its workers."""
    from confirma_pipeline.definitions import defs

    return defs().resolve_job_def("nightly_sync")


def _yesterday_helsinki() -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(HELSINKI)).date() - dt.timedelta(days=1)


def _import_hand_onboarded(env, out, invoices_at_confirma: int) -> None:
    """Simulate a client Confirma onboarded by hand: it exists at Confirma, its token came in a
    PDF, the operator imports it (`confirma-pipeline tokens import`), and another system already
    sent some of its invoices."""
    from confirma_pipeline import settings
    from confirma_pipeline.local.hand_onboarding import onboard_by_hand

    with settings.api_client(require_provisioning=True) as client:
        done = onboard_by_hand(
            HAND_ONBOARDED_CREDITOR,
            client,
            invoices_at_confirma=invoices_at_confirma,
            partner_code=settings.partner_code(),
        )
    if done is not None:
        out(
            f"hand-onboarded client: {HAND_ONBOARDED_CREDITOR} created at Confirma by hand, token imported, "
            f"{len(done.sent_by_hand)} of its invoices already sent by another system"
        )


def _backfill_hand_onboarded(instance, first_day: dt.date, last_day: dt.date, out) -> list[str]:
    """`backfill client --adopt-existing` of the hand-onboarded client, before any nightly run could send
    its invoices: what Confirma has is adopted, past-due invoices are refused (the default policy)."""
    from confirma_pipeline.cli.backfill import outcome_lines
    from confirma_pipeline.definitions import defs

    config = {
        "creditor_id": HAND_ONBOARDED_CREDITOR,
        "date_from": first_day.isoformat(),
        "date_to": last_day.isoformat(),
        "adopt_existing": True,
    }
    result = (
        defs()
        .resolve_job_def("client_backfill")
        .execute_in_process(
            run_config={"ops": {"backfill_one_client": {"config": config}}},
            instance=instance,
            tags={"confirma/creditor_id": HAND_ONBOARDED_CREDITOR, "confirma/source": "demo"},
            raise_on_error=False,
        )
    )
    lines = outcome_lines(result) or ["FAILED"]
    out(f"client_backfill {HAND_ONBOARDED_CREDITOR} --adopt-existing: " + "; ".join(lines))
    return lines


def _run_nightly(instance, date_from: dt.date, date_to: dt.date, in_process: bool):
    import dagster as dg

    tags = {
        "dagster/asset_partition_range_start": date_from.isoformat(),
        "dagster/asset_partition_range_end": date_to.isoformat(),
        "confirma/source": "demo",
    }
    if in_process:
        return nightly_sync_job().execute_in_process(instance=instance, tags=tags, raise_on_error=False)
    return dg.execute_job(
        dg.reconstructable(nightly_sync_job), instance=instance, tags=tags, raise_on_error=False
    )


def _check_results(result) -> list[tuple[str, str, bool, str]]:
    import dagster as dg

    out = []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            ev = event.event_specific_data
            out.append((ev.asset_key.to_user_string(), ev.check_name, ev.passed, ev.severity.value))
    return out


def _collect(summary: DemoSummary, control) -> None:
    from confirma_pipeline.warehouse.connection import connect
    from confirma_pipeline.warehouse.overview import overview

    with connect() as conn:
        seen = overview(conn, [run["run_id"] for run in summary.runs])
    summary.clients, summary.invoices, summary.rejected = seen.clients, seen.invoices, seen.rejected
    summary.row_status, summary.not_sent, summary.sync_runs = seen.row_status, seen.not_sent, seen.sync_runs
    summary.payments, summary.settlements = seen.payments, seen.settlements
    creates: dict[tuple[str, str], int] = {}
    kinds: dict[str, int] = {}
    for entry in control.journal():
        kind = entry.get("kind", "?")
        kinds[kind] = kinds.get(kind, 0) + 1
        key = (str(entry.get("clientIdentifier")), str(entry.get("invoiceNumber")))
        if kind == "invoice":
            creates[key] = creates.get(key, 0) + 1
    summary.journal_creates = kinds
    summary.duplicate_creates = sum(n - 1 for n in creates.values() if n > 1)
    from confirma_pipeline.local.sample_accounting import duplicate_sends
    from confirma_pipeline.warehouse.accounting_submissions import status_summary

    with connect() as conn:
        summary.accounting = status_summary(conn)
    summary.duplicate_accounting_sends = duplicate_sends(control.journal())


def _seed_accounting(control, day: dt.date) -> str:
    """A few vouchers and accounting payments of the first creditors; the simulated accounting systems
    sync them two days after they are queued and refuse a quarter of them."""
    from confirma_pipeline.local.sample_accounting import seed_demo_accounting
    from confirma_pipeline.warehouse.connection import connect

    control.set_accounting(failure_rate=0.25, sync_delay_days=2)
    with connect() as conn:
        return seed_demo_accounting(conn, day, DEMO_ACCOUNTING_CREDITORS)


def run_demo_story(
    base: Path | None = None,
    *,
    n_creditors: int = 30,
    invoices_per_creditor: int = 10,
    invalid_invoices_per_kind: int = 2,
    in_process: bool = False,
    stop_warehouse: bool = True,
    out=print,
) -> DemoSummary:
    """The demo's driver (also run in-process by a test on a small sample)."""
    import dagster as dg

    from confirma_pipeline.local import demo_actions
    from confirma_pipeline.local.environment import LocalEnvironment
    from confirma_pipeline.local.instance import apply_pool_limits
    from confirma_pipeline.local.sample_data import build_sample, seed_warehouse
    from confirma_pipeline.sandbox.control_client import SandboxControl
    from confirma_pipeline.warehouse.connection import connect

    started = time.monotonic()
    summary = DemoSummary()
    with LocalEnvironment(base, stop_warehouse=stop_warehouse, quiet=False) as env:
        control = SandboxControl(env.sandbox_url)
        sample = build_sample(
            n_creditors,
            invoices_per_creditor,
            start=env.settings.sandbox_start - dt.timedelta(days=SAMPLE_SPAN_DAYS),
            days=SAMPLE_SPAN_DAYS,
            invalid_invoices_per_kind=invalid_invoices_per_kind,
            partner_code="",  # the partner code comes from CONFIRMA_PARTNER_CODE, as in production
        )
        with connect() as conn:
            counts = seed_warehouse(conn, sample)
        out(
            f"sample: {len(sample.creditors)} creditors, {len(sample.invoices)} invoices, "
            f"{len(sample.invoice_rows)} rows ({len(sample.invalid)} planted faults); "
            f"{sum(counts.values())} new rows seeded"
        )
        out(_seed_accounting(control, env.settings.sandbox_start))
        _import_hand_onboarded(env, out, invoices_at_confirma=invoices_per_creditor // 2)
        with dg.DagsterInstance.get() as instance:
            apply_pool_limits(instance)
            first_day = env.settings.sandbox_start - dt.timedelta(days=SAMPLE_SPAN_DAYS)
            summary.backfill = _backfill_hand_onboarded(instance, first_day, env.settings.sandbox_start, out)
            for label in ("first night", "after the sandbox's calendar moved on"):
                if summary.runs:
                    control.advance(ADVANCE_DAYS)
                    out(f"sandbox: advanced {ADVANCE_DAYS} days (now {control.state().get('today')})")
                    demo_actions.plant_actions(out)
                sandbox_today = dt.date.fromisoformat(control.state()["today"])
                last_day = min(sandbox_today - dt.timedelta(days=1), _yesterday_helsinki())
                out(f"nightly_sync ({label}): partitions {first_day} .. {last_day} in one run ...")
                t0 = time.monotonic()
                result = _run_nightly(instance, first_day, last_day, in_process)
                checks = _check_results(result)
                summary.runs.append(
                    {
                        "label": label,
                        "run_id": result.run_id,
                        "success": result.success,
                        "seconds": round(time.monotonic() - t0, 1),
                        "checks": checks,
                    }
                )
                passed = sum(1 for c in checks if c[2])
                out(
                    f"  run {result.run_id[:8]}: {'succeeded' if result.success else 'FAILED'} in "
                    f"{summary.runs[-1]['seconds']} s; checks passed {passed}, failed {len(checks) - passed}"
                )
        demo_actions.settle_day_and_pull_cases(control, out)
        summary.actions = demo_actions.action_case_states()
        _collect(summary, control)
        summary.seconds = time.monotonic() - started
        _print_report(summary, env, out)
    return summary


def _print_report(summary: DemoSummary, env, out) -> None:
    out("\n=== confirma-pipeline demo report ===")
    out("clients: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.clients.items())))
    out("invoices: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.invoices.items())))
    out(
        f"backfill of {HAND_ONBOARDED_CREDITOR} (hand-onboarded, --adopt-existing): "
        + "; ".join(summary.backfill)
    )
    out(f"rows rejected (open): {len(summary.rejected)}")
    for entity, key, reason in summary.rejected[:20]:
        out(f"  {entity} {key}: {reason}")
    out("row_status (why a row was not sent): " + ", ".join(f"{e} {s} {n}" for e, s, n in summary.row_status))
    for entity, key, state, reason in summary.not_sent:
        out(f"  {state}: {entity} {key}: {reason}")
    out("  (one row: confirma-pipeline status --invoice-id ID | --creditor-id ID)")
    n, total = summary.payments
    out(f"payments written: {n} (sum {total:.2f} EUR)")
    n, total, allocations = summary.settlements
    out(f"settlements written: {n} with {allocations} allocations (sum {total:.2f} EUR)")
    out(
        f"sandbox journal of accepted creates: {summary.journal_creates}; duplicate invoice sends: "
        f"{summary.duplicate_creates}"
    )
    out("accounting add-on (vouchers and payments; sync status after the calendar moved on):")
    for kind, state, sync, count in summary.accounting:
        out(
            f"  {'vouchers' if kind == 'ledger' else 'payments'} {state}"
            + (f", sync {sync}" if sync != "-" else "")
            + f": {count}"
        )
    out(f"  duplicate accounting sends: {summary.duplicate_accounting_sends}")
    for action_id, code, state, number, status, stage, balance in summary.actions:
        out(
            f"invoice action {action_id}: {code} {state}; invoice {number} case now {status}/{stage}, open {balance}"
        )
    for run in summary.runs:
        failed = [f"{a}:{c} ({sev})" for a, c, ok, sev in run["checks"] if not ok]
        out(
            f"checks in '{run['label']}': {len(run['checks']) - len(failed)} passed"
            + (f", failed: {', '.join(failed)}" if failed else "")
        )
    labels = {run["run_id"]: run["label"] for run in summary.runs}
    out("run log (confirma.sync_runs) of the demo's nights:")
    for run_id, direction, entity, status, counts, calls, seconds in summary.sync_runs:
        main = {k: v for k, v in counts.items() if v and k in _RUN_LOG_COUNTS}
        out(
            f"  {labels.get(run_id, run_id)[:24]:<24} {direction:<4} {entity:<20} {status:<9} "
            f"{', '.join(f'{k} {v}' for k, v in main.items()) or '-'}; {calls} API calls, {seconds:.1f} s"
        )
    from confirma_pipeline.alert_webhook import describe_destination

    out(f"alerts: {describe_destination()}")
    out(
        f"data: warehouse tables confirma.* and confirma_source.* ({env.base}); "
        f'psql: `psql "$(.venv/bin/confirma-pipeline warehouse uri)"`'
    )
    out(f"Dagster instance: {env.dagster_home}; open the UI on it with `make ui`")
    out(f"demo took {summary.seconds:.0f} s")


def _demo(args: argparse.Namespace) -> int:
    summary = run_demo_story(n_creditors=args.creditors, invoices_per_creditor=args.invoices_per_creditor)
    ok = all(run["success"] for run in summary.runs) and summary.duplicate_creates == 0
    ok = ok and summary.duplicate_accounting_sends == 0
    return 0 if ok else 3  # ExitCode.PARTIAL: a run failed or something was sent twice


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the end-to-end demo on the local sandbox")
    parser.add_argument("--creditors", type=int, default=30)
    parser.add_argument("--invoices-per-creditor", type=int, default=10)
    parser.set_defaults(func=_demo)
