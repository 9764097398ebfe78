"""Talking to a running sandbox from outside it: the environment variable that carries its provisioning
token, a free local port to serve it on, and `SandboxControl`, the httpx client for the /_sandbox/ API.

Kept apart from `server.py` (which builds the app and runs uvicorn) and `cli.py` (which parses arguments), so
both can read the constant without importing each other: cli -> server only."""

from __future__ import annotations

import socket
from datetime import datetime
from typing import Any

import httpx

from confirma_pipeline.api import contract as c

PROVISIONING_TOKEN_ENV = "CONFIRMA_SANDBOX_PROVISIONING_TOKEN"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class SandboxControl:
    """A small httpx client for the /_sandbox/ control API."""

    def __init__(self, url: str, timeout_s: float = 60.0) -> None:
        self._http = httpx.Client(base_url=url.rstrip("/") + c.SANDBOX_CONTROL_PREFIX, timeout=timeout_s)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def advance(self, days: int = 1) -> dict[str, Any]:
        return self._call("POST", "/advance", json={"days": days})

    def set_faults(
        self,
        *,
        error_rate: float = 0.0,
        error_statuses: list[int] | None = None,
        rate_limit_rate: float = 0.0,
        retry_after_s: float = 1.0,
        drop_rate: float = 0.0,
        drop_after_commit_rate: float = 0.0,
        latency_ms: int = 0,
    ) -> dict[str, Any]:
        body = {
            "error_rate": error_rate,
            "error_statuses": error_statuses or [500, 502, 503],
            "rate_limit_rate": rate_limit_rate,
            "retry_after_s": retry_after_s,
            "drop_rate": drop_rate,
            "drop_after_commit_rate": drop_after_commit_rate,
            "latency_ms": latency_ms,
        }
        return self._call("POST", "/faults", json=body)

    def set_accounting(self, *, failure_rate: float = 0.0, sync_delay_days: int = 1) -> dict[str, Any]:
        """How the simulated accounting systems treat queued items (see `sandbox/accounting.py`)."""
        return self._call(
            "POST", "/accounting", json={"failureRate": failure_rate, "syncDelayDays": sync_delay_days}
        )

    def clear_faults(self) -> dict[str, Any]:
        return self._call("POST", "/faults", json={})

    def journal(self, kind: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/journal", params={"kind": kind} if kind else None)["entries"]

    def set_variants(self, *names: str) -> dict[str, Any]:
        """Answer as the real API might (sandbox/variants.py); no names = the standard sandbox."""
        return self._call("POST", "/variants", json={"variants": list(names)})

    def reset(self) -> dict[str, Any]:
        return self._call("POST", "/reset")

    def expire_token(self, client_identifier: int, expires_at: datetime | str | None) -> dict[str, Any]:
        value = expires_at.isoformat() if isinstance(expires_at, datetime) else expires_at
        return self._call(
            "POST", "/tokens/expire", json={"clientIdentifier": client_identifier, "expiresAt": value}
        )

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/state")

    def openapi(self) -> dict[str, Any]:
        return self._call("GET", "/openapi.json")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SandboxControl:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
