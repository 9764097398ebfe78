"""X-Api-Key checks: provisioning token for create-client, client tokens (with optional expiry) elsewhere.

401 = missing, unknown or expired token; 403 = a token of the wrong kind (see api/contract.py).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox.responses import error_response
from confirma_pipeline.sandbox.state import SandboxState, parse_iso_datetime


@dataclass(frozen=True)
class Caller:
    client_id: int
    token: str
    expired: bool
    expires_at: str | None


class Authenticator:
    def __init__(self, state: SandboxState, provisioning_token: str) -> None:
        if not provisioning_token:
            raise ValueError("the sandbox needs a provisioning token")
        self._state = state
        self._provisioning = provisioning_token.encode()

    def _is_provisioning(self, key: str) -> bool:
        return hmac.compare_digest(key.encode(), self._provisioning)

    def provisioning(self, request: Request) -> Response | None:
        """None when the caller holds the provisioning token, else the 401/403 answer."""
        key = request.headers.get(c.API_KEY_HEADER)
        if not key:
            return error_response(c.STATUS_UNAUTHORIZED, "Missing X-Api-Key header")
        if self._is_provisioning(key):
            return None
        if key in self._state.tokens:
            return error_response(c.STATUS_FORBIDDEN, "A client token cannot create clients")
        return error_response(c.STATUS_UNAUTHORIZED, "Invalid API key")

    def client(self, request: Request, *, allow_expired: bool = False) -> Caller | Response:
        key = request.headers.get(c.API_KEY_HEADER)
        if not key:
            return error_response(c.STATUS_UNAUTHORIZED, "Missing X-Api-Key header")
        info = self._state.tokens.get(key)
        if info is None:
            if self._is_provisioning(key):
                return error_response(c.STATUS_FORBIDDEN, "The provisioning token only creates clients")
            return error_response(c.STATUS_UNAUTHORIZED, "Invalid API key")
        expires_at = info.get("expiresAt")
        expired = bool(expires_at) and parse_iso_datetime(expires_at) <= self._state.now()
        if expired and not allow_expired:
            return error_response(c.STATUS_UNAUTHORIZED, c.TOKEN_EXPIRED_MESSAGE)
        return Caller(info["clientIdentifier"], key, expired, expires_at)
