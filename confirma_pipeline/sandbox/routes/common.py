"""What every partner route does the same way, written once: authenticate the caller, read and validate the
JSON body, parse the query (integers, booleans, date windows), and turn a refusal into its answer.

A handler is `async def handler(sandbox, request, caller) -> Response`. It refuses by raising `Refused`
(from as deep as it likes); `client_route` / `provisioning_route` wrap it into a Starlette `Route` that checks
the X-Api-Key first and answers a `Refused` with its error body. Fault injection, latency and the rate limit
are not here: they are ASGI middleware (`faults.py`, `ratelimit.py`) that `app.py` puts in front of every
partner route.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox.auth import Caller
from confirma_pipeline.sandbox.responses import error_response, json_response
from confirma_pipeline.sandbox.service import Sandbox
from confirma_pipeline.sandbox.validation import Errors
from confirma_pipeline.sandbox.variants import with_unknown_field

Handler = Callable[[Sandbox, Request, Caller], Awaitable[Response]]
VALIDATION_FAILED = "Validation failed"


class Refused(Exception):
    """The request is refused with `status`, `message` and per-field `errors` (the CHOSEN error body)."""

    def __init__(self, status: int, message: str, errors: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors

    @classmethod
    def field(cls, field: str, message: str) -> Refused:
        """A 400 naming one bad field (a query parameter or a body path)."""
        return cls(c.STATUS_VALIDATION, VALIDATION_FAILED, [{"field": field, "message": message}])

    def response(self) -> Response:
        return error_response(self.status, self.message, self.errors)


def client_route(
    sandbox: Sandbox, path: str, method: str, handler: Handler, *, allow_expired: bool = False
) -> Route:
    """A route for a client token: 401/403 from `auth.py` first, then the handler with the `Caller`."""
    return _route(sandbox, path, method, handler, partial(sandbox.auth.client, allow_expired=allow_expired))


def provisioning_route(sandbox: Sandbox, path: str, method: str, handler: Handler) -> Route:
    """A route for the partner's provisioning token (create client); the handler's caller is None."""
    return _route(sandbox, path, method, handler, sandbox.auth.provisioning)


def _route(
    sandbox: Sandbox, path: str, method: str, handler: Handler, admit: Callable[[Request], Any]
) -> Route:
    async def endpoint(request: Request) -> Response:
        caller = admit(request)  # the caller, None (provisioning) or the 401/403 answer
        if isinstance(caller, Response):
            return caller
        try:
            response = await handler(sandbox, request, caller)
        except Refused as refusal:
            response = refusal.response()
        if "unknown_field" in sandbox.state.variants and response.status_code < 300:
            return _with_unknown_field(response)
        return response

    endpoint.__name__ = handler.__name__
    return Route(path, endpoint, methods=[method])


def _with_unknown_field(response: Response) -> Response:
    """The `unknown_field` variant (sandbox/variants.py): the same answer, one more top-level field."""
    content = with_unknown_field(bytes(response.body)) if response.media_type == "application/json" else None
    if content is None:
        return response
    headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
    return Response(content, response.status_code, headers, media_type="application/json")


# --- the body -------------------------------------------------------------------------------------------------
async def json_body(request: Request) -> Any:
    """The parsed JSON body (numbers with a fraction as exact Decimals), or Refused when it is not JSON."""
    try:
        return json.loads(await request.body(), parse_float=Decimal)
    except ValueError:
        raise Refused(
            c.STATUS_VALIDATION, "Malformed JSON body", [{"field": "", "message": "body is not valid JSON"}]
        ) from None


def refuse_if(errors: Errors) -> None:
    """Refuse with every error `validation.py` found (nothing happens when there are none)."""
    if errors:
        raise Refused(c.STATUS_VALIDATION, VALIDATION_FAILED, errors.items)


def queued(message: str, count: int) -> Response:
    """The answer of a POST whose items Confirma queues (actions, ledger vouchers, accounting payments)."""
    return json_response({"message": message, "queuedCount": count}, c.STATUS_QUEUED)


# --- the query ------------------------------------------------------------------------------------------------
def query_int(request: Request, name: str, required: bool = False) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        if required:
            raise Refused.field(name, "is required")
        return None
    try:
        return int(value)
    except ValueError:
        raise Refused.field(name, "must be an integer") from None


def query_bool(request: Request, name: str) -> bool:
    value = (request.query_params.get(name) or "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise Refused.field(name, "must be true or false")
    return value in ("true", "1")


def _query_date(request: Request, name: str) -> date | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Refused.field(name, "must be an ISO 8601 date (YYYY-MM-DD)") from None


class DateWindow:
    """An inclusive [start, end] of days, either end open; `contains` compares the day part of an ISO string.

    The bounds are kept as ISO strings too, so filtering 100k rows is one slice and two string comparisons a
    row (no date parsing)."""

    __slots__ = ("start", "end", "_lo", "_hi")

    def __init__(self, start: date | None, end: date | None) -> None:
        self.start, self.end = start, end
        self._lo = start.isoformat() if start else None
        self._hi = end.isoformat() if end else None

    @classmethod
    def from_query(cls, request: Request, from_name: str, to_name: str) -> DateWindow:
        start, end = _query_date(request, from_name), _query_date(request, to_name)
        if start and end and end < start:
            raise Refused.field(to_name, f"must not be before {from_name}")
        return cls(start, end)

    @property
    def unbounded(self) -> bool:
        return self.start is None and self.end is None

    @classmethod
    def last_days(cls, today: date, days: int = c.DEFAULT_WINDOW_DAYS) -> DateWindow:
        """The API's default window when a report is asked for without dates: the last 30 days."""
        return cls(today - timedelta(days=days), today)

    def contains(self, day_iso: str) -> bool:
        day = day_iso[:10]
        return (self._lo is None or day >= self._lo) and (self._hi is None or day <= self._hi)
