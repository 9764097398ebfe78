"""Errors raised by the Partner API client.

Messages name the method, the path and the status, and the server's own message for rejections. They never
carry a token, a query string with a token, or the request body.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ConfirmaApiError(Exception):
    """Base class of every Partner API error."""

    def __init__(self, message: str, *, method: str = "", path: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status


class RetryableError(ConfirmaApiError):
    """A transient failure (connection, timeout, 429, 5xx) that persisted through every retry."""


class AmbiguousOutcomeError(RetryableError):
    """A non-idempotent POST may have been processed (read timeout, dropped connection, 500/502/504).

    The caller must look the object up before sending it again.
    """


class RejectedError(ConfirmaApiError):
    """The server refused the request for good (400/402/404/409/422): do not resend it unchanged."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        reason: str = "",
        field_errors: list[FieldError] | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, status=status)
        self.reason = reason
        self.field_errors: list[FieldError] = list(field_errors or [])


class DuplicateError(RejectedError):
    """409: the object already exists (e.g. the invoice number was already submitted for this client)."""


class UnauthorizedError(ConfirmaApiError):
    """401: the token is missing, unknown or expired. `token_fingerprint` names the token refused (first
    8 hex digits of its sha256, as vault.fingerprint), so only that token is marked invalid: a token
    renewed meanwhile by another step is not."""

    token_fingerprint: str | None = None


class ForbiddenError(UnauthorizedError):
    """403: the token is valid but of the wrong kind for this endpoint."""
