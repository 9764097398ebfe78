"""Backfilling one historical client, free of Dagster (the `client_backfill` job and the CLI call it).

Two windows: the invoice window (`--from/--to`) chooses which invoices to push, by invoice date; the pull
window (`--from` to today, or `--pull-to`) is what distribution, payments and settlements are pulled for, so
payments of old invoices made after `--to` are not missed.

For one creditor, in order: onboard it (or use the token imported for it); with `adopt_existing`, pull its
distribution records and adopt every invoice Confirma already has (`backfill.adopt`); push its other
invoices of the invoice window exactly once, through the same ledger as the nightly run, with the
historical-invoice policy (`backfill.policy`) deciding about invoices whose due date passed; check its
token; pull its distribution, cases, payments and settlements for the pull window with one call per
endpoint. `preview_backfill` computes the same plan reading only (GETs and SELECTs) for `--dry-run`.

Each backfill run writes one row in the run log (confirma.sync_runs, entity `client_backfill`): the clerk's
numbers, the records of each pull, the API calls, and `failed` with its one line when it stops.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from confirma_pipeline.backfill import adopt
from confirma_pipeline.backfill.policy import REFUSE_REASON, HistoricalPolicy
from confirma_pipeline.errors import OperatorError
from confirma_pipeline.pull.window import Window
from confirma_pipeline.push.invoices import push_invoices
from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.warehouse import receivables, registry, submission_ledger
from confirma_pipeline.warehouse.connection import connect
from confirma_pipeline.warehouse.source import creditor_exists
from confirma_pipeline.warehouse.sync_runs import cli_run_id, sync_run

BACKFILL_JOB = "client_backfill"  # the Dagster job that runs backfill_client (the CLI runs that job too)


class BackfillRequestError(OperatorError):
    """The backfill request itself is wrong (unknown creditor, reversed range): refused before any run."""


def parse_window(date_from: str | dt.date, date_to: str | dt.date, today: dt.date | None = None) -> Window:
    try:
        start = dt.date.fromisoformat(str(date_from))
        end = dt.date.fromisoformat(str(date_to))
    except ValueError as exc:
        raise BackfillRequestError(f"dates must be YYYY-MM-DD: {exc}") from None
    if end < start:
        raise BackfillRequestError(f"the range is reversed: --from {start} is after --to {end}")
    today = today or dt.date.today()
    if start > today:
        raise BackfillRequestError(f"the range starts in the future ({start}); nothing to backfill yet")
    return Window(start, min(end, today))


def parse_pull_window(
    invoice_window: Window, pull_to: str | dt.date | None, today: dt.date | None = None
) -> Window:
    """The pull window: from the invoice window's start to today, or to `pull_to` (never past today)."""
    today = today or dt.date.today()
    end = today
    if pull_to is not None and str(pull_to).strip():
        try:
            end = min(dt.date.fromisoformat(str(pull_to)), today)
        except ValueError as exc:
            raise BackfillRequestError(f"--pull-to must be YYYY-MM-DD: {exc}") from None
        if end < invoice_window.start:
            raise BackfillRequestError(f"--pull-to {end} is before --from {invoice_window.start}")
    return Window(invoice_window.start, end)


def check_creditor(ctx: RunContext, creditor_id: str) -> None:
    relations = ctx.relations
    with ctx.connect(autocommit=True) as conn:
        found = creditor_exists(conn, relations.creditors, creditor_id)
        registered = registry.load_registry(conn, [creditor_id]).get(creditor_id)
    if not found and (registered is None or registered.state not in registry.DONE_STATES):
        raise BackfillRequestError(
            f"unknown creditor id {creditor_id!r}: it is neither in {relations.creditors} nor an imported client"
        )


@dataclass(frozen=True)
class BackfillRequest:
    """What the operator asked for (CLI flags or the `client_backfill` job's config)."""

    creditor_id: str
    invoice_window: Window
    pull_window: Window
    adopt_existing: bool = False
    policy: str = "refuse"
    historical_after_days: int | None = None

    def historical_policy(self, today: dt.date | None = None) -> HistoricalPolicy:
        return HistoricalPolicy(self.policy, today or dt.date.today(), self.historical_after_days)


@dataclass
class BackfillReport:
    creditor_id: str
    window: Window  # the invoice window
    pull_window: Window | None = None
    dry_run: bool = False
    steps: dict[str, dict] = field(default_factory=dict)
    orphans: str = ""  # distribution records with no source row (numbers, cut after a few dozen)
    policy: str = ""  # the historical policy as applied (rule and choice)
    per_day: list[tuple[str, int, int, int]] = field(
        default_factory=list
    )  # day, invoices, payments, settlements

    def outcome(self) -> dict[str, int]:
        """The clerk's four numbers: adopted, sent, refused by the policy, rejected by validation."""
        adopted = self.steps.get("adopt", {})
        invoices = self.steps.get("invoices", {})
        return {
            "adopted": adopted.get("adopted", 0),
            "sent": invoices.get("would_send" if self.dry_run else "pushed", 0),
            "refused_by_policy": invoices.get("refused_by_policy", 0),
            "rejected_by_validation": invoices.get("rejected_by_validation", 0),
        }

    def sync_outcome(self) -> tuple[dict[str, int], int, int]:
        """(counts, API calls, rows left for later) for the run log (warehouse/sync_runs.py): the clerk's four
        numbers, the invoices whose outcome is not final, and the records of each pull."""
        invoices = self.steps.get("invoices", {})
        counts = {
            **self.outcome(),
            "failed_retry_next_run": invoices.get("failed_retry_next_run", 0),
            "outcome_unknown": invoices.get("outcome_unknown", 0),
        }
        calls = self.steps.get("onboarding", {}).get("api_requests", 0) + invoices.get("api_requests", 0)
        for step, values in self.steps.items():
            if "records" in values:
                counts[f"{step}_records"] = values["records"]
                calls += values.get("calls", 0)
        left = counts["failed_retry_next_run"] + counts["outcome_unknown"]
        return counts, calls, 0 if self.dry_run else left

    def lines(self) -> list[str]:
        verb = "would be" if self.dry_run else "were"
        head = f"client {self.creditor_id}, invoices of {self.window}"
        if self.pull_window is not None:
            head += f", pulls of {self.pull_window}"
        out = [head + (" (dry run: nothing sent, nothing written)" if self.dry_run else "") + ":"]
        o = self.outcome()
        out.append(
            f"  invoices that {verb}: adopted {o['adopted']}, sent {o['sent']}, "
            f"refused by the historical policy {o['refused_by_policy']}, "
            f"rejected by validation {o['rejected_by_validation']}"
        )
        if self.policy:
            out.append(f"  {self.policy}")
        if self.orphans:
            n = self.steps.get("adopt", {}).get("orphan_distribution_records", 0)
            out.append(f"  at Confirma with no source row: {n} invoice number(s): {self.orphans}")
        out += [
            f"  {step}: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v)
            for step, counts in self.steps.items()
        ]
        return out


def _per_day(dsn, creditor_id: str, window: Window) -> list[tuple[str, int, int, int]]:
    with connect(dsn, autocommit=True) as conn:
        return receivables.activity_per_day(conn, creditor_id, window.start, window.end)


def _cases_to_fetch(conn, creditor_id: str, known_case_ids: set[int]) -> int:
    """How many case details the cases pull would ask for: every case id known (distribution records, from
    the table or from a preview's answer, and the ledger) whose case is not already fetched CLOSED."""
    wanted = receivables.case_ids_to_fetch(conn, [creditor_id])
    return len(wanted | (known_case_ids - receivables.closed_case_ids(conn, known_case_ids)))


def preview_backfill(
    ctx: RunContext, request: BackfillRequest, *, today: dt.date | None = None
) -> BackfillReport:
    """`backfill client --dry-run`: what a real run would adopt, send, refuse and reject, and how many API
    calls it would make. Reads only: SELECTs, and one distribution GET when adopting (nothing is written,
    so what Confirma has is looked at in memory)."""
    from collections import Counter

    from confirma_pipeline.push.validation_steps import prepare_invoices, refuse_reused_numbers
    from confirma_pipeline.warehouse.client_tokens import load_tokens
    from confirma_pipeline.warehouse.source import iter_invoices, read_creditors

    cid, window = request.creditor_id, request.invoice_window
    client, relations, settings = ctx.client, ctx.relations, ctx.settings
    report = BackfillReport(cid, window, request.pull_window, dry_run=True)
    policy = request.historical_policy(today)
    releasing = request.policy == "as-is"  # see adopt.release_refused
    calls: Counter = Counter()
    with ctx.connect(autocommit=True) as conn:
        registered = registry.load_registry(conn, [cid]).get(cid)
        onboarded = registered is not None and registered.state in registry.DONE_STATES
        token = load_tokens(conn, ctx.vault, [cid]).get(cid) if onboarded else None
        calls["onboarding"] = 0 if onboarded else 1
        known: dict[int, adopt.AtConfirma] = {}
        if request.adopt_existing and token is not None:
            answer = client.get_distribution(token, window.start, window.end)
            known = adopt.known_from_records(answer.distributions)
        plan = adopt.plan_adoption(conn, relations.invoices, cid, window, known)
        report.steps["adopt"] = plan.counts()
        report.orphans = plan.orphans_text()

        creditors_df = read_creditors(conn, relations.creditors, creditor_ids=[cid])
        exclude = submission_ledger.done_or_these_sql(settings.max_attempts, [i for i, _ in plan.adopt])
        invoices: Counter = Counter()
        for invoices_df, rows_df in iter_invoices(
            conn,
            relations.invoices,
            relations.invoice_rows,
            [cid],
            exclude,
            settings.chunk_size,
            window.start,
            window.end,
        ):
            prepared = refuse_reused_numbers(
                conn, prepare_invoices(conn, invoices_df, rows_df, creditors_df, relations)
            )
            invoices["rejected_by_validation"] += len(prepared.rejections)
            sendable, held = policy.screen(prepared)
            invoices["refused_by_policy"] += len(held)
            # a real run leaves alone what the ledger holds refused with this very payload (by the API,
            # or by the policy unless this run's policy releases them)
            kept = submission_ledger.refused_with_same_payload(
                conn, sendable.entries, REFUSE_REASON if releasing else None
            )
            invoices["not_resent_refused_earlier"] += kept
            invoices["would_send"] += len(sendable.entries) - kept
        invoices.update({k: v for k, v in policy.counts().items() if k != "refused_by_policy"})
        report.steps["invoices"] = dict(invoices)
        case_ids = {a.case_id for a in known.values() if a.case_id is not None}
        calls.update(
            invoice_posts=invoices["would_send"],
            client_credentials=1,
            distribution=1 + (1 if request.adopt_existing else 0),
            cases=_cases_to_fetch(conn, cid, case_ids),
            payments=1,
            settlements=1,
        )
    calls["total"] = sum(calls.values())
    report.steps["api_calls"] = dict(calls)
    report.policy = policy.describe()
    return report


def backfill_client(
    ctx: RunContext, request: BackfillRequest, *, today: dt.date | None = None
) -> BackfillReport:
    """Every step for the request's client, in order (see the module docstring), as one row of the run log."""
    window = request.invoice_window
    with sync_run(
        ctx.dsn, run_id=ctx.run_id or cli_run_id(), job=BACKFILL_JOB, entity="client_backfill",
        direction="push", window=(window.start, window.end),
    ) as run:  # fmt: skip
        report = _backfill_steps(ctx, request, today)
        run.outcome(*report.sync_outcome())
    return report


def _backfill_steps(ctx: RunContext, request: BackfillRequest, today: dt.date | None) -> BackfillReport:
    """The steps of `backfill_client`; `ctx` is narrowed to the request's client."""
    from confirma_pipeline.pull.cases import pull_cases
    from confirma_pipeline.pull.client_tokens import refresh_client_tokens
    from confirma_pipeline.pull.distribution import pull_distribution
    from confirma_pipeline.pull.payments import pull_payments
    from confirma_pipeline.pull.settlements import pull_settlements

    creditor_id, window, pulls = request.creditor_id, request.invoice_window, request.pull_window
    ctx = ctx.for_clients([creditor_id])
    dsn, relations, run_id, logger = ctx.dsn, ctx.relations, ctx.run_id, ctx.logger
    ids = [creditor_id]
    report = BackfillReport(creditor_id, window, pulls)
    policy = request.historical_policy(today)
    logger.info(f"backfill of client {creditor_id}, invoices of {window}, pulls of {pulls}: onboarding")
    onboarded = onboard_clients(ctx)
    report.steps["onboarding"] = onboarded.totals()
    logger.info(f"client {creditor_id}: {onboarded.summary_line()}")
    with ctx.connect(autocommit=True) as conn:
        registered = registry.load_registry(conn, ids).get(creditor_id)
    if registered is None or registered.state not in registry.DONE_STATES:
        raise OperatorError(
            f"client {creditor_id} is not onboarded (state {registered.state if registered else 'none'}); "
            "see confirma.rejected_rows or `confirma-pipeline clients list`"
        )

    def pull(name: str, run) -> None:
        result = run()
        report.steps[name] = {"records": result.records, "calls": result.calls, **dict(result.extra)}
        logger.info(f"client {creditor_id}: {name}: {result.records} record(s) in {result.calls} call(s)")
        if result.unauthorized or result.invalid:
            raise OperatorError(
                f"client {creditor_id}: {name} could not be pulled: "
                f"{result.invalid.get(creditor_id) or 'token refused (401)'}"
            )

    if request.adopt_existing:
        # What Confirma has must be known before anything is sent: an invoice adopted is never POSTed.
        pull("distribution_before_adopting", lambda: pull_distribution(ctx, pulls))
        with ctx.connect(autocommit=True) as conn:
            known = adopt.known_from_table(conn, creditor_id, window)
            plan = adopt.plan_adoption(conn, relations.invoices, creditor_id, window, known)
            adopt.apply_adoption(
                conn, relations.invoices, relations.invoice_rows, creditor_id, plan, known, run_id
            )
        report.steps["adopt"] = plan.counts()
        report.orphans = plan.orphans_text()
        logger.info(
            f"client {creditor_id}: adopted {len(plan.adopt)} invoice(s) already at Confirma (no POST)"
            + (
                f"; {len(plan.orphans)} at Confirma with no source row: {report.orphans}"
                if plan.orphans
                else ""
            )
        )
    if request.policy == "as-is":
        with ctx.connect(autocommit=True) as conn:
            released = adopt.release_refused(conn, relations.invoices, creditor_id, window, REFUSE_REASON)
        if released:
            logger.info(
                f"client {creditor_id}: {released} invoice(s) refused earlier now go by '{request.policy}'"
            )
    pushed = push_invoices(ctx, date_from=window.start, date_to=window.end, screen=policy.screen)
    report.steps["invoices"] = {**pushed.totals(), **policy.counts()}
    report.policy = policy.describe()
    logger.info(f"client {creditor_id}: {pushed.summary_line()}; {policy.describe()}: {policy.counts()}")
    pull("credentials", lambda: refresh_client_tokens(ctx))
    pull("distribution", lambda: pull_distribution(ctx, pulls))
    pull("cases", lambda: pull_cases(ctx))
    pull("payments", lambda: pull_payments(ctx, pulls))
    pull("settlements", lambda: pull_settlements(ctx, pulls, "range"))
    report.per_day = _per_day(dsn, creditor_id, pulls)
    for day, invoices, payments, settlements in report.per_day:
        if invoices or payments or settlements:
            logger.info(
                f"client {creditor_id} {day}: {invoices} invoice(s), {payments} payment(s), "
                f"{settlements} settlement(s)"
            )
    return report
