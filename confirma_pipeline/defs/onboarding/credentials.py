"""Client credentials: every stored client token validated nightly, renewed when invalid or expiring."""

# No `from __future__ import annotations`: Dagster resolves Config annotations at definition time.
import dagster as dg

from confirma_pipeline.defs.lib.metadata import OWNERS, markdown_table
from confirma_pipeline.defs.lib.policies import API_POOL, API_RETRY_POLICY, PULLED_FRESHNESS
from confirma_pipeline.defs.lib.pulled import definition_metadata, run_pull
from confirma_pipeline.defs.onboarding.assets import onboarded_clients
from confirma_pipeline.defs.resources import ConfirmaApiResource, TokenVaultResource, WarehouseResource
from confirma_pipeline.validation.writeback import ClientCredentialModel

TABLE = "confirma.client_credentials"


class CredentialsConfig(dg.Config):
    creditor_ids: list[str] | None = None  # limit to these clients
    renew_within_days: int = 14  # renew a valid token that expires within this many days


@dg.asset(
    deps=[onboarded_clients],
    group_name="onboarding",
    owners=OWNERS,
    kinds={"api", "postgres"},
    pool=API_POOL,
    retry_policy=API_RETRY_POLICY,
    freshness_policy=PULLED_FRESHNESS,
    metadata=definition_metadata(TABLE, ClientCredentialModel),
)
def client_credentials(
    context: dg.AssetExecutionContext,
    config: CredentialsConfig,
    warehouse: WarehouseResource,
    confirma_api: ConfirmaApiResource,
    token_vault: TokenVaultResource,
) -> dg.MaterializeResult:
    """Status of every stored client API token: each is validated (`GET /validate`); one that is invalid,
    expired or expires within `renew_within_days` is renewed (`GET /renew`, which also works on expired
    tokens) and the new token is encrypted and stored at once (the old one dies on renewal). Analysts see
    confirma.client_credentials: status, message, expiry, last validated, last renewed and a short
    fingerprint, never the token. One client's 401 marks that client invalid and does not stop the others;
    pulls skip clients whose token is invalid until a renewal succeeds."""
    from confirma_pipeline.pull.credentials import refresh_credentials

    return run_pull(
        context,
        warehouse,
        confirma_api,
        token_vault,
        lambda client, vault: refresh_credentials(
            warehouse.dsn,
            client,
            vault,
            creditor_ids=config.creditor_ids,
            logger=context.log,
            renew_within_days=config.renew_within_days,
            concurrency=confirma_api.concurrency,
        ),
        TABLE,
        ClientCredentialModel,
        all_clients_check=False,
    )


@dg.asset_check(
    asset=client_credentials,
    description="Client tokens still invalid or expired after this run's renewals (import a new token)",
)
def client_credentials_usable(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from confirma_pipeline.pull.checks import unusable_credentials

    with warehouse.connect() as conn:
        finding = unusable_credentials(conn)
    return dg.AssetCheckResult(
        passed=finding.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            "every stored token is usable"
            if finding.passed
            else f"{finding.count} client token(s) invalid or expired; import a new token "
            "(confirma-pipeline tokens import --creditor-id ID)"
        ),
        metadata={
            "unusable": dg.MetadataValue.int(finding.count),
            "clients": markdown_table(
                [{"creditor_id": r["creditor_id"], "status": r["status"]} for r in finding.sample]
            ),
        },
    )
