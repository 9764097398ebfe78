"""Backfilling one historical client, free of Dagster (the `client_backfill` job and the CLI call it).

For one creditor and a date range, in order: onboard it (or use the token imported for it),
push all its invoices dated in the range (exactly once, through the same ledger as the nightly
run), check its token, then pull its distribution, cases, payments and settlements for the
range with one call per endpoint. Progress is logged per client and per day.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from psycopg import sql

from confirma_pipeline.errors import OperatorError
from confirma_pipeline.pull.window import Window
from confirma_pipeline.push.invoices import Relations, push_invoices
from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.push.settings import PushSettings
from confirma_pipeline.warehouse import registry
from confirma_pipeline.warehouse.connection import connect
from confirma_pipeline.warehouse.source import relation_identifier

log = logging.getLogger("confirma_pipeline.backfill")


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


def check_creditor(dsn: str | None, creditor_id: str, relations: Relations = Relations()) -> None:
    relation = relation_identifier(relations.creditors)
    with connect(dsn, autocommit=True) as conn:
        found = conn.execute(
            sql.SQL("SELECT 1 FROM {} WHERE creditor_id = %s").format(relation), (creditor_id,)
        ).fetchone()
        imported = conn.execute(
            "SELECT 1 FROM confirma.clients WHERE creditor_id = %s AND state IN ('created', 'imported')",
            (creditor_id,),
        ).fetchone()
    if not found and not imported:
        raise BackfillRequestError(
            f"unknown creditor id {creditor_id!r}: it is neither in {relations.creditors} nor an imported client"
        )


@dataclass
class BackfillReport:
    creditor_id: str
    window: Window
    steps: dict[str, dict] = field(default_factory=dict)
    per_day: list[tuple[str, int, int, int]] = field(
        default_factory=list
    )  # day, invoices, payments, settlements

    def lines(self) -> list[str]:
        out = [f"client {self.creditor_id}, {self.window}:"]
        out += [
            f"  {step}: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v)
            for step, counts in self.steps.items()
        ]
        return out


def _per_day(dsn, creditor_id: str, window: Window) -> list[tuple[str, int, int, int]]:
    with connect(dsn, autocommit=True) as conn:
        return [
            (day.isoformat(), inv, pay, sett)
            for day, inv, pay, sett in conn.execute(
                """
                SELECT d::date,
                       (SELECT count(*) FROM confirma.invoice_ledger l JOIN confirma.distribution x
                          ON x.creditor_id = l.creditor_id AND x.invoice_number = l.invoice_number
                        WHERE l.creditor_id = %(c)s AND x.invoice_date = d::date),
                       (SELECT count(*) FROM confirma.payments p WHERE p.creditor_id = %(c)s AND p.payment_day = d::date),
                       (SELECT count(*) FROM confirma.settlements s
                        WHERE s.creditor_id = %(c)s AND s.settlement_date = d::date)
                FROM generate_series(%(a)s::date, %(b)s::date, interval '1 day') AS d
                """,
                {"c": creditor_id, "a": window.start, "b": window.end},
            ).fetchall()
        ]


def backfill_client(
    *,
    dsn: str | None,
    client,
    vault,
    creditor_id: str,
    window: Window,
    relations: Relations = Relations(),
    settings: PushSettings = PushSettings(),
    run_id: str | None = None,
    logger=None,
) -> BackfillReport:
    from confirma_pipeline.pull.cases import pull_cases
    from confirma_pipeline.pull.credentials import refresh_credentials
    from confirma_pipeline.pull.distribution import pull_distribution
    from confirma_pipeline.pull.payments import pull_payments
    from confirma_pipeline.pull.settlements import pull_settlements

    logger = logger or log
    ids = [creditor_id]
    report = BackfillReport(creditor_id, window)
    logger.info(f"backfill of client {creditor_id} for {window}: onboarding")
    onboarded = onboard_clients(
        dsn=dsn,
        client=client,
        vault=vault,
        relations=relations,
        settings=settings,
        run_id=run_id,
        creditor_ids=ids,
        logger=logger,
    )
    report.steps["onboarding"] = onboarded.totals()
    logger.info(f"client {creditor_id}: {onboarded.summary_line()}")
    with connect(dsn, autocommit=True) as conn:
        registered = registry.load_registry(conn, ids).get(creditor_id)
    if registered is None or registered.state not in registry.DONE_STATES:
        raise OperatorError(
            f"client {creditor_id} is not onboarded (state {registered.state if registered else 'none'}); "
            "see confirma.rejected_rows or `confirma-pipeline clients list`"
        )
    pushed = push_invoices(
        dsn=dsn,
        client=client,
        vault=vault,
        relations=relations,
        settings=settings,
        run_id=run_id,
        creditor_ids=ids,
        date_from=window.start,
        date_to=window.end,
        logger=logger,
    )
    report.steps["invoices"] = pushed.totals()
    logger.info(f"client {creditor_id}: {pushed.summary_line()}")
    for name, pull in (
        ("credentials", lambda: refresh_credentials(dsn, client, vault, ids, logger)),
        ("distribution", lambda: pull_distribution(dsn, client, vault, window, ids, logger)),
        ("cases", lambda: pull_cases(dsn, client, vault, ids, logger)),
        ("payments", lambda: pull_payments(dsn, client, vault, window, ids, logger)),
        ("settlements", lambda: pull_settlements(dsn, client, vault, window, "range", ids, logger)),
    ):
        result = pull()
        report.steps[name] = {
            "records": result.records,
            "calls": result.calls,
            **{k: v for k, v in result.extra.items()},
        }
        logger.info(f"client {creditor_id}: {name}: {result.records} record(s) in {result.calls} call(s)")
        if result.unauthorized or result.invalid:
            raise OperatorError(
                f"client {creditor_id}: {name} could not be pulled: "
                f"{result.invalid.get(creditor_id) or 'token refused (401)'}"
            )
    report.per_day = _per_day(dsn, creditor_id, window)
    for day, invoices, payments, settlements in report.per_day:
        if invoices or payments or settlements:
            logger.info(
                f"client {creditor_id} {day}: {invoices} invoice(s), {payments} payment(s), "
                f"{settlements} settlement(s)"
            )
    return report
