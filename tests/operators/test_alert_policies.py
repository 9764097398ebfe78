"""alert_policies.yaml is what `dagster-cloud deployment alert-policies sync` sends. dagster-cloud-cli has no
schema of its own (Dagster+ validates server-side), so this checks the keys the Dagster+ YAML reference
requires, the event types the issue asks for, and that every target names a real group of this location."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {"name", "enabled", "event_types", "notification_service"}
ALLOWED = REQUIRED | {"description", "alert_targets", "policy_options"}


def _policies() -> list[dict]:
    from dagster_cloud_cli.commands.deployment.alert_policies.commands import (
        DEFAULT_ALERT_POLICIES_YAML_FILENAME,
    )
    from dagster_shared.yaml_utils import safe_load_yaml  # what the CLI's sync command parses with

    path = ROOT / DEFAULT_ALERT_POLICIES_YAML_FILENAME
    return safe_load_yaml(path.read_text())["alert_policies"]


def test_policies_have_the_required_keys_and_unique_names():
    policies = _policies()
    for policy in policies:
        assert REQUIRED <= set(policy) <= ALLOWED, policy["name"]
        assert isinstance(policy["enabled"], bool) and policy["event_types"]
        assert len(policy["notification_service"]) == 1
    assert len({p["name"] for p in policies}) == len(policies)


def test_job_failure_check_error_and_freshness_are_covered():
    events = {e for p in _policies() for e in p["event_types"]}
    assert {"JOB_FAILURE", "ASSET_CHECK_SEVERITY_ERROR", "ASSET_FRESHNESS_FAIL"} <= events


def test_targets_name_groups_of_this_code_location_and_cover_every_group_with_checks():
    """The ERROR-check policy must target every group whose assets have checks, so a new domain (as accounting
    once was) cannot be forgotten. A check's severity is chosen when it is evaluated (AssetCheckResult), not
    declared on its spec, so every group with checks counts: each has ERROR checks today."""
    from confirma_pipeline.definitions import defs

    location = yaml.safe_load((ROOT / "dagster_cloud.yaml").read_text())["locations"][0]["location_name"]
    loaded = defs()
    group_of = {spec.key: spec.group_name for spec in loaded.resolve_all_asset_specs()}
    with_checks = {group_of[key.asset_key] for key in loaded.resolve_asset_graph().asset_check_keys}
    for policy in _policies():
        for target in policy.get("alert_targets", []):
            group = target["asset_group_target"]
            assert group["location_name"] == location and group["asset_group"] in set(group_of.values())
    (error_policy,) = [p for p in _policies() if "ASSET_CHECK_SEVERITY_ERROR" in p["event_types"]]
    targeted = {t["asset_group_target"]["asset_group"] for t in error_policy["alert_targets"]}
    assert with_checks and with_checks <= targeted, with_checks - targeted
