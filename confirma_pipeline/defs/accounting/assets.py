"""Accounting assets: source vouchers and payments -> accounting submissions -> accounting sync status."""

# No `from __future__ import annotations`: Dagster resolves Config annotations at definition time.
from typing import Optional

import dagster as dg

from confirma_pipeline.defs.lib.metadata import OWNERS, markdown_table
from confirma_pipeline.defs.lib.policies import API_POOL, API_RETRY_POLICY, CLIENT_TOKENS
from confirma_pipeline.defs.lib.pulled import ALL_CLIENTS_PULLED, definition_metadata, run_pull
from confirma_pipeline.defs.lib.push_assets import PushAsset, SourceTable, push_assets
from confirma_pipeline.defs.resources import ConfirmaApiResource, TokenVaultResource, WarehouseResource
from confirma_pipeline.validation.accounting import (
    AccountingPaymentModel,
    AccountingSubmissionModel,
    AccountingSyncModel,
    LedgerVoucherModel,
)

GROUP = "accounting"
SUBMISSIONS_TABLE = "confirma.accounting_submissions"
SYNC_TABLE = "confirma.accounting_sync"


class AccountingConfig(dg.Config):
    """Run config of the accounting assets (no dry run: push/accounting.py has none)."""

    creditor_ids: Optional[list[str]] = None  # noqa: UP045 - Dagster config needs Optional  # limit to these clients


def _push(ctx, config, confirma_api):
    from confirma_pipeline.push.accounting import push_accounting

    return push_accounting(ctx)


def _metadata(reports, conn) -> dict:
    """Each kind's counts (ledger_pushed, payment_pushed, ...) and the ledger's states per kind."""
    from confirma_pipeline.warehouse.accounting_submissions import state_counts

    return {
        **{
            f"{kind}_{k}": dg.MetadataValue.int(int(v))
            for kind, report in reports.items()
            for k, v in report.totals().items()
        },
        "states": markdown_table(
            [{"kind": k, "state": s, "count": n} for (k, s), n in sorted(state_counts(conn).items())]
        ),
    }


source_ledger_vouchers, source_accounting_payments, accounting_submissions = push_assets(
    PushAsset(
        name="accounting_submissions",
        group=GROUP,
        description=(
            "Our submission ledger of the accounting add-on: every voucher (one per POST accounting/ledger) and "
            "accounting payment (batched into POST accounting/payment) of an onboarded client, sent exactly "
            "once (pending -> in_flight -> submitted | rejected | failed). Interrupted sends are looked up by "
            "the status endpoints (sourceIdentifier) before any resend; invalid items are quarantined with "
            "every reason."
        ),
        sources=[
            SourceTable(
                "source_ledger_vouchers",
                "Ledger vouchers to send (confirma_source.ledger_vouchers with ledger_voucher_rows and "
                "ledger_row_dimensions): every SEEN field of the POST accounting/ledger example.",
                "confirma_source.ledger_vouchers",
                LedgerVoucherModel,
            ),
            SourceTable(
                "source_accounting_payments",
                "Accounting payments to send (confirma_source.accounting_payments).",
                "confirma_source.accounting_payments",
                AccountingPaymentModel,
            ),
        ],
        deps=["onboarded_clients", CLIENT_TOKENS],
        table=SUBMISSIONS_TABLE,
        model=AccountingSubmissionModel,
        push=_push,
        metadata=_metadata,
        summary=lambda reports: [report.summary_line() for report in reports.values()],
        config=AccountingConfig,
    )
)


@dg.asset(
    deps=["accounting_submissions", CLIENT_TOKENS],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"api", "postgres"},
    pool=API_POOL,
    retry_policy=API_RETRY_POLICY,
    metadata=definition_metadata(SYNC_TABLE, AccountingSyncModel),
    check_specs=[
        dg.AssetCheckSpec(
            ALL_CLIENTS_PULLED,
            asset="accounting_sync_status",
            description="Every active client was pulled (a client whose token was refused is skipped and named)",
        )
    ],
)
def accounting_sync_status(
    context: dg.AssetExecutionContext,
    config: AccountingConfig,
    warehouse: WarehouseResource,
    confirma_api: ConfirmaApiResource,
    token_vault: TokenVaultResource,
) -> dg.MaterializeResult:
    """Sync status of every submitted voucher and payment (GET accounting/ledger and accounting/payment):
    0 pending, 1 synced (SEEN), 2 failed (INFERRED), with the sync date and the target system's text. One
    call per client and kind covers the dates of the items still waiting; final items are not asked again."""
    from confirma_pipeline.pull.accounting_sync import pull_accounting_sync

    def pull(client, vault):
        report = pull_accounting_sync(
            dsn=warehouse.dsn,
            client=client,
            vault=vault,
            creditor_ids=config.creditor_ids,
            logger=context.log,
        )
        context.log.info(report.summary_line())
        report.raise_for_failures()
        return report

    return run_pull(context, warehouse, confirma_api, token_vault, pull, SYNC_TABLE, AccountingSyncModel)
