"""Create Confirma clients for new creditors, exactly once.

A creditor is sent when it is not in the client registry, or when the API refused it earlier
and its content changed since (content hash), or when it failed transiently (attempts left),
or after an operator settled it "not created". Before the POST its registry row is committed
`in_flight`; after the answer, ids and the encrypted token are committed together, at once:
the token is returned only this one time. There is no look-up for clients, so a row found
`in_flight` is never resent: it is surfaced for an operator (`confirma-pipeline clients
resolve`) and the stuck-rows check fails until then.
"""

from __future__ import annotations

import time

from confirma_pipeline.api.errors import (
    AmbiguousOutcomeError,
    ConfirmaApiError,
    RejectedError,
    RetryableError,
    UnauthorizedError,
)
from confirma_pipeline.errors import ConfigError
from confirma_pipeline.push.invoice_sending import api_error_text
from confirma_pipeline.push.report import PushReport
from confirma_pipeline.push.settings import PushSettings
from confirma_pipeline.push.validation_steps import prepare_creditors
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.warehouse import registry
from confirma_pipeline.warehouse.client_tokens import store_token
from confirma_pipeline.warehouse.rejections import Rejection, record_rejections, resolve_rejections
from confirma_pipeline.warehouse.source import read_creditors


def _due(prepared, known: dict[str, registry.RegistryRow], settings: PushSettings, report: PushReport):
    """Split valid creditors into (to send, skipped) by their registry state."""
    due = []
    for creditor_id, content_hash, body in prepared.sendable():
        row = known.get(creditor_id)
        if (
            row is None
            or row.state == "not_created"
            or row.state == "failed"
            and row.attempts < settings.max_attempts
            or row.state == "rejected"
            and row.content_hash != content_hash
        ):
            due.append((creditor_id, content_hash, body))
        else:  # created, imported, in_flight (operator), rejected unchanged, failed past budget
            report.skipped_done += 1
            report.count(creditor_id, f"skipped_{row.state}")
    return due


def _not_yet_onboarded(creditors_df, known: dict[str, registry.RegistryRow]):
    """Creditors not onboarded nor in flight: only these are validated (nothing is sent for the others)."""
    settled = [
        cid for cid, row in known.items() if row.state in registry.DONE_STATES or row.state == "in_flight"
    ]
    return creditors_df[~creditors_df["creditor_id"].isin(settled)]


def creditors_to_onboard(conn, creditors_df, partner_code: str | None, settings: PushSettings) -> set[str]:
    """Creditors an onboarding run would create now: the invoice dry run counts their invoices as
    sendable on the first night, when the registry is still empty."""
    known = registry.load_registry(conn, creditors_df["creditor_id"].tolist())
    prepared = prepare_creditors(_not_yet_onboarded(creditors_df, known), partner_code)
    return {cid for cid, _, _ in _due(prepared, known, settings, PushReport(entity="client"))}


def onboard_clients(ctx: RunContext, *, dry_run: bool = False, partner_code: str | None = None) -> PushReport:
    """`partner_code` (CONFIRMA_PARTNER_CODE) fills blank partner codes; a creditor left blank is
    rejected by validation, never sent."""
    started = time.monotonic()
    client = ctx.client
    report = PushReport(entity="client", dry_run=dry_run)
    requests_before = getattr(client, "calls_made", 0) if client is not None else 0
    with ctx.connect(autocommit=True) as conn:
        ids = ctx.client_ids
        known = registry.load_registry(conn, ids)
        creditors_df = read_creditors(conn, ctx.relations.creditors, creditor_ids=ids)
        # Creditors already onboarded are not re-validated: nothing would be sent for them.
        fresh = _not_yet_onboarded(creditors_df, known)
        report.skipped_done += len(creditors_df) - len(fresh)
        prepared = prepare_creditors(fresh, partner_code, relation=ctx.relations.creditors)
        report.rejected_validation = len(prepared.rejections)
        report.add_rejections(prepared.rejections)
        for r in prepared.rejections:
            report.count(r.entity_key, "rejected_validation")
        due = _due(prepared, known, ctx.settings, report)
        if dry_run:
            report.would_send = len(due)
            for creditor_id, _, _ in due:
                report.count(creditor_id, "would_send")
            report.duration_s = time.monotonic() - started
            return report
        with conn.transaction():
            record_rejections(conn, prepared.rejections, ctx.run_id)
            resolve_rejections(conn, "creditor", [cid for cid, _, _ in due])
        if due:
            _require_ready(client, ctx.vault)
            _send_all(conn, ctx, due, report)
    report.duration_s = time.monotonic() - started
    report.requests = (getattr(client, "calls_made", 0) - requests_before) if client is not None else 0
    return report


def _require_ready(client, vault) -> None:
    """Fail at once, before any POST, when a setting onboarding needs is missing."""
    if client is None:
        raise ConfigError("CONFIRMA_SANDBOX_URL / CONFIRMA_ENV: no API client configured")
    if not client.has_provisioning_token:
        raise ConfigError("CONFIRMA_PROVISIONING_TOKEN: not set; it is needed to onboard new clients")
    if vault is None:
        raise ConfigError("CONFIRMA_TOKEN_KEY: not set; client tokens cannot be stored without it")


def _send_all(conn, ctx: RunContext, due, report: PushReport) -> None:
    """POST each due creditor, ONE AT A TIME: claim its row `in_flight` (committed), POST, commit
    the answer, then the next.

    Why not concurrently: create-client has no look-up and is not deduplicated (CHOSEN), and its
    answer carries the client's token exactly once. A crash between a POST and its commit leaves a
    client created at Confirma whose token is lost, and each such client needs an operator and a
    token from Confirma support. One at a time bounds that to one client per crash; creation is
    rare (new creditors only), so the lost throughput does not matter."""
    for creditor_id, content_hash, body in due:
        if not registry.claim_for_onboarding(
            conn, creditor_id, content_hash, ctx.run_id, ctx.settings.max_attempts
        ):
            report.skipped_done += 1  # another run holds it, or its budget is spent
            report.count(creditor_id, "skipped_claimed_elsewhere")
            held = registry.in_flight_elsewhere(
                conn, [creditor_id], ctx.run_id
            )  # {} when its budget is spent
            report.held_by.update(held)
            report.clients_locked_elsewhere += len(held)
            continue
        try:
            outcome = ctx.client.create_client(body)
        except Exception as exc:  # classified by _record (an unknown exception after sending = unknown)
            outcome = exc
        _record(conn, ctx, creditor_id, content_hash, outcome, report)
        if isinstance(outcome, UnauthorizedError):
            # the provisioning token was refused: claim nothing more
            raise ConfigError(
                "CONFIRMA_PROVISIONING_TOKEN: refused by the API (401/403); check the token and CONFIRMA_ENV"
            )


def _record(conn, ctx: RunContext, creditor_id, content_hash, outcome, report: PushReport) -> None:
    """Commit one answer. The token is returned only in a success answer: ids and the encrypted
    token are committed together, at once."""
    if isinstance(outcome, UnauthorizedError):
        registry.mark_outcome(conn, creditor_id, "failed", api_error_text(outcome))
        report.failed += 1
        report.count(creditor_id, "failed")
    elif isinstance(outcome, RejectedError):
        reason = api_error_text(outcome)
        with conn.transaction():
            registry.mark_outcome(conn, creditor_id, "rejected", reason)
            record_rejections(
                conn,
                [
                    Rejection(
                        "creditor",
                        creditor_id,
                        content_hash,
                        creditor_id,
                        [f"api_{outcome.status}"],
                        reason,
                        "api",
                    )
                ],
                ctx.run_id,
            )
        report.rejected_api += 1
        report.count(creditor_id, "rejected_api")
    elif isinstance(outcome, AmbiguousOutcomeError) or (
        isinstance(outcome, BaseException) and not isinstance(outcome, ConfirmaApiError)
    ):
        # Sent, answer lost (or our own bug after sending): never resent automatically.
        registry.mark_outcome(conn, creditor_id, "in_flight", f"outcome unknown: {type(outcome).__name__}")
        report.unknown += 1
        report.count(creditor_id, "unknown")
        ctx.logger.warning(
            f"creditor {creditor_id}: outcome of create-client unknown; an operator must resolve it"
        )
    elif isinstance(outcome, (RetryableError, ConfirmaApiError)):
        registry.mark_outcome(conn, creditor_id, "failed", api_error_text(outcome))
        report.failed += 1
        report.count(creditor_id, "failed")
    else:
        with conn.transaction():
            registry.mark_created(
                conn,
                creditor_id,
                client_identifier=outcome.client_identifier,
                customer_code=outcome.confirma_finance_customer_code,
                payment_reference_prefix=outcome.payment_reference_prefix,
            )
            store_token(conn, ctx.vault, creditor_id, outcome.access_token, status="valid")
        report.pushed += 1
        report.count(creditor_id, "created")
