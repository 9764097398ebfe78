"""The control API under /_sandbox/ (no auth, never under the partner prefix): time, faults, journal, state."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox.accounting import routes as accounting_routes
from confirma_pipeline.sandbox.faults import FaultConfig, FaultInjector
from confirma_pipeline.sandbox.responses import error_response, json_response
from confirma_pipeline.sandbox.simulation import advance
from confirma_pipeline.sandbox.state import SandboxState, iso_z, parse_iso_datetime
from confirma_pipeline.sandbox.variants import parse_variants

P = c.SANDBOX_CONTROL_PREFIX


class ControlApi:
    def __init__(
        self,
        state: SandboxState,
        faults: FaultInjector,
        persist: Callable[[], None],
        openapi: Callable[[], dict[str, Any]],
    ) -> None:
        self.state = state
        self.faults = faults
        self.persist = persist
        self.openapi = openapi

    def routes(self) -> list[Route]:
        return [
            Route(P + "/advance", self.advance, methods=["POST"]),
            Route(P + "/faults", self.set_faults, methods=["POST"]),
            Route(P + "/faults", self.get_faults, methods=["GET"]),
            Route(P + "/journal", self.journal, methods=["GET"]),
            Route(P + "/reset", self.reset, methods=["POST"]),
            Route(P + "/tokens/expire", self.expire_token, methods=["POST"]),
            Route(P + "/state", self.get_state, methods=["GET"]),
            Route(P + "/openapi.json", self.get_openapi, methods=["GET"]),
            Route(P + "/variants", self.set_variants, methods=["POST"]),
            *accounting_routes(self.state, P),
        ]

    @staticmethod
    async def _json(request: Request) -> dict[str, Any]:
        raw = await request.body()
        data = json.loads(raw) if raw else {}
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        return data

    async def advance(self, request: Request) -> Response:
        try:
            days = int((await self._json(request)).get("days", 1))
            if days < 0 or days > 3660:
                raise ValueError("days must be between 0 and 3660")
        except (ValueError, TypeError) as exc:
            return error_response(400, str(exc))
        happened = advance(self.state, days)
        self.persist()
        return json_response({"today": self.state.today.isoformat(), "happened": happened})

    async def set_faults(self, request: Request) -> Response:
        try:
            config = FaultConfig.from_dict(await self._json(request))
        except (ValueError, TypeError) as exc:
            return error_response(400, str(exc))
        self.faults.set(config)
        return json_response({"faults": config.to_dict()})

    async def get_faults(self, request: Request) -> Response:
        return json_response({"faults": self.faults.config.to_dict()})

    async def journal(self, request: Request) -> Response:
        kind = request.query_params.get("kind")
        with self.state.lock:
            entries = [e for e in self.state.journal if kind is None or e["kind"] == kind]
        return json_response({"count": len(entries), "entries": entries})

    async def reset(self, request: Request) -> Response:
        self.state.reset()
        self.faults.clear()
        self.persist()
        return json_response({"today": self.state.today.isoformat()})

    async def expire_token(self, request: Request) -> Response:
        """{"clientIdentifier": N, "expiresAt": iso-datetime | null}: set or clear the expiry of its tokens.

        Expiry is compared with the SIMULATED now (see GET /_sandbox/state "now")."""
        try:
            data = await self._json(request)
            client_id = int(data["clientIdentifier"])
            expires_at = data.get("expiresAt")
            if expires_at is not None:
                expires_at = parse_iso_datetime(str(expires_at)).isoformat().replace("+00:00", "Z")
        except (KeyError, ValueError, TypeError) as exc:
            return error_response(400, f"bad request: {exc}")
        with self.state.lock:
            if client_id not in self.state.clients:
                return error_response(404, "unknown client")
            changed = 0
            for info in self.state.tokens.values():
                if info["clientIdentifier"] == client_id:
                    info["expiresAt"] = expires_at
                    changed += 1
        self.persist()
        return json_response({"clientIdentifier": client_id, "expiresAt": expires_at, "tokens": changed})

    async def get_state(self, request: Request) -> Response:
        return json_response(
            {
                "today": self.state.today.isoformat(),
                "now": iso_z(self.state.now()),
                "startDate": self.state.start_date.isoformat(),
                "counts": self.state.counts(),
                "faults": self.faults.config.to_dict(),
                "variants": sorted(self.state.variants),
            }
        )

    async def set_variants(self, request: Request) -> Response:
        """{"variants": ["records_key", ...]}: answer as the real API might (sandbox/variants.py)."""
        try:
            chosen = parse_variants((await self._json(request)).get("variants") or [])
        except (ValueError, TypeError, AttributeError) as exc:
            return error_response(400, str(exc))
        with self.state.lock:
            self.state.variants = chosen
        return json_response({"variants": sorted(chosen)})

    async def get_openapi(self, request: Request) -> Response:
        return json_response(self.openapi())
