"""Client tokens: every stored client API token validated nightly, renewed when invalid or expiring.

The asset keeps its key `client_credentials` (and the analysts' view `confirma.client_credentials`): every
asset that calls the API with client tokens depends on it by that key (`defs/lib/policies.CLIENT_TOKENS`).
"""

# No `from __future__ import annotations`: Dagster resolves Config annotations at definition time.
import dagster as dg

from confirma_pipeline.defs.lib.metadata import markdown_table
from confirma_pipeline.defs.lib.pulled import finding_check, pulled_asset
from confirma_pipeline.pull.client_tokens import TARGET as CLIENT_TOKENS_VIEW
from confirma_pipeline.pull.client_tokens import refresh_client_tokens
from confirma_pipeline.warehouse.findings import unusable_client_tokens


class CredentialsConfig(dg.Config):
    creditor_ids: list[str] | None = None  # limit to these clients
    renew_within_days: int = 14  # renew a valid token that expires within this many days


client_credentials = pulled_asset(
    refresh_client_tokens,
    key="client_credentials",
    target=CLIENT_TOKENS_VIEW,
    all_clients_check=False,
    group="onboarding",
    deps=("onboarded_clients",),
    config=CredentialsConfig,
    description="""Status of every stored client API token: each is validated (`GET /validate`); one that is invalid,
    expired or expires within `renew_within_days` is renewed (`GET /renew`, which also works on expired
    tokens) and the new token is encrypted and stored at once (the old one dies on renewal). Analysts see
    confirma.client_credentials: status, message, expiry, last validated, last renewed and a short
    fingerprint, never the token. One client's 401 marks that client invalid and does not stop the others;
    pulls skip clients whose token is invalid until a renewal succeeds.""",
)

client_credentials_usable = finding_check(
    "client_credentials_usable",
    "client_credentials",
    unusable_client_tokens,
    description="Client tokens still invalid or expired after this run's renewals (import a new token)",
    ok="every stored token is usable",
    bad="{count} client token(s) invalid or expired; import a new token "
    "(confirma-pipeline tokens import --creditor-id ID)",
    metadata=lambda finding: {
        "unusable": dg.MetadataValue.int(finding.count),
        "clients": markdown_table(
            [{"creditor_id": r["creditor_id"], "status": r["status"]} for r in finding.sample]
        ),
    },
)
