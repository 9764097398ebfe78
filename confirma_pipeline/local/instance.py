"""A local Dagster instance (DAGSTER_HOME) whose storage is the embedded PostgreSQL.

Used by `make demo` and `make ui`, so the runs the demo makes are visible in the UI with their
lineage and survive restarts. Production uses its own dagster.yaml (see dagster.yaml.example).
"""

from __future__ import annotations

import os
from pathlib import Path

from confirma_pipeline.paths import data_dir

# Per-pool limits (steps at once across all runs). dagster.yaml only holds the default; named
# limits live in the instance's storage and are set by `apply_pool_limits`.
POOL_LIMITS = {"confirma_api": 2}


def dagster_home(base: Path | None = None) -> Path:
    return (base or data_dir()) / "dagster_home"


def prepare_dagster_home(base: Path | None = None) -> Path:
    """Write DAGSTER_HOME/dagster.yaml pointing at the embedded server's `dagster` database."""
    from confirma_pipeline.warehouse import embedded

    home = dagster_home(base)
    home.mkdir(parents=True, exist_ok=True)
    if os.environ.get("DAGSTER_PG_URL"):
        storage_url = "{env: DAGSTER_PG_URL}"
    else:
        storage_url = f'"{embedded.dagster_storage_url(base)}"'
    (home / "dagster.yaml").write_text(
        f"""# Written by confirma-pipeline (instance.py); regenerated on every demo/ui start.
storage:
  postgres:
    postgres_url: {storage_url}
concurrency:
  runs:
    max_concurrent_runs: 2
  pools:
    granularity: op
    default_limit: 2
# Progress lines (per client, per step) are INFO; Dagster's per-event DEBUG lines would drown them
# on the console. The UI still shows every event.
python_logs:
  python_log_level: INFO
telemetry:
  enabled: false
""",
        encoding="utf-8",
    )
    return home


def apply_pool_limits(instance) -> None:
    """Set the named pool limits on a Dagster instance (idempotent)."""
    for pool, limit in POOL_LIMITS.items():
        instance.event_log_storage.set_concurrency_slots(pool, limit)
