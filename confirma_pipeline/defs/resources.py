"""Resources: the warehouse, the Confirma API and the token vault, all fed by `EnvVar`.

Nothing here connects or reads a secret at import time. Only the *presence* of optional
variables is looked at when the code location loads, to decide between an `EnvVar` (resolved
by Dagster at run start, never shown in the UI) and the local default (embedded warehouse,
sandbox API, demo key file). A required setting that is missing fails at run start with a
message that names the variable (see `ConfirmaApiResource.setup_for_execution`).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import dagster as dg
from pydantic import PrivateAttr

from confirma_pipeline.errors import ConfigError


def _env_or_none(name: str) -> dg.EnvVar | None:
    return dg.EnvVar(name) if os.environ.get(name) else None


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse. Without a DSN, the embedded server under CONFIRMA_DATA_DIR.

    The input relations are configurable so a user can point at their own tables or views."""

    dsn: str | None = None
    creditors_relation: str = "confirma_source.creditors"
    invoices_relation: str = "confirma_source.invoices"
    invoice_rows_relation: str = "confirma_source.invoice_rows"
    auto_migrate: bool = True

    def __repr__(self) -> str:  # the DSN may carry a password
        return f"WarehouseResource(dsn={'<set>' if self.dsn else '<embedded>'})"

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Every run's first step: all settings are checked here, so a bad one fails the run in one line.
        from confirma_pipeline import settings

        settings.check()
        settings.parse("WAREHOUSE_DSN", self.dsn)
        if self.auto_migrate:
            from confirma_pipeline.warehouse.migrations import apply_migrations

            with self.connect() as conn:
                apply_migrations(conn)

    def connect(self, *, autocommit: bool = False):
        from confirma_pipeline.warehouse.connection import connect

        return connect(self.dsn, autocommit=autocommit)

    def relations(self):
        """The configured input relations, as the push code takes them."""
        from confirma_pipeline.warehouse.source import Relations

        return Relations(self.creditors_relation, self.invoices_relation, self.invoice_rows_relation)


class ConfirmaApiResource(dg.ConfigurableResource):
    """The Confirma Partner API: environment, provisioning token and transport settings.

    `environment` is sandbox (local, the default), staging or production. The provisioning
    token is only needed to onboard new clients, so it is checked when onboarding runs."""

    environment: str = "sandbox"
    sandbox_url: str | None = None
    base_url: str | None = None  # CONFIRMA_BASE_URL: overrides the environment's URL
    provisioning_token: str | None = None
    partner_code: str | None = None  # CONFIRMA_PARTNER_CODE: fills a creditor's blank partner_code
    # Ceilings of the adaptive request limit (api/ratelimit.py); no fixed cap by default.
    max_requests_per_s: str | None = None  # CONFIRMA_MAX_REQUESTS_PER_S; unset or 0: no ceiling
    concurrency: int = 32  # CONFIRMA_CONCURRENCY
    timeout_s: float = 30.0
    connect_timeout_s: float = 5.0
    max_retries: int = 5

    _client = PrivateAttr(default=None)

    def __repr__(self) -> str:  # never show the token
        return f"ConfirmaApiResource(environment={self.environment!r})"

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        from confirma_pipeline import settings

        settings.check()
        settings.parse("CONFIRMA_ENV", self.environment)
        settings.parse("CONFIRMA_SANDBOX_URL", self.sandbox_url)
        settings.parse("CONFIRMA_BASE_URL", self.base_url)
        settings.max_requests_per_s(self.max_requests_per_s)  # a bad value fails here, naming the variable
        settings.api_concurrency(self.concurrency)

    def require_provisioning_token(self) -> str:
        if not self.provisioning_token:
            raise ConfigError("CONFIRMA_PROVISIONING_TOKEN: not set; it is needed to onboard new clients")
        return self.provisioning_token

    @contextmanager
    def get_client(self):
        """A pooled `ConfirmaClient` for the duration of a step."""
        from confirma_pipeline import settings

        client = settings.client_for(
            self.environment,
            sandbox_url=self.sandbox_url,
            base_url=self.base_url,
            provisioning_token=self.provisioning_token,
            max_requests=self.max_requests_per_s,
            concurrency=self.concurrency,
            timeout_s=self.timeout_s,
            connect_timeout_s=self.connect_timeout_s,
            max_retries=self.max_retries,
        )
        try:
            yield client
            _fail_if_the_api_served_nothing(client)
        finally:
            client.close()


def _fail_if_the_api_served_nothing(client) -> None:
    """A step whose requests never reached the API, or were all answered 5xx/429, did nothing: fail it so
    the run is red and the run-failure alert goes out. (Requests sent and then lost are not this: their
    rows are unknown, the stuck-rows ERROR check fails and alerts.) Not retried by Dagster: the client already retried each request
    with backoff for tens of seconds, so the API was down for the whole step. What the step recorded
    (failed or unknown rows) stays recorded; nothing is resent on a guess."""
    if not client.calls_made or client.calls_served:
        return
    if client.calls_reached and not client.calls_server_errors:  # only lost answers: rows are unknown
        return
    what = "reached it" if not client.calls_reached else "was answered with anything but 5xx/429"
    raise dg.Failure(
        description=f"Confirma API ({client.base_url}): none of {client.calls_made} request(s) {what}",
        allow_retries=False,
    )


class TokenVaultResource(dg.ConfigurableResource):
    """Encryption key(s) for client tokens at rest: CONFIRMA_TOKEN_KEY (comma-separated for
    rotation, first one encrypts) or a key file CONFIRMA_TOKEN_KEY_FILE."""

    key: str | None = None
    key_file: str | None = None

    def __repr__(self) -> str:
        return "TokenVaultResource(<redacted>)"

    def get_vault(self):
        from confirma_pipeline.vault import TokenVault

        return TokenVault.from_env(
            {"CONFIRMA_TOKEN_KEY": self.key or "", "CONFIRMA_TOKEN_KEY_FILE": self.key_file or ""}
        )


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": WarehouseResource(dsn=_env_or_none("WAREHOUSE_DSN")),
        "confirma_api": ConfirmaApiResource(
            environment=os.environ.get("CONFIRMA_ENV", "sandbox"),
            sandbox_url=_env_or_none("CONFIRMA_SANDBOX_URL"),
            base_url=_env_or_none("CONFIRMA_BASE_URL"),
            provisioning_token=_env_or_none("CONFIRMA_PROVISIONING_TOKEN"),
            partner_code=_env_or_none("CONFIRMA_PARTNER_CODE"),
            max_requests_per_s=_env_or_none("CONFIRMA_MAX_REQUESTS_PER_S"),
            **(
                {"concurrency": dg.EnvVar.int("CONFIRMA_CONCURRENCY")}
                if os.environ.get("CONFIRMA_CONCURRENCY")
                else {}
            ),
        ),
        "token_vault": TokenVaultResource(
            key=_env_or_none("CONFIRMA_TOKEN_KEY"), key_file=_env_or_none("CONFIRMA_TOKEN_KEY_FILE")
        ),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
