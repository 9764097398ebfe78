"""README's "Partner API endpoints" table stays true: every endpoint the client implements is listed, and every
asset a row names exists in the definitions (a row saying "not used yet" for an endpoint an asset uses, as
`POST /invoice/action` once did, misleads an operator about what the nightly run sends)."""

from __future__ import annotations

import re
from pathlib import Path

from confirma_pipeline.api import contract

README = Path(__file__).resolve().parents[2] / "README.md"


def _endpoint_rows() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("## Partner API endpoints and what uses them", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in table.splitlines():
        match = re.match(r"\| `(GET|POST) (/api/v1/partner/[^`]+)` \| (.*) \|$", line)
        if match:
            rows[f"{match[1]} {match[2]}"] = match[3]
    return rows


def test_every_row_names_assets_that_exist_and_none_says_not_used_yet():
    from confirma_pipeline.definitions import defs

    assets = {key.path[-1] for key in defs().resolve_asset_graph().get_all_asset_keys()}
    rows = _endpoint_rows()
    paths = {v for k, v in vars(contract).items() if k.startswith("PATH_") and k != "PATH_PREFIX"}
    listed = {endpoint.split(" ", 1)[1] for endpoint in rows}
    assert paths - {contract.PATH_FINVOICE_CREDENTIALS} <= listed, (
        "an endpoint of the client is not in README"
    )
    for endpoint, used_by in rows.items():
        assert "not used yet" not in used_by, endpoint
        named = re.findall(r"assets? `(\w+)`", used_by)
        assert set(named) <= assets, (endpoint, set(named) - assets)
