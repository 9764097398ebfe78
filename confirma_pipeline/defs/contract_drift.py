"""Contract drift made visible: each API step stores what its client saw (api/drift.py) and shows it
as metadata; the WARN check `contract_drift` fails while answers carry fields the models do not know."""

from __future__ import annotations

import dagster as dg

from confirma_pipeline.defs.lib.checks import rows_check
from confirma_pipeline.defs.lib.metadata import markdown_table


def drift_metadata(warehouse, client) -> dict:
    """Store the drift the step's client observed; metadata naming it (names and JSON types only)."""
    from confirma_pipeline.warehouse import contract_observations

    counts = client.drift.take() if client is not None else {}
    if counts:
        with warehouse.connect() as conn:
            contract_observations.record(conn, counts)
    unknown = sorted((k, n) for k, n in counts.items() if k[2] == "unknown")
    return {
        "contract_drift_unknown_fields": dg.MetadataValue.int(len(unknown)),
        "contract_drift_missing_optional_fields": dg.MetadataValue.int(len(counts) - len(unknown)),
        "contract_drift": markdown_table(
            [
                {"endpoint": e, "field": f, "kind": kind, "json_type": t, "answers": n}
                for (e, f, kind, t), n in sorted(counts.items())
            ][:50]
        ),
    }


def _unknown_fields(conn, warehouse) -> list[dict]:
    from confirma_pipeline.warehouse import contract_observations

    return [
        {"endpoint": e, "field": f, "json_type": t, "answers": n}
        for e, f, _, t, n in contract_observations.recent(conn, kind="unknown")
    ]


def contract_drift_check(asset: str) -> dg.AssetChecksDefinition:
    """The WARN check `contract_drift` on one API step's asset (by key)."""
    return rows_check(
        asset,
        "contract_drift",
        "API answers carry fields api/models.py does not know (api/contract.py may be wrong)",
        _unknown_fields,
        severity=dg.AssetCheckSeverity.WARN,
        count_key="unknown_fields",
        rows_key="fields",
    )
