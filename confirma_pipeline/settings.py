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


def api_client(*, require_provisioning: bool = False, concurrency: int = 32):
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
        rate_limit_per_s=float(os.environ.get("CONFIRMA_RATE_LIMIT_PER_S", "50")),
        max_connections=concurrency,
    )


def token_vault():
    from confirma_pipeline.vault import TokenVault

    return TokenVault.from_env()
