"""Operations: the control API under /_sandbox/ (no auth, never under the partner prefix, never faulted or
rate limited): simulated time, faults, variants, the accounting simulation, the journal, the state, the
OpenAPI document. `control_client.SandboxControl` is its client."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox.accounting import DEFAULTS as ACCOUNTING_DEFAULTS
from confirma_pipeline.sandbox.accounting import settings as accounting_settings
from confirma_pipeline.sandbox.faults import FaultConfig
from confirma_pipeline.sandbox.openapi import build_openapi
from confirma_pipeline.sandbox.responses import error_response, json_response
from confirma_pipeline.sandbox.service import Sandbox
from confirma_pipeline.sandbox.simulation import advance as advance_days
from confirma_pipeline.sandbox.state import iso_z, parse_iso_datetime
from confirma_pipeline.sandbox.variants import parse_variants

P = c.SANDBOX_CONTROL_PREFIX
ControlHandler = Callable[[Sandbox, Request], Awaitable[Response]]


def routes(sandbox: Sandbox) -> list[Route]:
    table: list[tuple[str, str, ControlHandler]] = [
        ("/advance", "POST", advance),
        ("/faults", "POST", set_faults),
        ("/faults", "GET", get_faults),
        ("/journal", "GET", journal),
        ("/reset", "POST", reset),
        ("/tokens/expire", "POST", expire_token),
        ("/state", "GET", get_state),
        ("/openapi.json", "GET", get_openapi),
        ("/variants", "POST", set_variants),
        ("/accounting", "GET", get_accounting),
        ("/accounting", "POST", set_accounting),
    ]
    return [Route(P + path, _bind(sandbox, handler), methods=[method]) for path, method, handler in table]


def _bind(sandbox: Sandbox, handler: ControlHandler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handler(sandbox, request)

    endpoint.__name__ = handler.__name__
    return endpoint


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = json.loads(raw) if raw else {}
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


async def advance(sandbox: Sandbox, request: Request) -> Response:
    try:
        days = int((await _json(request)).get("days", 1))
        if days < 0 or days > 3660:
            raise ValueError("days must be between 0 and 3660")
    except (ValueError, TypeError) as exc:
        return error_response(400, str(exc))
    happened = advance_days(sandbox.state, days)
    sandbox.persist()
    return json_response({"today": sandbox.state.today.isoformat(), "happened": happened})


async def set_faults(sandbox: Sandbox, request: Request) -> Response:
    try:
        config = FaultConfig.from_dict(await _json(request))
    except (ValueError, TypeError) as exc:
        return error_response(400, str(exc))
    sandbox.faults.set(config)
    return json_response({"faults": config.to_dict()})


async def get_faults(sandbox: Sandbox, request: Request) -> Response:
    return json_response({"faults": sandbox.faults.config.to_dict()})


async def journal(sandbox: Sandbox, request: Request) -> Response:
    kind = request.query_params.get("kind")
    with sandbox.state.lock:
        entries = [e for e in sandbox.state.journal if kind is None or e["kind"] == kind]
    return json_response({"count": len(entries), "entries": entries})


async def reset(sandbox: Sandbox, request: Request) -> Response:
    sandbox.state.reset()
    sandbox.faults.clear()
    sandbox.persist()
    return json_response({"today": sandbox.state.today.isoformat()})


async def expire_token(sandbox: Sandbox, request: Request) -> Response:
    """{"clientIdentifier": N, "expiresAt": iso-datetime | null}: set or clear the expiry of its tokens.

    Expiry is compared with the SIMULATED now (see GET /_sandbox/state "now")."""
    try:
        data = await _json(request)
        client_id = int(data["clientIdentifier"])
        expires_at = data.get("expiresAt")
        if expires_at is not None:
            expires_at = parse_iso_datetime(str(expires_at)).isoformat().replace("+00:00", "Z")
    except (KeyError, ValueError, TypeError) as exc:
        return error_response(400, f"bad request: {exc}")
    state = sandbox.state
    with state.lock:
        if client_id not in state.clients:
            return error_response(404, "unknown client")
        changed = 0
        for info in state.tokens.values():
            if info["clientIdentifier"] == client_id:
                info["expiresAt"] = expires_at
                changed += 1
    sandbox.persist()
    return json_response({"clientIdentifier": client_id, "expiresAt": expires_at, "tokens": changed})


async def get_state(sandbox: Sandbox, request: Request) -> Response:
    state = sandbox.state
    return json_response(
        {
            "today": state.today.isoformat(),
            "now": iso_z(state.now()),
            "startDate": state.start_date.isoformat(),
            "counts": state.counts(),
            "faults": sandbox.faults.config.to_dict(),
            "variants": sorted(state.variants),
        }
    )


async def set_variants(sandbox: Sandbox, request: Request) -> Response:
    """{"variants": ["records_key", ...]}: answer as the real API might (sandbox/variants.py)."""
    try:
        chosen = parse_variants((await _json(request)).get("variants") or [])
    except (ValueError, TypeError, AttributeError) as exc:
        return error_response(400, str(exc))
    with sandbox.state.lock:
        sandbox.state.variants = chosen
    return json_response({"variants": sorted(chosen)})


async def get_openapi(sandbox: Sandbox, request: Request) -> Response:
    return json_response(build_openapi())


async def get_accounting(sandbox: Sandbox, request: Request) -> Response:
    return json_response(accounting_settings(sandbox.state))


async def set_accounting(sandbox: Sandbox, request: Request) -> Response:
    """{"failureRate": 0.2, "syncDelayDays": 2}: how the simulated accounting systems treat queued items."""
    try:
        raw = await request.body()
        data = json.loads(raw) if raw else {}
        rate = float(data.get("failureRate", ACCOUNTING_DEFAULTS["failureRate"]))
        delay = int(data.get("syncDelayDays", ACCOUNTING_DEFAULTS["syncDelayDays"]))
        if not 0 <= rate <= 1 or not 0 <= delay <= 365:
            raise ValueError("failureRate must be in [0, 1] and syncDelayDays in [0, 365]")
    except (ValueError, TypeError, AttributeError) as exc:
        return error_response(400, str(exc))
    state = sandbox.state
    with state.lock:
        accounting_settings(state).update(failureRate=rate, syncDelayDays=delay)
    return json_response(accounting_settings(state))
