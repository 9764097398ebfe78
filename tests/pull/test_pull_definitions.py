"""The pulled assets as the code location shows them: keys, groups, lineage, partitions, backfill policy, pools,
retries, table metadata and column schemas, and the checks with their severities."""

from __future__ import annotations

import dagster as dg

from confirma_pipeline.definitions import defs
from confirma_pipeline.defs.lib.policies import API_POOL, API_RETRY_POLICY

PULLED = {
    "payments": ("receivables", "confirma.payments", {"submitted_invoices", "client_credentials"}),
    "settlements": ("receivables", "confirma.settlements", {"submitted_invoices", "client_credentials"}),
    "distribution": ("invoicing", "confirma.distribution", {"submitted_invoices", "client_credentials"}),
    "cases": ("invoicing", "confirma.cases", {"distribution", "client_credentials"}),
    "finvoice_credentials": (
        "invoicing",
        "confirma.finvoice_credentials",
        {"submitted_invoices", "client_credentials"},
    ),
    "client_credentials": ("onboarding", "confirma.client_credentials", {"onboarded_clients"}),
}
DAILY = {"payments", "settlements", "distribution"}


def test_pulled_assets_are_wired_as_designed():
    definitions = defs()
    dg.Definitions.validate_loadable(definitions)
    graph = definitions.resolve_asset_graph()
    for name, (group, table, parents) in PULLED.items():
        node = graph.get(dg.AssetKey(name))
        spec = node.assets_def.specs_by_key[dg.AssetKey(name)]
        assert spec.group_name == group, name
        assert {k.to_user_string() for k in node.parent_keys} == parents, name
        assert spec.metadata["dagster/table_name"] == table
        assert spec.metadata["dagster/column_schema"].columns, name
        assert {"api", "postgres"} <= set(spec.kinds)
        assert node.assets_def.op.pool == API_POOL
        assert node.assets_def.op.retry_policy == API_RETRY_POLICY
        partitions = node.partitions_def
        if name in DAILY:
            assert (
                isinstance(partitions, dg.DailyPartitionsDefinition)
                and partitions.timezone == "Europe/Helsinki"
            )
            assert partitions.start.date().isoformat() == "2020-01-01"
            assert node.assets_def.backfill_policy == dg.BackfillPolicy.single_run()
        else:
            assert partitions is None, name


def test_checks_and_severities():
    graph = defs().resolve_asset_graph()
    checks = {k.to_user_string() for k in graph.asset_check_keys}
    expected = {
        "settlements:settlement_breakdowns_sum_to_allocations",
        "settlements:settlement_allocations_sum_to_amount",
        "settlements:settlement_allocations_match_invoices",
        "settlements:settlements_not_lost",
        "settlements:freshness_check",
        "payments:freshness_check",
        "client_credentials:client_credentials_usable",
        "payments:all_clients_pulled",
    }
    assert expected <= checks
    blocking = {
        k.name
        for k in graph.asset_check_keys
        if graph.get(k).blocking and k.asset_key == dg.AssetKey("settlements")
    }
    assert blocking == {"settlement_breakdowns_sum_to_allocations", "settlement_allocations_sum_to_amount"}
