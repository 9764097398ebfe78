"""JSON responses for the sandbox, in the CHOSEN error body shape (api/contract.py)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from starlette.responses import Response


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
