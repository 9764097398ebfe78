"""The code location loads, in-process and through Dagster's own CLI, and deploy files parse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_definitions_validate_loadable():
    from confirma_pipeline.definitions import defs

    loaded = defs()
    dg.Definitions.validate_loadable(loaded)
    assert {"warehouse", "confirma_api", "token_vault"} <= set(loaded.resources)


def test_dg_check_defs_exits_zero_without_warnings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFIRMA_", "WAREHOUSE_"))}
    env["DAGSTER_HOME"] = str(tmp_path)
    (tmp_path / "dagster.yaml").write_text("")
    env["VIRTUAL_ENV"] = str(Path(sys.executable).parent.parent)  # as `make` or an activated shell would
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "check", "defs"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "All definitions loaded successfully" in output
    assert "Warning" not in output and "WARNING" not in output, output[-4000:]


def test_code_location_name_agrees_everywhere(tmp_path):
    """pyproject's [tool.dagster] and [tool.dg.project], dagster_cloud.yaml and the workspace file that
    `confirma-pipeline ui` hands to `dagster dev` name the same location (dagster dev warns otherwise)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    from confirma_pipeline.local.ui import CODE_LOCATION_NAME, write_workspace

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    cloud = yaml.safe_load((ROOT / "dagster_cloud.yaml").read_text())
    workspace = yaml.safe_load(write_workspace(tmp_path).read_text())
    names = {
        project["dagster"]["code_location_name"],
        project["dg"]["project"]["code_location_name"],
        cloud["locations"][0]["location_name"],
        workspace["load_from"][0]["python_module"]["location_name"],
        CODE_LOCATION_NAME,
    }
    assert names == {"confirma_pipeline"}


def test_dagster_cloud_yaml_parses_with_dagster_cloud_cli_model():
    from dagster_cloud_cli.config.models import load_dagster_cloud_yaml

    config = load_dagster_cloud_yaml((ROOT / "dagster_cloud.yaml").read_text())
    assert [loc.location_name for loc in config.locations] == ["confirma_pipeline"]
    assert config.locations[0].code_source.module_name == "confirma_pipeline.definitions"


def test_dagster_yaml_example_uses_env_driven_postgres_storage():
    config = yaml.safe_load((ROOT / "dagster.yaml.example").read_text())
    assert config["storage"]["postgres"]["postgres_url"] == {"env": "DAGSTER_PG_URL"}
    assert config["concurrency"]["pools"]["default_limit"] >= 1


def test_instance_configs_pass_dagsters_own_validation(tmp_path, monkeypatch):
    """dagster.yaml.example and the demo's generated dagster.yaml load as Dagster instance configs."""
    from dagster._core.instance.config import dagster_instance_config

    example = tmp_path / "example"
    example.mkdir()
    (example / "dagster.yaml").write_text((ROOT / "dagster.yaml.example").read_text())
    monkeypatch.setenv("DAGSTER_PG_URL", "postgresql+psycopg2://u@localhost/dagster")
    config, _ = dagster_instance_config(str(example))
    assert config["concurrency"]["pools"]["granularity"] == "op"

    from confirma_pipeline.local import instance

    generated = instance.prepare_dagster_home(tmp_path)  # DAGSTER_PG_URL set: no embedded server needed
    config, _ = dagster_instance_config(str(generated))
    assert "postgres" in config["storage"]
