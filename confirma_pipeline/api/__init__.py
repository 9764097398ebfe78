"""The Confirma Finance Partner API: client, typed models, errors and the contract choices. No Dagster here."""

from confirma_pipeline.api import contract, models
from confirma_pipeline.api.client import ConfirmaClient, encode_body
from confirma_pipeline.api.concurrency import run_bounded
from confirma_pipeline.api.errors import (
    AmbiguousOutcomeError,
    ConfirmaApiError,
    DuplicateError,
    FieldError,
    ForbiddenError,
    RejectedError,
    RetryableError,
    UnauthorizedError,
)
from confirma_pipeline.api.ratelimit import AdaptiveLimiter
from confirma_pipeline.api.redaction import redact_headers
from confirma_pipeline.api.retry import BackoffPolicy, parse_retry_after

__all__ = [
    "AmbiguousOutcomeError",
    "BackoffPolicy",
    "ConfirmaApiError",
    "ConfirmaClient",
    "DuplicateError",
    "FieldError",
    "ForbiddenError",
    "RejectedError",
    "RetryableError",
    "AdaptiveLimiter",
    "UnauthorizedError",
    "contract",
    "encode_body",
    "models",
    "parse_retry_after",
    "redact_headers",
    "run_bounded",
]
