"""Lineage analysts rely on: a snapshot of the asset graph that fails when it changes without the
snapshot being updated on purpose (`UPDATE_SNAPSHOTS=1 make test` rewrites it), and the metadata
every asset must carry."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest

SNAPSHOT = Path(__file__).with_name("asset_graph.snapshot.json")


@pytest.fixture(scope="module")
def loaded():
    from confirma_pipeline.definitions import defs

    return defs()


def graph_summary(loaded: dg.Definitions) -> dict:
    graph = loaded.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = node.partitions_def
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "partitions": None
            if partitions is None
            else type(partitions).__name__
            + (f"({partitions.timezone})" if hasattr(partitions, "timezone") else ""),
            "materializable": node.is_materializable,
            "checks": sorted(c.name for c in node.check_keys),
        }
    checks = {}
    for check_key in graph.asset_check_keys:
        spec = graph.get_check_spec(check_key)
        checks[f"{spec.asset_key.to_user_string()}:{spec.name}"] = {"blocking": spec.blocking}
    return {
        "assets": assets,
        "checks": dict(sorted(checks.items())),
        "jobs": sorted(j.name for j in loaded.jobs),
        "schedules": sorted(s.name for s in loaded.schedules),
        "sensors": sorted(s.name for s in loaded.sensors),
    }


def test_asset_graph_matches_snapshot(loaded):
    current = graph_summary(loaded)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert SNAPSHOT.exists(), "no snapshot yet: run UPDATE_SNAPSHOTS=1 make test and commit it"
    assert current == json.loads(SNAPSHOT.read_text()), (
        "the asset graph changed; if on purpose, run UPDATE_SNAPSHOTS=1 make test and commit the snapshot"
    )


def test_every_asset_carries_lineage_metadata(loaded):
    graph = loaded.resolve_asset_graph()
    groups = set()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        spec = node.to_asset_spec()
        name = key.to_user_string()
        groups.add(node.group_name)
        assert spec.description, f"{name} has no description"
        assert spec.owners, f"{name} has no owners"
        assert spec.kinds, f"{name} has no kinds"
        assert "dagster/table_name" in spec.metadata, f"{name} has no dagster/table_name"
        assert "dagster/column_schema" in spec.metadata, f"{name} has no column schema"
    assert groups == {"onboarding", "invoicing", "receivables", "accounting"}


def test_warehouse_input_tables_are_the_roots(loaded):
    graph = loaded.resolve_asset_graph()
    roots = {k.to_user_string() for k in graph.get_all_asset_keys() if not graph.get(k).parent_keys}
    assert roots == {
        "source_creditors",
        "source_invoices",
        "source_ledger_vouchers",
        "source_accounting_payments",
        "source_invoice_actions",
    }
