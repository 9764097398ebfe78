"""Latency and fault injection for partner endpoints (never for /_sandbox/ control calls).

Faults are decided BEFORE the request is processed (a faulted create creates nothing), except
`drop_after_commit_rate`, which processes the request and then drops the connection, so the client cannot
know whether it happened. A drop sends a response head announcing a body and then closes the connection,
which httpx reports as RemoteProtocolError.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox.responses import error_body, send_json

#: statuses `error_statuses` may inject: server errors, and refusals (to test how 4xx answers are recorded)
_INJECTABLE = frozenset(range(500, 600)) | {400, 422}


class SandboxDrop(Exception):
    """Raised after a partial response so the server closes the connection."""


class _DropLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, SandboxDrop)


def silence_drop_logs() -> None:
    """Keep uvicorn from logging the deliberate drops as application errors (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropLogFilter) for f in logger.filters):
        logger.addFilter(_DropLogFilter())


@dataclass
class FaultConfig:
    error_rate: float = 0.0
    error_statuses: list[int] = field(default_factory=lambda: [500, 502, 503])
    rate_limit_rate: float = 0.0
    retry_after_s: float = 1.0
    drop_rate: float = 0.0
    drop_after_commit_rate: float = 0.0
    latency_ms: int = 0  # extra latency on top of the server's --latency-ms

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        unknown = set(data) - set(known)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        config = cls(**known)
        for name in ("error_rate", "rate_limit_rate", "drop_rate", "drop_after_commit_rate"):
            value = getattr(config, name)
            if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
        if not config.error_statuses or any(int(s) not in _INJECTABLE for s in config.error_statuses):
            raise ValueError("error_statuses must be 5xx codes, or 400 / 422 (an injected refusal)")
        config.error_statuses = [int(s) for s in config.error_statuses]
        if config.retry_after_s < 0 or config.latency_ms < 0:
            raise ValueError("retry_after_s and latency_ms must not be negative")
        return config

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def any_fault(self) -> bool:
        return bool(self.error_rate or self.rate_limit_rate or self.drop_rate or self.drop_after_commit_rate)


class FaultInjector:
    """Holds the current fault settings and their random source."""

    def __init__(self, base_latency_ms: int = 0, seed: int = 0) -> None:
        self.base_latency_ms = base_latency_ms
        self.config = FaultConfig()
        self.rng = random.Random(seed ^ 0x5EED)

    def set(self, config: FaultConfig) -> None:
        self.config = config

    def clear(self) -> None:
        self.config = FaultConfig()


def _retry_after_value(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


async def _drop(send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4096")]})
    await send({"type": "http.response.body", "body": b'{"partial":', "more_body": True})
    raise SandboxDrop("connection dropped on purpose")


class FaultMiddleware:
    """ASGI middleware applying latency and faults to requests under the partner prefix."""

    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(c.PATH_PREFIX):
            await self.app(scope, receive, send)
            return
        injector = self.injector
        config = injector.config
        latency = (injector.base_latency_ms + config.latency_ms) / 1000
        if config.any_fault:
            if latency:
                await asyncio.sleep(latency)
            if await self._inject(scope, receive, send, config):
                return
            latency = 0.0
        if not latency:
            await self.app(scope, receive, send)
            return
        # Latency is the time from arrival to answer: process at once, then hold the answer back for the rest.
        # (Processing after the sleep would make a burst of requests queue for the CPU all at the same moment.)
        loop = asyncio.get_running_loop()
        started = loop.time()
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        remaining = latency - (loop.time() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)
        for message in messages:
            await send(message)

    async def _inject(self, scope: Scope, receive: Receive, send: Send, config: FaultConfig) -> bool:
        """Apply at most one fault; True when the request has been answered (or dropped) by it."""
        rng = self.injector.rng
        if config.drop_rate and rng.random() < config.drop_rate:
            await _drop(send)
        retry_after = [(b"retry-after", _retry_after_value(config.retry_after_s).encode())]
        if config.rate_limit_rate and rng.random() < config.rate_limit_rate:
            await send_json(send, c.STATUS_RATE_LIMITED, error_body("Too many requests"), retry_after)
            return True
        if config.error_rate and rng.random() < config.error_rate:
            status = rng.choice(config.error_statuses)
            extra = retry_after if status == c.STATUS_UNAVAILABLE else []
            body = (
                error_body("Injected server error")
                if status >= 500
                else error_body("Validation failed", [{"field": "invoice", "message": "refused (injected)"}])
            )
            await send_json(send, status, body, extra)
            return True
        if config.drop_after_commit_rate and rng.random() < config.drop_after_commit_rate:

            async def swallow(message: Message) -> None:
                return None

            await self.app(scope, receive, swallow)
            await _drop(send)
        await self.app(scope, receive, send)
        return True
