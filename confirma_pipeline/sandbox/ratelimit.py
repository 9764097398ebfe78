"""The sandbox's rate-limit mode: at most N partner requests per second, 429 above that.

A sliding one-second window of the requests let through; a request over the limit is answered at once with
429 and a Retry-After (whole seconds, at least 1, until the window has room) and does not count. Control
calls (`/_sandbox/`) are never limited. The Confirma docs state no rate limit; this mode exists so the client's
adaptive limit (api/ratelimit.py) can be exercised against a server that has one.
"""

from __future__ import annotations

import math
import time
from collections import deque

from starlette.types import ASGIApp, Receive, Scope, Send

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox.responses import error_body, send_json


class RateLimitMiddleware:
    """429 for partner requests beyond `limit_per_s` in any one-second window (0: no limit)."""

    def __init__(self, app: ASGIApp, limit_per_s: float = 0.0) -> None:
        if limit_per_s < 0:
            raise ValueError("the rate limit must not be negative")
        self.app = app
        self.limit = int(limit_per_s)
        self.accepted: deque[float] = deque()
        self.throttled = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.limit or scope["type"] != "http" or scope["path"].startswith(c.SANDBOX_CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        now = time.monotonic()
        while self.accepted and self.accepted[0] <= now - 1.0:
            self.accepted.popleft()
        if len(self.accepted) >= self.limit:
            self.throttled += 1
            retry_after = max(1, math.ceil(self.accepted[0] + 1.0 - now))
            headers = [(b"retry-after", str(retry_after).encode())]
            await send_json(send, c.STATUS_RATE_LIMITED, error_body("Too many requests"), headers)
            return
        self.accepted.append(now)
        await self.app(scope, receive, send)
