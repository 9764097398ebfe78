"""Plumbing shared by the pulls: active clients and their tokens, validation of a frame against its model, and
what one client's failure means for the run.

Per-client fault isolation: every client is tried. A 401/403 marks that client's token invalid
(`client_tokens.status = 'invalid'`, so later pulls skip it until `client_credentials` renews it) and the others
go on. An answer that fails its model is not written and fails the run for an operator once every client was
tried; a transient failure fails it for a step retry (see `PullReport.raise_for_failures`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd
import pandera.pandas as pa
import psycopg
import pydantic

from confirma_pipeline.api.errors import ConfirmaApiError, RejectedError, UnauthorizedError
from confirma_pipeline.pull.errors import (
    PullValidationError,
    answer_invalid,
    describe_pydantic_errors,
    describe_schema_errors,
)
from confirma_pipeline.pull.report import PullReport

log = logging.getLogger("confirma_pipeline.pull")


def active_clients(conn: psycopg.Connection, creditor_ids: Sequence[str] | None = None) -> list[str]:
    """Onboarded clients whose token we hold and do not know to be invalid."""
    from confirma_pipeline.warehouse.registry import onboarded_with_tokens

    return onboarded_with_tokens(conn, list(creditor_ids) if creditor_ids is not None else None)


def mark_unauthorized(
    conn: psycopg.Connection,
    creditor_id: str,
    entity: str,
    status: int | None,
    fingerprint: str | None = None,
) -> None:
    """Mark the token refused invalid (only that token, by fingerprint: a renewed one stays valid)."""
    from confirma_pipeline.warehouse.registry import set_token_status

    with conn.transaction():
        set_token_status(
            conn, creditor_id, "invalid", f"{status or 401} from the API while pulling {entity}", fingerprint
        )


def validate_frame(model: type[pa.DataFrameModel], frame: pd.DataFrame, entity: str, creditor_id: str):
    """The frame coerced to the model's dtypes; `PullValidationError` naming the client and the failing
    columns and checks (never the values) when it does not conform."""
    try:
        return model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise PullValidationError(answer_invalid(entity, creditor_id, describe_schema_errors(exc))) from None


def validate_frames(
    model: type[pa.DataFrameModel], frames: dict[str, pd.DataFrame], entity: str
) -> tuple[pd.DataFrame, list[str], dict[str, PullValidationError]]:
    """(the valid clients' frames coerced and concatenated, those clients, each invalid client's error).

    One pandera call for the whole batch (its cost is mostly per call: ~0.1 s, as much as 100k rows); only
    when the batch fails is each client's frame validated alone, so an invalid answer still names its client
    and the others are written."""
    whole = next(iter(frames.values())) if len(frames) == 1 else pd.concat(frames.values(), ignore_index=True)
    try:
        return model.validate(whole, lazy=True), list(frames), {}
    except pa.errors.SchemaErrors:
        pass
    valid: dict[str, pd.DataFrame] = {}
    invalid: dict[str, PullValidationError] = {}
    for creditor_id, frame in frames.items():
        try:
            valid[creditor_id] = validate_frame(model, frame, entity, creditor_id)
        except PullValidationError as exc:
            invalid[creditor_id] = exc
    frame = pd.concat(valid.values(), ignore_index=True) if valid else next(iter(frames.values())).iloc[:0]
    return frame, list(valid), invalid


def short_error(exc: BaseException) -> str:
    """One line about an error, for a report or `api_inbox.last_error`. API errors are already free of
    tokens and bodies; database errors are cut to their first line (no row values beyond it)."""
    text = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def record_client_error(
    conn: psycopg.Connection,
    report: PullReport,
    creditor_id: str,
    exc: BaseException,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> None:
    """Account for one client's failure; re-raises what is neither an API, a validation nor a database error."""
    logger = logger or log
    entity = report.entity
    if isinstance(exc, UnauthorizedError):
        mark_unauthorized(conn, creditor_id, entity, exc.status, exc.token_fingerprint)
        report.mark_unauthorized(creditor_id)
        logger.warning(
            f"{entity}: client {creditor_id}'s token was refused ({exc.status}); marked invalid, "
            "the other clients go on (client_credentials will try to renew it)"
        )
    elif isinstance(exc, PullValidationError):
        report.mark_invalid(creditor_id, str(exc))
        logger.error(str(exc))
    elif isinstance(exc, pydantic.ValidationError):
        message = answer_invalid(entity, creditor_id, describe_pydantic_errors(exc))
        report.mark_invalid(creditor_id, message)
        logger.error(message)
    elif isinstance(exc, RejectedError):
        message = f"{entity} request for client {creditor_id} refused by the API: {exc}"
        report.mark_invalid(creditor_id, message)
        logger.error(message)
    elif isinstance(exc, ValueError):  # the bulk writer refused the frame (e.g. a row outside its window)
        message = f"{entity} answer for client {creditor_id} could not be written: {short_error(exc)}"
        report.mark_invalid(creditor_id, message)
        logger.error(message)
    elif isinstance(exc, (ConfirmaApiError, psycopg.Error)):
        report.mark_failed(creditor_id, short_error(exc))
        logger.warning(f"{entity}: client {creditor_id} failed ({short_error(exc)}); will be retried")
    else:
        raise exc
