"""Client tokens: validate every stored token, and renew the ones that are invalid or about to expire.

Not a `PullSpec` (pull/spec.py) on purpose: it writes no API answer into a table. Each client's token is
validated, maybe renewed, and a renewed token stored by the worker thread that received it (the API kills the
old one at once); what is written is the status of each token.

Per client (bounded concurrency, one client's failure never stops the others):
1. `GET /validate` with the stored token. A 401 is not final: renewal also works on expired tokens, so it is
   tried too.
2. Renew (`GET /renew`) when the token is not valid, or expires within `renew_within_days`. The new token is
   encrypted and stored by the worker thread that received it, in a transaction of its own, before anything
   else (the API kills the old token at once, so the new one must not wait in memory).
3. The new token is validated in turn, and `client_tokens` records status (valid | expiring | expired |
   invalid), message, expiry, last validated, last renewed. Never the token: the view
   `confirma.client_credentials` (its historical name) shows a short fingerprint only.

A renewal whose outcome is unknown (the request may have reached the API, no answer) is a transient failure:
the step is retried, and the retry's validation tells whether the old token still works.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pandas as pd

from confirma_pipeline.api.concurrency import run_bounded
from confirma_pipeline.api.errors import AmbiguousOutcomeError, ConfirmaApiError, UnauthorizedError
from confirma_pipeline.pull.common import short_error, validate_frame
from confirma_pipeline.pull.report import PullReport
from confirma_pipeline.pull.spec import PulledTable
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.validation.pulled import ClientTokenModel
from confirma_pipeline.warehouse import client_tokens as token_repository
from confirma_pipeline.warehouse.client_tokens import load_tokens

RENEW_WITHIN_DAYS = 14
# The analysts' view of client_tokens (without the ciphertext); it keeps its historical name.
TARGET = PulledTable("confirma.client_credentials", ClientTokenModel)


@dataclass
class TokenOutcome:
    creditor_id: str
    status: str
    message: str
    expires_at: datetime | None
    validated_at: datetime
    renewed_at: datetime | None = None
    failure: str | None = None  # transient failure: retried by the step


def _status(is_valid: bool, expires_at: datetime | None, now: datetime, renew_within: timedelta) -> str:
    if not is_valid:
        return "expired" if expires_at is not None and expires_at <= now else "invalid"
    if expires_at is not None and expires_at - now <= renew_within:
        return "expiring"
    return "valid"


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def refresh_client_tokens(
    ctx: RunContext,
    *,
    renew_within_days: int = RENEW_WITHIN_DAYS,
    now: datetime | None = None,
    concurrency: int = 8,
) -> PullReport:
    """Validate (and where needed renew) every stored token; record the outcome per client."""
    from confirma_pipeline.warehouse.client_tokens import store_token

    client, vault, logger = ctx.client, ctx.vault, ctx.logger
    renew_within = timedelta(days=renew_within_days)
    report = PullReport("client_credentials")
    report.start_calls(client)

    def check(creditor_id: str, token: str) -> TokenOutcome:
        moment = now or datetime.now(timezone.utc)
        try:
            answer = client.validate_token(token)
            expires_at, message = _utc(answer.expires_at), answer.message or ""
            status = _status(answer.is_valid, expires_at, moment, renew_within)
        except UnauthorizedError as exc:
            expires_at, message, status = None, f"validate refused the token ({exc.status})", "invalid"
        if status == "valid":
            return TokenOutcome(creditor_id, status, message, expires_at, moment)
        try:
            renewed = client.renew_token(token)
        except UnauthorizedError as exc:
            note = f"{message}; renew refused the token ({exc.status}): import a new token"
            return TokenOutcome(creditor_id, "invalid", note, expires_at, moment)
        except ConfirmaApiError as exc:
            kind = "renewal outcome unknown" if isinstance(exc, AmbiguousOutcomeError) else "renewal failed"
            return TokenOutcome(
                creditor_id,
                status,
                f"{message}; {kind}",
                expires_at,
                moment,
                failure=f"{kind}: {short_error(exc)}",
            )
        renewed_at = datetime.now(timezone.utc) if now is None else now
        # Stored at once, in a transaction of its own, before anything else can fail.
        with ctx.connect(autocommit=True) as own, own.transaction():
            store_token(own, vault, creditor_id, renewed.new_token, status="valid")
        try:
            answer = client.validate_token(renewed.new_token)
        except UnauthorizedError as exc:
            return TokenOutcome(
                creditor_id, "invalid", f"renewed token refused ({exc.status})", None, moment, renewed_at
            )
        except ConfirmaApiError as exc:  # renewed and stored; only its validation failed (retried next time)
            return TokenOutcome(
                creditor_id, "unknown", "renewed; not validated yet", None, moment, renewed_at,
                failure=f"validating the renewed token: {short_error(exc)}",
            )  # fmt: skip
        expires_at = _utc(answer.expires_at)
        status = _status(answer.is_valid, expires_at, moment, renew_within)
        return TokenOutcome(
            creditor_id, status, f"renewed; {answer.message or ''}".strip(), expires_at, moment, renewed_at
        )

    outcomes: list[TokenOutcome] = []
    with ctx.connect(autocommit=True) as conn:
        ids = token_repository.stored_token_owners(conn, ctx.client_ids)
        tokens = load_tokens(conn, vault, ids)
        report.clients = len(ids)
        for creditor_id, outcome in run_bounded(
            lambda cid: check(cid, tokens[cid]), list(tokens), concurrency
        ):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, ConfirmaApiError):
                    raise outcome
                report.mark_failed(creditor_id, short_error(outcome))
                logger.warning(
                    f"client_credentials: client {creditor_id}: {short_error(outcome)}; will be retried"
                )
                continue
            outcomes.append(outcome)
            report.records += 1
            report.count(creditor_id, outcome.status)
            if outcome.renewed_at is not None:
                report.extra["tokens_renewed"] += 1
            if outcome.failure:
                report.mark_failed(creditor_id, outcome.failure)
            elif outcome.status in ("invalid", "expired"):
                report.mark_unauthorized(creditor_id)
                logger.warning(f"client_credentials: client {creditor_id}'s token is {outcome.status}")

        if outcomes:
            fingerprints = token_repository.fingerprints(conn, [o.creditor_id for o in outcomes])
            frame = _status_frame(outcomes, fingerprints)
            validate_frame(ClientTokenModel, frame, "client_credentials", "(all)")
            with conn.transaction():
                token_repository.record_statuses(conn, [_params(o) for o in outcomes])
            report.clients_pulled = len(outcomes)
            report.written["confirma.client_tokens"]["updated"] += len(outcomes)
    for status in ("valid", "expiring", "expired", "invalid"):
        report.extra[f"tokens_{status}"] = sum(1 for o in outcomes if o.status == status)
    report.finish(client)
    logger.info(report.summary_line())
    report.raise_for_failures()
    return report


def _params(outcome: TokenOutcome) -> dict:
    return {
        "creditor_id": outcome.creditor_id,
        "status": outcome.status,
        "status_message": outcome.message[:500],
        "expires_at": outcome.expires_at,
        "last_validated_at": outcome.validated_at,
        "last_renewed_at": outcome.renewed_at,
    }


def _status_frame(outcomes: Sequence[TokenOutcome], fingerprints: dict[str, str]) -> pd.DataFrame:
    """The credentials rows as they will read after the update (checked against the credentials model)."""
    frame = pd.DataFrame(
        {
            "creditor_id": [o.creditor_id for o in outcomes],
            "fingerprint": [fingerprints.get(o.creditor_id) for o in outcomes],
            "status": [o.status for o in outcomes],
            "status_message": [o.message for o in outcomes],
            "expires_at": pd.Series([o.expires_at for o in outcomes], dtype=object),
            "last_validated_at": pd.Series([o.validated_at for o in outcomes], dtype=object),
            "last_renewed_at": pd.Series([o.renewed_at for o in outcomes], dtype=object),
        }
    )
    return frame
