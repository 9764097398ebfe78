"""JSON responses for the sandbox, in the CHOSEN error body shape (api/contract.py): as Starlette responses
for the routes, and as raw ASGI messages (`send_json`) for the middleware that answers before any route
(fault injection, rate limit)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from starlette.responses import Response
from starlette.types import Send


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(data: Any) -> bytes:
    return json.dumps(data, default=_default, separators=(",", ":")).encode()


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status, media_type="application/json", headers=headers)


def error_body(message: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"message": message, "errors": errors or []}


def error_response(
    status: int,
    message: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return json_response(error_body(message, errors), status, headers)


def no_content() -> Response:
    return Response(status_code=204)


async def send_json(
    send: Send, status: int, body: dict, extra_headers: list[tuple[bytes, bytes]] = ()
) -> None:
    """Answer from ASGI middleware (no Response object there): one JSON body with its length."""
    payload = dumps(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    headers.extend(extra_headers)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
