"""The push assets as the code location shows them, one row per asset: the factory (defs/lib/push_assets.py)
gives each the same pool, retries, kinds, owners and run config, and the record its group, ledger, lineage."""

from __future__ import annotations

import dagster as dg
import pytest

from confirma_pipeline.definitions import defs
from confirma_pipeline.defs.lib.policies import API_POOL, API_RETRY_POLICY

PUSHED = {
    # asset: (group, ledger table, parents, run config fields)
    "onboarded_clients": (
        "onboarding",
        "confirma.clients",
        {"source_creditors"},
        {"dry_run", "creditor_ids"},
    ),
    "submitted_invoices": (
        "invoicing",
        "confirma.invoice_ledger",
        {"source_invoices", "onboarded_clients", "client_credentials"},
        {"dry_run", "creditor_ids", "shard", "shards"},
    ),
    "invoice_actions": (
        "invoicing",
        "confirma.invoice_action_ledger",
        {"source_invoice_actions", "submitted_invoices", "distribution", "client_credentials"},
        {"dry_run", "creditor_ids"},
    ),
    "accounting_submissions": (
        "accounting",
        "confirma.accounting_submissions",
        {"source_ledger_vouchers", "source_accounting_payments", "onboarded_clients", "client_credentials"},
        {"creditor_ids"},  # push/accounting.py has no dry run, so the launchpad offers none
    ),
}


@pytest.fixture(scope="module")
def graph():
    return defs().resolve_asset_graph()


@pytest.mark.parametrize("name", sorted(PUSHED))
def test_push_asset_is_wired_as_its_record_says(graph, name):
    group, table, parents, config_fields = PUSHED[name]
    node = graph.get(dg.AssetKey(name))
    spec = node.assets_def.specs_by_key[dg.AssetKey(name)]
    assert spec.group_name == group
    assert {k.to_user_string() for k in node.parent_keys} == parents
    assert spec.metadata["dagster/table_name"] == table
    assert spec.metadata["dagster/column_schema"].columns
    assert set(spec.kinds) == {"api", "postgres"}
    assert spec.owners and spec.description
    op = node.assets_def.op
    assert op.name == name  # run config is addressed to ops by the asset's name
    assert op.pool == API_POOL and op.retry_policy == API_RETRY_POLICY
    assert set(op.config_schema.as_field().config_type.fields) == config_fields
    assert node.partitions_def is None
    assert op.required_resource_keys == {"warehouse", "confirma_api", "token_vault"}
