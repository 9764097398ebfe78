"""`create_app`: the stateful local Confirma sandbox as a Starlette application.

It builds the one `Sandbox` the routes share (sandbox/service.py), mounts every area's routes
(sandbox/routes/) and puts the rate limit and the fault injection in front of them."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware

from confirma_pipeline.sandbox.auth import Authenticator
from confirma_pipeline.sandbox.faults import FaultInjector, FaultMiddleware, silence_drop_logs
from confirma_pipeline.sandbox.ratelimit import RateLimitMiddleware
from confirma_pipeline.sandbox.routes import all_routes
from confirma_pipeline.sandbox.service import Sandbox
from confirma_pipeline.sandbox.state import SandboxState

_log = logging.getLogger("confirma_pipeline.sandbox")


def create_app(
    provisioning_token: str,
    *,
    state_file: Path | None = None,
    latency_ms: int = 0,
    seed: int = 0,
    start_date: date | None = None,
    strict_identifiers: bool = False,
    rate_limit_per_s: float = 0.0,
) -> Starlette:
    """The sandbox app. With `state_file`, state is loaded from it if present and saved on shutdown and after
    every control call. `latency_ms` delays every partner call (asyncio.sleep). `strict_identifiers` turns on
    the business-id/IBAN/reference checksum checks (off by default: the docs' own examples fail them).
    `rate_limit_per_s` > 0 answers 429 above that many partner requests per second (sandbox/ratelimit.py)."""
    state = SandboxState(start_date=start_date, seed=seed)
    state_path = Path(state_file) if state_file is not None else None
    if state_path is not None and state.load(state_path):
        _log.info("sandbox state loaded from %s", state_path)
    sandbox = Sandbox(
        state=state,
        faults=FaultInjector(base_latency_ms=latency_ms, seed=seed),
        auth=Authenticator(state, provisioning_token),
        state_file=state_path,
        strict_identifiers=strict_identifiers,
    )
    silence_drop_logs()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        sandbox.persist()

    app = Starlette(
        routes=all_routes(sandbox),
        middleware=[
            Middleware(RateLimitMiddleware, limit_per_s=rate_limit_per_s),
            Middleware(FaultMiddleware, injector=sandbox.faults),
        ],
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    return app
