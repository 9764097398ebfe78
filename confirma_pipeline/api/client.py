"""`ConfirmaClient`: the Partner API over one pooled `httpx.Client`, safe to share between threads.

Retry rules (see also api/retry.py):
- GETs (idempotent) retry on connection errors, timeouts, 429 and 5xx.
- Non-idempotent calls (create client, create invoice, actions, accounting posts, and renew, which replaces the
  token) retry only when the request provably did not reach the application: connect error/timeout, pool
  timeout, 429, 503. A read timeout, a dropped connection after sending, or any other 5xx raises
  `AmbiguousOutcomeError` at once: the caller must look the object up before sending it again.
- 4xx other than 429 are never retried.

Secrets: the provisioning token is only sent to create-client; every other call takes the client's token as an
argument. Tokens never appear in logs (headers go through `redact_headers`), exception text or `repr`.

Hot path: bodies are serialised once with `json.dumps` (dicts pass through unvalidated; pydantic models are
dumped), headers come from a prebuilt dict, and the request goes straight to the client's transport, skipping
httpx's cookie and auth machinery the API does not use. The transport is httpx's own (httpcore, sharded into
small pools, api/transport.py): the well-kept library carries all traffic.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pyarrow as pa
from pydantic import BaseModel

from confirma_pipeline.api import contract as c
from confirma_pipeline.api import models as m
from confirma_pipeline.api.columnar import NotColumnar, columns_from_records, decode_payments
from confirma_pipeline.api.drift import DriftRecorder
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
from confirma_pipeline.api.redaction import LOGGER_NAME, install_redaction, redact_headers, redact_text
from confirma_pipeline.api.retry import (
    RETRYABLE_GET_STATUSES,
    RETRYABLE_POST_STATUSES,
    BackoffPolicy,
    parse_retry_after,
)
from confirma_pipeline.api.transport import make_transport

_log = logging.getLogger(LOGGER_NAME)
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_ALL_PATHS = (
    c.PATH_CLIENT, c.PATH_VALIDATE, c.PATH_RENEW, c.PATH_INVOICE, c.PATH_INVOICE_ACTION, c.PATH_CASE,
    c.PATH_DISTRIBUTION, c.PATH_PAYMENTS, c.PATH_SETTLEMENTS, c.PATH_LEDGER, c.PATH_ACCOUNTING_PAYMENT,
    c.PATH_FINVOICE_CREDENTIALS,
)  # fmt: skip
# The endpoint each answer model comes from, as drift observations name it.
_ENDPOINTS = {
    "CreateClientResponse": "POST " + c.PATH_CLIENT,
    "ValidateTokenResponse": "GET " + c.PATH_VALIDATE,
    "RenewTokenResponse": "GET " + c.PATH_RENEW,
    "CreateInvoiceResponse": "POST " + c.PATH_INVOICE,
    "CaseDetailsResponse": "GET " + c.PATH_CASE,
    "DistributionResponse": "GET " + c.PATH_DISTRIBUTION,
    "PaymentsResponse": "GET " + c.PATH_PAYMENTS,
    "SettlementsResponse": "GET " + c.PATH_SETTLEMENTS,
    "LedgerStatusResponse": "GET " + c.PATH_LEDGER,
    "AccountingPaymentStatusResponse": "GET " + c.PATH_ACCOUNTING_PAYMENT,
    "FinvoiceCredentialsResponse": "GET " + c.PATH_FINVOICE_CREDENTIALS,
    "QueuedResponse": "POST (queued)",
}
M = TypeVar("M", bound=BaseModel)
Body = Mapping[str, Any] | BaseModel | bytes


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def encode_body(body: Body) -> bytes:
    """JSON bytes of a request body: bytes are taken as already-encoded JSON (so a caller that hashes what it
    sends serialises once), a plain dict is dumped as is (no validation), a model via `model_dump`."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json", by_alias=True)
    return json.dumps(body, default=_json_default, separators=(",", ":")).encode()


def _iso(value: date | str | None) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """The URL without a trailing slash, or ValueError: https only; plain http only to a loopback host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an https URL, got {url[:80]!r}")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError("plain http is only allowed to a loopback host; use https")
    return url.rstrip("/")


def _parse_error_body(content: bytes) -> tuple[str, list[FieldError]]:
    try:
        data = json.loads(content) if content else None
    except ValueError:
        return "", []
    if not isinstance(data, dict):
        return "", []
    reason = data.get("message") or data.get("Message") or ""
    fields: list[FieldError] = []
    for item in data.get("errors") or []:
        if isinstance(item, dict):
            fields.append(FieldError(str(item.get("field", "")), str(item.get("message", ""))))
    return str(reason)[:500], fields


class ConfirmaClient:
    """Typed access to every Partner API endpoint. Thread-safe; use one instance per process and environment."""

    def __init__(
        self,
        base_url: str,
        provisioning_token: str | None = None,
        *,
        timeout_s: float = 30.0,
        connect_timeout_s: float = 5.0,
        max_retries: int = 5,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        max_retry_after_s: float = 120.0,
        max_requests_per_s: float | None = None,
        max_connections: int = 32,
        transport: httpx.BaseTransport | None = None,
        allow_insecure_http: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        policy: BackoffPolicy | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http(s) URL")
        if parts.scheme == "http" and not (allow_insecure_http or is_loopback_host(parts.hostname)):
            raise ValueError("plain http is only allowed to a loopback host (the sandbox); use https")
        self.base_url = base_url.rstrip("/")
        self.__provisioning_token = provisioning_token or None
        self._max_retries = max(0, int(max_retries))
        self._policy = policy or BackoffPolicy(
            base_s=backoff_base_s, max_s=backoff_max_s, max_retry_after_s=max_retry_after_s
        )
        self._sleep = sleep
        # No fixed cap: an adaptive limit from these ceilings (see api/ratelimit.py).
        self.limiter = AdaptiveLimiter(max_connections, max_requests_per_s)
        self._timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s, pool=timeout_s)
        self._extensions = {"timeout": self._timeout.as_dict()}
        self._transport = transport or make_transport(max_connections)
        # The one pooled client: owns the transport (closing it closes the pool). TLS verification is always on.
        self._http = httpx.Client(
            transport=self._transport,
            timeout=self._timeout,
            verify=True,
            trust_env=False,
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )
        self._urls = {path: httpx.URL(self.base_url + path) for path in _ALL_PATHS}
        self._get_headers = {"Accept": "application/json"}
        self._post_headers = {"Accept": "application/json", "Content-Type": "application/json"}
        self._calls = 0
        self.drift = DriftRecorder()  # contract drift seen in this client's answers
        # Attempts that reached the server (answered, or sent and then lost): 0 means unreachable; attempts
        # answered with anything but 5xx/429 (served) and with 5xx/429 (server errors): see calls_* below.
        self._reached = 0
        self._served = 0
        self._server_errors = 0
        self._calls_lock = threading.Lock()
        self._redaction = install_redaction()
        if self.__provisioning_token:
            self._redaction.register_secret(self.__provisioning_token)

    @classmethod
    def for_environment(
        cls, environment: str, *, sandbox_url: str | None = None, base_url: str | None = None, **kwargs: Any
    ) -> ConfirmaClient:
        """A client for "sandbox" (needs `sandbox_url`), "staging" or "production". `base_url` overrides the
        environment's URL (an egress proxy, or a host Confirma announces): https, or http to loopback only."""
        if environment not in c.ENVIRONMENTS:
            raise ValueError(f"unknown environment {environment!r}; expected one of {c.ENVIRONMENTS}")
        if base_url:
            return cls(check_base_url(base_url), **kwargs)
        if environment == "sandbox":
            if not sandbox_url:
                raise ValueError("the sandbox environment needs sandbox_url")
            return cls(sandbox_url, **kwargs)
        if environment not in c.BASE_URLS:
            raise ValueError(f"unknown environment {environment!r}; expected one of {c.ENVIRONMENTS}")
        return cls(c.BASE_URLS[environment], **kwargs)

    # --- lifecycle ----------------------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ConfirmaClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = "set" if self.__provisioning_token else "none"
        return f"ConfirmaClient(base_url={self.base_url!r}, provisioning_token=<{kind}>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("ConfirmaClient cannot be pickled (it holds secrets and sockets)")

    @property
    def has_provisioning_token(self) -> bool:
        """Whether create_client can be called (the token itself is never exposed)."""
        return bool(self.__provisioning_token)

    @property
    def calls_made(self) -> int:
        """HTTP attempts made so far (each retry counts), for run metadata."""
        return self._calls

    @property
    def calls_reached(self) -> int:
        """Attempts that reached the server (any answer, or sent and then lost); none after some calls
        means the API could not be reached at all (refused, DNS, connect timeout)."""
        return self._reached

    @property
    def calls_served(self) -> int:
        """Attempts the API answered with anything but a 5xx or 429 (a refusal counts: the API works)."""
        return self._served

    @property
    def calls_server_errors(self) -> int:
        """Attempts the API answered with a 5xx or 429."""
        return self._server_errors

    @property
    def http(self) -> httpx.Client:
        """The pooled httpx.Client (for advanced use; prefer the typed methods)."""
        return self._http

    # --- core exchange ------------------------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        token: str | None,
        *,
        params: Mapping[str, Any] | None = None,
        body: Body | None = None,
        idempotent: bool,
    ) -> httpx.Response:
        if not token or not isinstance(token, str) or "\n" in token or "\r" in token:
            raise ConfirmaApiError(
                f"{method} {path}: a valid API token is required", method=method, path=path
            )
        url = self._urls[path]
        if params:
            clean = {k: v for k, v in params.items() if v is not None}
            if clean:
                url = url.copy_merge_params(clean)
        if body is None:
            headers = {**self._get_headers, c.API_KEY_HEADER: token}
            content = None
        else:
            headers = {**self._post_headers, c.API_KEY_HEADER: token}
            content = encode_body(body)
        request = httpx.Request(method, url, headers=headers, content=content, extensions=self._extensions)
        debug = _log.isEnabledFor(logging.DEBUG)
        if debug:
            self._redaction.register_secret(token)
            _log.debug("-> %s %s headers=%s", method, path, redact_headers(headers))

        attempt = 0
        while True:
            with self._calls_lock:
                self._calls += 1
            retry_after: float | None = None
            status: int | None = None
            try:
                with self.limiter.slot(path) as slot:
                    response = self._transport.handle_request(request)
                    response.read()
                    slot.status = response.status_code
            except httpx.TransportError as exc:
                if not isinstance(exc, _NOT_SENT_ERRORS):
                    self._reached += 1
                if not idempotent and not isinstance(exc, _NOT_SENT_ERRORS):
                    raise AmbiguousOutcomeError(
                        f"{method} {path}: {type(exc).__name__} after the request was sent; the outcome is "
                        "unknown, look it up before resending",
                        method=method,
                        path=path,
                    ) from exc
                last = type(exc).__name__
            else:
                status = response.status_code
                self._reached += 1
                if status < 500 and status != 429:
                    self._served += 1
                else:
                    self._server_errors += 1
                if debug:
                    _log.debug("<- %s %s %d", method, path, status)
                if status < 300:
                    return response
                if idempotent:
                    retryable = status in RETRYABLE_GET_STATUSES or status >= 500
                else:
                    retryable = status in RETRYABLE_POST_STATUSES
                    if not retryable and status >= 500:
                        raise AmbiguousOutcomeError(
                            f"{method} {path} -> {status}: the outcome is unknown, look it up before resending",
                            method=method,
                            path=path,
                            status=status,
                        )
                if not retryable:
                    raise self._rejection(method, path, response, token)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                last = f"HTTP {status}"
            if attempt >= self._max_retries:
                raise RetryableError(
                    f"{method} {path}: gave up after {attempt + 1} attempts (last: {last})",
                    method=method,
                    path=path,
                    status=status,
                )
            if retry_after is not None and retry_after > self._policy.max_retry_after_s:
                raise RetryableError(
                    f"{method} {path}: server asked to retry after {retry_after:.0f}s (last: {last})",
                    method=method,
                    path=path,
                    status=status,
                )
            delay = self._policy.delay(attempt, retry_after)
            _log.warning(
                "%s %s: %s, retry %d/%d in %.2fs", method, path, last, attempt + 1, self._max_retries, delay
            )
            self._sleep(delay)
            attempt += 1

    def _rejection(self, method: str, path: str, response: httpx.Response, token: str) -> ConfirmaApiError:
        status = response.status_code
        reason, fields = _parse_error_body(response.content)
        secrets = (token, *self._redaction.secrets())
        reason = redact_text(reason, secrets, mask_uuids=True)
        fields = [FieldError(f.field, redact_text(f.message, secrets, mask_uuids=True)) for f in fields]
        text = f"{method} {path} -> {status}" + (f": {reason}" if reason else "")
        if status in (401, 403):
            error = (UnauthorizedError if status == 401 else ForbiddenError)(
                text, method=method, path=path, status=status
            )
            error.token_fingerprint = hashlib.sha256(token.encode("utf-8")).hexdigest()[:8]
            return error
        if status == 409:
            return DuplicateError(
                text, method=method, path=path, status=status, reason=reason, field_errors=fields
            )
        if 400 <= status < 500:
            return RejectedError(
                text, method=method, path=path, status=status, reason=reason, field_errors=fields
            )
        return ConfirmaApiError(text, method=method, path=path, status=status)

    def _parse(self, model: type[M], response: httpx.Response | bytes) -> M:
        """Parse an answer; first count its unknown and missing optional fields (api/drift.py), under
        the endpoint that answers with this model."""
        content = response if isinstance(response, bytes) else response.content
        self.drift.observe(_ENDPOINTS.get(model.__name__, model.__name__), model, content)
        return model.model_validate_json(content)

    # --- onboarding ---------------------------------------------------------------------------------------
    def create_client(self, body: Body) -> m.CreateClientResponse:
        """POST /client with the provisioning token. The answer holds the client's token: store it at once."""
        if not self.__provisioning_token:
            raise ConfirmaApiError(
                "create_client needs a provisioning token", method="POST", path=c.PATH_CLIENT
            )
        response = self._request(
            "POST", c.PATH_CLIENT, self.__provisioning_token, body=body, idempotent=False
        )
        result = self._parse(m.CreateClientResponse, response)
        self._redaction.register_secret(result.access_token)
        return result

    def validate_token(self, token: str) -> m.ValidateTokenResponse:
        return self._parse(
            m.ValidateTokenResponse, self._request("GET", c.PATH_VALIDATE, token, idempotent=True)
        )

    def renew_token(self, token: str) -> m.RenewTokenResponse:
        """GET /renew. Not retried after sending: the old token dies when the new one is issued."""
        result = self._parse(
            m.RenewTokenResponse, self._request("GET", c.PATH_RENEW, token, idempotent=False)
        )
        self._redaction.register_secret(result.new_token)
        return result

    # --- invoices -----------------------------------------------------------------------------------------
    def create_invoice(self, token: str, body: Body) -> m.CreateInvoiceResponse:
        response = self._request("POST", c.PATH_INVOICE, token, body=body, idempotent=False)
        return self._parse(m.CreateInvoiceResponse, response)

    def invoice_actions(self, token: str, body: Body) -> m.QueuedResponse:
        response = self._request("POST", c.PATH_INVOICE_ACTION, token, body=body, idempotent=False)
        return self._parse(m.QueuedResponse, response)

    def get_case(self, token: str, case_id: int) -> m.CaseDetailsResponse:
        response = self._request(
            "GET", c.PATH_CASE, token, params={c.Q_CASE_ID: int(case_id)}, idempotent=True
        )
        return self._parse(m.CaseDetailsResponse, response)

    def get_distribution(
        self,
        token: str,
        from_inv_date: date | str | None = None,
        to_inv_date: date | str | None = None,
        invoice_number: int | None = None,
        fetch_type: str | None = None,
    ) -> m.DistributionResponse:
        params = {
            c.Q_FROM_INV_DATE: _iso(from_inv_date),
            c.Q_TO_INV_DATE: _iso(to_inv_date),
            c.Q_INVOICE_NUMBER: invoice_number,
            c.Q_FETCH_TYPE: fetch_type,
        }
        response = self._request("GET", c.PATH_DISTRIBUTION, token, params=params, idempotent=True)
        return self._parse(m.DistributionResponse, response)

    def get_distribution_raw(self, token: str, from_inv_date: date | str, to_inv_date: date | str) -> bytes:
        """The distribution answer for a date range as sent (same retries and errors), for a caller that
        must judge its shape itself: recovery reads missing fields as "not understood", never as defaults."""
        params = {c.Q_FROM_INV_DATE: _iso(from_inv_date), c.Q_TO_INV_DATE: _iso(to_inv_date)}
        return self._request("GET", c.PATH_DISTRIBUTION, token, params=params, idempotent=True).content

    def get_raw(
        self, token: str, path: str, params: Mapping[str, Any] | None = None
    ) -> tuple[int, bytes, ConfirmaApiError | None]:
        """(status, body, refusal) of a GET on any partner path, 4xx included, for the read-only contract
        check (`confirma-pipeline contract check`), which judges answers the typed methods would refuse.
        A refusal comes back as its error (reason and field errors parsed, no body kept)."""
        try:
            response = self._request("GET", path, token, params=params, idempotent=True)
        except (RejectedError, UnauthorizedError) as exc:
            return int(exc.status or 0), b"", exc
        return response.status_code, response.content, None

    # --- payments -----------------------------------------------------------------------------------------
    def get_payments(self, token: str, from_date: date | str, to_date: date | str) -> list[m.PaymentRecord]:
        params = {c.Q_FROM_DATE: _iso(from_date), c.Q_TO_DATE: _iso(to_date)}
        response = self._request("GET", c.PATH_PAYMENTS, token, params=params, idempotent=True)
        return self._parse(m.PaymentsResponse, response).root

    def get_payment_columns(self, token: str, from_date: date | str, to_date: date | str) -> pa.Table:
        """`get_payments` as columns, without a model object per row (api/columnar.py). An answer the
        column-wise checks decline is parsed by the model instead: its values, or its ValidationError."""
        params = {c.Q_FROM_DATE: _iso(from_date), c.Q_TO_DATE: _iso(to_date)}
        content = self._request("GET", c.PATH_PAYMENTS, token, params=params, idempotent=True).content
        try:
            columns, seen = decode_payments(content)
        except NotColumnar:
            return columns_from_records(self._parse(m.PaymentsResponse, content).root)
        self.drift.record(_ENDPOINTS["PaymentsResponse"], seen)
        return columns

    def get_settlements(
        self,
        token: str,
        unfetched_only: bool = False,
        from_date: date | str | None = None,
        to_date: date | str | None = None,
    ) -> m.SettlementsResponse:
        raw = self.get_settlements_raw(token, unfetched_only, from_date, to_date)
        return self._parse(m.SettlementsResponse, raw)

    def get_settlements_raw(
        self,
        token: str,
        unfetched_only: bool = False,
        from_date: date | str | None = None,
        to_date: date | str | None = None,
    ) -> bytes:
        """The settlements answer as sent (same retries and errors), for callers that must keep it before
        parsing: with `unfetched_only` the API marks what it returned as fetched, so it is never sent again."""
        params = {
            c.Q_UNFETCHED_ONLY: "true" if unfetched_only else None,
            c.Q_FROM_DATE: _iso(from_date),
            c.Q_TO_DATE: _iso(to_date),
        }
        return self._request("GET", c.PATH_SETTLEMENTS, token, params=params, idempotent=True).content

    # --- accounting ---------------------------------------------------------------------------------------
    def post_ledger(self, token: str, body: Body) -> m.QueuedResponse:
        return self._parse(
            m.QueuedResponse, self._request("POST", c.PATH_LEDGER, token, body=body, idempotent=False)
        )

    def get_ledger_status(
        self, token: str, from_date: date | str | None = None, to_date: date | str | None = None
    ) -> m.LedgerStatusResponse:
        params = {c.Q_FROM_DATE: _iso(from_date), c.Q_TO_DATE: _iso(to_date)}
        response = self._request("GET", c.PATH_LEDGER, token, params=params, idempotent=True)
        if response.status_code == c.STATUS_NO_CONTENT or not response.content:
            return m.LedgerStatusResponse()
        return self._parse(m.LedgerStatusResponse, response)

    def post_accounting_payments(self, token: str, body: Body) -> m.QueuedResponse:
        return self._parse(
            m.QueuedResponse,
            self._request("POST", c.PATH_ACCOUNTING_PAYMENT, token, body=body, idempotent=False),
        )

    def get_accounting_payment_status(
        self, token: str, from_date: date | str | None = None, to_date: date | str | None = None
    ) -> m.AccountingPaymentStatusResponse:
        params = {c.Q_FROM_DATE: _iso(from_date), c.Q_TO_DATE: _iso(to_date)}
        response = self._request("GET", c.PATH_ACCOUNTING_PAYMENT, token, params=params, idempotent=True)
        if response.status_code == c.STATUS_NO_CONTENT or not response.content:
            return m.AccountingPaymentStatusResponse()
        return self._parse(m.AccountingPaymentStatusResponse, response)

    # --- operations ---------------------------------------------------------------------------------------
    def get_finvoice_credentials(self, token: str, business_id: str) -> list[m.FinvoiceCredential]:
        response = self._request(
            "GET", c.PATH_FINVOICE_CREDENTIALS, token, params={c.Q_BUSINESS_ID: business_id}, idempotent=True
        )
        return self._parse(m.FinvoiceCredentialsResponse, response).root
