"""The client's adaptive limit against the sandbox's rate-limit mode, over real HTTP: no fixed cap, and a
server that answers 429 above N requests/s gets paced down to it instead of being hammered."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from confirma_pipeline.api import ConfirmaClient, run_bounded
from confirma_pipeline.sandbox import SandboxServer
from confirma_pipeline.sandbox.examples import client_body
from confirma_pipeline.sandbox.ratelimit import RateLimitMiddleware

TOKEN = "adaptive-limit-provisioning-token"
LIMIT = 40


@pytest.fixture(scope="module")
def limited() -> Iterator[SandboxServer]:
    with SandboxServer(TOKEN, seed=3, rate_limit_per_s=LIMIT) as server:
        yield server


def _middleware(server: SandboxServer) -> RateLimitMiddleware:
    app = server.app.middleware_stack
    while not isinstance(app, RateLimitMiddleware):
        app = app.app
    return app


def test_the_sandbox_answers_429_with_retry_after_above_its_limit(limited) -> None:
    with ConfirmaClient(limited.url, TOKEN, max_retries=0, max_connections=16) as api:
        token = api.create_client(client_body(1)).access_token
        outcomes = [o for _, o in run_bounded(lambda _: api.validate_token(token), range(3 * LIMIT), 16)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert refused and all(getattr(e, "status", None) == 429 for e in refused)
    with httpx.Client(
        base_url=limited.url
    ) as raw:  # a burst past the limit: 429 with a whole-second Retry-After
        answers = [
            raw.get("/api/v1/partner/validate", headers={"X-Api-Key": token}) for _ in range(5 * LIMIT)
        ]
    late = [a for a in answers if a.status_code == 429]
    assert late and all(int(a.headers["Retry-After"]) >= 1 for a in late)


def test_the_client_paces_itself_down_to_a_rate_limited_server(limited) -> None:
    middleware = _middleware(limited)
    with ConfirmaClient(limited.url, TOKEN, max_retries=8, backoff_base_s=0.05, max_connections=16) as api:
        token = api.create_client(client_body(2)).access_token
        throttled_before = middleware.throttled
        outcomes = [o for _, o in run_bounded(lambda _: api.validate_token(token), range(6 * LIMIT), 16)]
        assert not [o for o in outcomes if isinstance(o, Exception)]  # every request answered in the end
        assert api.limiter.rate is not None and api.limiter.rate < 2 * LIMIT  # it learned the server's pace
        throttled = middleware.throttled - throttled_before
    # 16 unpaced threads would be refused most of the time; paced, only the probing ones are.
    assert throttled < len(outcomes) // 4, throttled
