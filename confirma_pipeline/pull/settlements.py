"""Pull settlements so that none is ever lost, although the API marks them fetched when it hands them out.

Modes:
- `unfetched` (the nightly run): `GET /settlements?unfetchedOnly=true`, every settlement this integration has not
  fetched before, whatever its date. A settlement fetched this way is never returned again by this mode.
- `range` (backfills, and recovery): `GET /settlements?fromDate&toDate`, every settlement of the window,
  fetched before or not. It can recover any settlement.

Not lost between fetch and write (the inbox):
1. leftovers first: raw answers in `confirma.api_inbox` (kind `settlements`) not yet processed, oldest first;
2. fetch: each client's raw answer is stored in `confirma.api_inbox` by the worker thread that fetched it, in a
   transaction of its own, committed before anything else happens to it (before parsing, so even an answer
   that does not parse is kept). Answers without settlements are not stored;
3. process: in ONE transaction, lock the inbox row (`FOR UPDATE SKIP LOCKED`: a concurrent run skips it), parse
   and normalise it, validate the three frames (the pulled tables' models plus the sums: breakdown items = the
   allocation total, allocations = the settlement amount), upsert settlements by settlement id, replace the
   allocations of those settlements (by allocation id) and their breakdown items (by allocation id, line_no),
   and mark the inbox row processed. If any of it fails nothing is written, the row stays unprocessed with
   `last_error`, and step 1 of the next run (or a retry) writes it. A gap is visible until then: the
   `settlements_not_lost` check fails while any inbox row is unprocessed.
The fetched answers of a run are written together, up to `BATCH_ANSWERS` in one transaction (the same claims,
checks and writes over the batch's frames); when any of them cannot be (busy, invalid, inconsistent, refused by
the database), the batch is rolled back and each answer goes through step 3 alone, so failures are kept and
reported per client as above.
An answer that keeps failing (bad data) stays in the inbox and fails every run until a newer answer of the
same client contains all of its settlements and is written (a `range` rerun of its days once the API serves
good data): the older row is then marked superseded, and no longer counts as a failure.
Processed inbox rows are kept for `INBOX_RETENTION_DAYS` days (an audit trail of what the API answered).

Not a `PullSpec` (pull/spec.py) on purpose: the engine there maps an answer as it arrives and writes it
later, once per batch; here every raw answer must be committed to the inbox before it is even parsed, and
each is written in its own transaction with its inbox row, into three tables with sums checked across them.
"""

from __future__ import annotations

import json

import pandas as pd

from confirma_pipeline.api import models as m
from confirma_pipeline.api.concurrency import run_bounded
from confirma_pipeline.mapping.responses import settlement_frames
from confirma_pipeline.pull.common import (
    active_clients,
    record_client_error,
    short_error,
    validate_frame,
)
from confirma_pipeline.pull.errors import PullValidationError, answer_invalid
from confirma_pipeline.pull.report import PullReport
from confirma_pipeline.pull.spec import PulledTable
from confirma_pipeline.pull.window import Window
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.validation.pulled import (
    AllocationModel,
    BreakdownItemModel,
    SettlementModel,
    allocations_sum_to_settlement_amount,
    breakdown_sums_equal_allocation_total,
)
from confirma_pipeline.warehouse import api_inbox
from confirma_pipeline.warehouse.bulk import replace_window, upsert_frame
from confirma_pipeline.warehouse.client_tokens import load_tokens

INBOX_KIND = api_inbox.SETTLEMENTS
INBOX_RETENTION_DAYS = 30
MODES = ("unfetched", "range")
SETTLEMENTS = "confirma.settlements"
ALLOCATIONS = "confirma.settlement_allocations"
BREAKDOWN = "confirma.allocation_breakdown"
#: Written by the first fetch that stores a settlement, then kept: a later answer's apiFetchDate (or, where
#: it is null, that answer's createdAt) is not content. A range re-pull of unchanged settlements then writes
#: nothing and the first fetch date survives, whether or not the API marks range fetches as fetched.
FIRST_FETCH_COLUMNS = ("api_fetch_date",)
#: Fetched answers written together in one transaction (`_process_together`); settlements are few per client.
BATCH_ANSWERS = 50
TARGET = PulledTable(SETTLEMENTS, SettlementModel, (ALLOCATIONS, BREAKDOWN))


def fetch_settlements_raw(client, token: str, mode: str, window: Window | None) -> bytes:
    """The settlements answer as the API sent it (bytes), with the client's retries and errors: an answer the
    API has already marked fetched must be kept before it is parsed."""
    if mode == "unfetched":
        return client.get_settlements_raw(token, unfetched_only=True)
    return client.get_settlements_raw(token, from_date=window.start, to_date=window.end)


def _has_settlements(raw: bytes) -> bool:
    """False only for a well-formed answer with an empty settlements list (nothing to lose)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return True
    return not (
        isinstance(data, dict) and isinstance(data.get("settlements"), list) and not data["settlements"]
    )


def _inbox_payload(raw: bytes) -> str:
    """JSON text for the jsonb column; an answer that is not JSON is wrapped so it is still kept."""
    try:
        json.loads(raw)
        return raw.decode()
    except ValueError:
        return json.dumps({"unparseable_answer": raw.decode(errors="replace")[:1_000_000]})


def pull_settlements(
    ctx: RunContext, window: Window | None = None, mode: str = "unfetched", *, concurrency: int = 8
) -> PullReport:
    """Process inbox leftovers, then fetch (unfetched or range) and write each client's settlements."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "range" and window is None:
        raise ValueError("range mode needs a window")
    client, logger = ctx.client, ctx.logger
    report = PullReport(
        "settlements", window=window, fetch_window=window if mode == "range" else None, mode=mode
    )
    report.start_calls(client)
    with ctx.connect(autocommit=True) as conn:
        leftovers = api_inbox.pending(conn, INBOX_KIND, ctx.client_ids)
        failed_leftovers: dict[int, str] = {}
        for inbox_id, creditor_id in leftovers:
            if _process(conn, inbox_id, creditor_id, report, logger):
                report.extra["inbox_recovered"] += 1
            else:
                failed_leftovers[inbox_id] = creditor_id

        clients = active_clients(conn, ctx.creditor_ids)
        tokens = load_tokens(conn, ctx.vault, clients)
        report.clients = len(clients)

        def fetch(creditor_id: str) -> int | None:
            raw = fetch_settlements_raw(client, tokens[creditor_id], mode, window)
            if not _has_settlements(raw):
                return None
            with ctx.connect(autocommit=True) as own:  # committed before this answer is even parsed
                return api_inbox.keep(own, creditor_id, INBOX_KIND, _inbox_payload(raw))

        fetched: list[tuple[int, str]] = []

        def process_fetched() -> None:
            for inbox_id, creditor_id in _process_together(conn, fetched, report):
                if _process(conn, inbox_id, creditor_id, report, logger):
                    report.clients_pulled += 1
            fetched.clear()

        for creditor_id, outcome in run_bounded(fetch, [x for x in clients if x in tokens], concurrency):
            if isinstance(outcome, BaseException):
                record_client_error(conn, report, creditor_id, outcome, logger)
            elif outcome is None:
                report.clients_pulled += 1
            else:
                fetched.append((outcome, creditor_id))
                if len(fetched) >= BATCH_ANSWERS:
                    process_fetched()
        process_fetched()

        if failed_leftovers:
            _forgive_superseded(conn, failed_leftovers, report, logger)
        api_inbox.prune(conn, INBOX_KIND, INBOX_RETENTION_DAYS)
    report.finish(client)
    logger.info(report.summary_line())
    report.raise_for_failures()
    return report


def _process_together(conn, items: list[tuple[int, str]], report: PullReport) -> list[tuple[int, str]]:
    """Write several clients' inbox answers in ONE transaction (the fast path: pandera and each staged upsert
    cost mostly per call, so 20 clients cost about what one does). Returns the (inbox id, client) pairs left
    for `_process`, one by one: none when every answer was claimed, valid, consistent and written; all of them
    (nothing written, the transaction rolled back) when any answer is not, so that each failure is then found,
    kept and reported per client exactly as before."""
    if len(items) < 2:
        return list(items)
    try:
        with conn.transaction():
            claimed, answers = [], []
            for inbox_id, creditor_id in items:
                payload = api_inbox.claim(conn, inbox_id)
                if payload is None:
                    raise _NotTogether  # processed meanwhile or held by a concurrent run: `_process` says so
                claimed.append((inbox_id, creditor_id))
                answers.append(
                    settlement_frames(creditor_id, m.SettlementsResponse.model_validate_json(payload))
                )
            settlements = SettlementModel.validate(
                pd.concat([a.settlements for a in answers], ignore_index=True)
            )
            allocations = AllocationModel.validate(
                pd.concat([a.allocations for a in answers], ignore_index=True)
            )
            breakdown = BreakdownItemModel.validate(
                pd.concat([a.breakdown for a in answers], ignore_index=True)
            )
            if breakdown_sums_equal_allocation_total(
                settlements, allocations, breakdown
            ) or allocations_sum_to_settlement_amount(settlements, allocations, breakdown):
                raise _NotTogether
            results = _write(conn, settlements, allocations, breakdown)
            superseded = 0
            for inbox_id, creditor_id in claimed:
                api_inbox.mark_processed(conn, inbox_id)
                superseded += api_inbox.supersede_older(conn, inbox_id, INBOX_KIND, creditor_id)
    except Exception:  # noqa: BLE001 - rolled back; each answer is then processed (and any failure told) alone
        return list(items)
    for table, result in results.items():
        report.wrote(table, result)
    report.extra["inbox_superseded"] += superseded
    report.records += len(settlements)
    for (_, creditor_id), frames in zip(claimed, answers, strict=True):
        for name, n in frames.counts.items():
            report.count(creditor_id, name, n)
    report.clients_pulled += len(claimed)
    return []


class _NotTogether(Exception):
    """The batch cannot be written as one: fall back to one answer at a time."""


def _write(conn, settlements, allocations, breakdown) -> dict:
    """Upsert settlements by id, replace the allocations of those settlements and their breakdown items."""
    return {
        SETTLEMENTS: upsert_frame(
            conn, settlements, SETTLEMENTS, ["settlement_id"], keep_columns=FIRST_FETCH_COLUMNS
        ),
        ALLOCATIONS: replace_window(
            conn, allocations, ALLOCATIONS, scope_column="settlement_id",
            scopes=settlements["settlement_id"].tolist(),
        ),
        BREAKDOWN: replace_window(
            conn, breakdown, BREAKDOWN, scope_column="allocation_id", scopes=allocations["allocation_id"].tolist(),
        ),
    }  # fmt: skip


def _process(conn, inbox_id: int, creditor_id: str, report: PullReport, logger) -> bool:
    """Normalise, validate and write one inbox answer and mark it processed, all in one transaction.
    Returns False when it failed (recorded on the inbox row and in the report) or another run holds it."""
    try:
        with conn.transaction():
            payload = api_inbox.claim(conn, inbox_id)
            if payload is None:  # processed meanwhile, or being processed by a concurrent run
                report.extra["inbox_skipped_busy"] += 1
                return False
            answer = m.SettlementsResponse.model_validate_json(payload)
            frames = settlement_frames(creditor_id, answer)
            settlements = validate_frame(SettlementModel, frames.settlements, "settlements", creditor_id)
            allocations = validate_frame(AllocationModel, frames.allocations, "settlements", creditor_id)
            breakdown = validate_frame(BreakdownItemModel, frames.breakdown, "settlements", creditor_id)
            _check_sums(settlements, allocations, breakdown, creditor_id)
            results = _write(conn, settlements, allocations, breakdown)
            api_inbox.mark_processed(conn, inbox_id)
            superseded = api_inbox.supersede_older(conn, inbox_id, INBOX_KIND, creditor_id)
    except Exception as exc:
        api_inbox.mark_error(conn, inbox_id, short_error(exc))
        record_client_error(conn, report, creditor_id, exc, logger)
        return False
    for table, result in results.items():
        report.wrote(table, result)
    report.extra["inbox_superseded"] += superseded
    report.records += len(settlements)
    for name, n in frames.counts.items():
        report.count(creditor_id, name, n)
    return True


def _forgive_superseded(conn, failed: dict[int, str], report: PullReport, logger) -> None:
    """A leftover that failed again this run but was then superseded by this run's fresh answer for the same
    client (every settlement in it now written) is no longer a failure of that client."""
    pending = api_inbox.still_pending(conn, list(failed))
    still_failing = {failed[i] for i in pending}
    for inbox_id, creditor_id in failed.items():
        if inbox_id not in pending and creditor_id not in still_failing:
            report.invalid.pop(creditor_id, None)
            report.failed.pop(creditor_id, None)
            logger.info(
                f"settlements: inbox answer {inbox_id} of client {creditor_id} superseded by a newer one"
            )


def _check_sums(settlements, allocations, breakdown, creditor_id: str) -> None:
    problems = []
    bad_allocations = breakdown_sums_equal_allocation_total(settlements, allocations, breakdown)
    if bad_allocations:
        problems.append(
            "breakdown amounts do not sum to allocatedTotalAmount for allocation(s) "
            + ", ".join(str(a) for a in bad_allocations[:5])
        )
    bad_settlements = allocations_sum_to_settlement_amount(settlements, allocations, breakdown)
    if bad_settlements:
        problems.append(
            "allocations do not sum to settlementAmount for settlement(s) "
            + ", ".join(str(s) for s in bad_settlements[:5])
        )
    if problems:
        raise PullValidationError(answer_invalid("settlements", creditor_id, "; ".join(problems)))
