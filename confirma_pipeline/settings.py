"""Settings read from the environment by the CLI (Dagster reads the same variables via EnvVar
in defs/resources.py). Missing settings fail with a message naming the variable."""

from __future__ import annotations

import os

from confirma_pipeline.errors import ConfigError

ENVIRONMENTS = ("sandbox", "staging", "production")


def environment() -> str:
    env = os.environ.get("CONFIRMA_ENV", "sandbox").strip() or "sandbox"
    if env not in ENVIRONMENTS:
        raise ConfigError(f"CONFIRMA_ENV: unknown environment {env!r} (use {', '.join(ENVIRONMENTS)})")
    return env


def base_url() -> str | None:
    """CONFIRMA_BASE_URL: overrides the base URL of any environment (https; http only to loopback)."""
    from confirma_pipeline.api.client import check_base_url

    url = os.environ.get("CONFIRMA_BASE_URL", "").strip()
    if not url:
        return None
    try:
        return check_base_url(url)
    except ValueError as exc:
        raise ConfigError(f"CONFIRMA_BASE_URL: {exc}") from None


def partner_code() -> str | None:
    """CONFIRMA_PARTNER_CODE: the partner code sent for creditors whose partner_code is blank."""
    return os.environ.get("CONFIRMA_PARTNER_CODE", "").strip() or None


def api_client(*, require_provisioning: bool = False, concurrency: int | None = None):
    """A ConfirmaClient for the configured environment."""
    from confirma_pipeline.api import ConfirmaClient

    env = environment()
    sandbox_url = os.environ.get("CONFIRMA_SANDBOX_URL") or None
    override = base_url()
    if env == "sandbox" and not sandbox_url and not override:
        raise ConfigError(
            "CONFIRMA_SANDBOX_URL: not set; start `confirma-pipeline sandbox` and point it there, "
            "or set CONFIRMA_ENV=staging|production"
        )
    provisioning = os.environ.get("CONFIRMA_PROVISIONING_TOKEN") or None
    if require_provisioning and not provisioning:
        raise ConfigError("CONFIRMA_PROVISIONING_TOKEN: not set; it is needed to onboard new clients")
    return ConfirmaClient.for_environment(
        env,
        sandbox_url=sandbox_url,
        base_url=override,
        provisioning_token=provisioning,
        max_requests_per_s=max_requests_per_s(os.environ.get("CONFIRMA_MAX_REQUESTS_PER_S")),
        max_connections=concurrency or api_concurrency(os.environ.get("CONFIRMA_CONCURRENCY")),
    )


def max_requests_per_s(raw: str | float | None) -> float | None:
    """CONFIRMA_MAX_REQUESTS_PER_S: the ceiling of the adaptive request rate; unset or 0: none (the API
    documents no rate limit; 429s still slow the client down)."""
    value = _number("CONFIRMA_MAX_REQUESTS_PER_S", raw, float, "0", minimum=0)
    return value or None


def api_concurrency(raw: str | int | None) -> int:
    """CONFIRMA_CONCURRENCY: requests in flight at most (the adaptive limit's ceiling), default 32."""
    return _number("CONFIRMA_CONCURRENCY", raw, int, "32", minimum=1)


def _number(name: str, raw, kind: type, default: str, *, minimum: float):
    text = default if raw is None or str(raw).strip() == "" else str(raw).strip()
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{name}: {text!r} is not {'an integer' if kind is int else 'a number'}") from None
    if value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {text}")
    return value


def token_vault():
    from confirma_pipeline.vault import TokenVault

    return TokenVault.from_env()
