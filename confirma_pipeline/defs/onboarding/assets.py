"""Onboarding: warehouse creditors -> Confirma clients (the client registry)."""

from confirma_pipeline.defs.lib.push_assets import PushAsset, SourceTable, push_assets
from confirma_pipeline.validation import CreditorModel
from confirma_pipeline.validation.push_state import ClientRegistryModel


def _onboard(ctx, config, confirma_api):
    from confirma_pipeline.push.onboarding import onboard_clients

    return onboard_clients(ctx, dry_run=config.dry_run, partner_code=confirma_api.partner_code)


source_creditors, onboarded_clients = push_assets(
    PushAsset(
        name="onboarded_clients",
        group="onboarding",
        description=(
            "The client registry: creditors created as Confirma clients (POST /client with the provisioning "
            "token), with their encrypted API tokens. Invalid creditors are quarantined in "
            "confirma.rejected_rows with every reason; a client whose creation outcome is unknown is never "
            "resent automatically (see the stuck-rows check)."
        ),
        sources=[
            SourceTable(
                "source_creditors",
                "Creditors to onboard, as the warehouse's input contract (one row per creditor, every field of "
                "the create-client body). Filled by the user or mapped onto their own table or view.",
                "confirma_source.creditors",
                CreditorModel,
            )
        ],
        table="confirma.clients",
        model=ClientRegistryModel,
        push=_onboard,
        run_log_entity="client",
        vault_in_dry_run=False,
    )
)
