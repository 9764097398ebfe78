"""`confirma-pipeline contract check` against the sandbox and each variant: read-only, answers saved
masked under the data dir, and the report names the difference a variant makes."""

from __future__ import annotations

import json

import pytest

from confirma_pipeline.cli import main
from confirma_pipeline.cli.contract import EXIT_CONTRADICTED
from confirma_pipeline.push.invoices import push_invoices
from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.run.context import RunContext

CONTRADICTED_BY = {
    "records_key": "distribution records come as a list under",
    "no_total_count": "distribution records come as a list under",
    "cut_30_days": "distribution query params",
}


@pytest.fixture
def world(seeded, sandbox, api, vault, monkeypatch, tmp_path):
    onboard_clients(RunContext(seeded, api, vault, run_id="r"))
    push_invoices(RunContext(seeded, api, vault, run_id="r"))
    sandbox.control.advance(20)  # invoices distributed, cases opened
    monkeypatch.setenv("CONFIRMA_SANDBOX_URL", sandbox.url)
    monkeypatch.setenv("CONFIRMA_DATA_DIR", str(tmp_path))
    return tmp_path


def _check(capsys) -> tuple[int, str]:
    code = main(["contract", "check", "--creditor-id", "CRED-0001"])
    return code, capsys.readouterr().out


def test_against_the_standard_sandbox_nothing_is_contradicted(world, sandbox, capsys):
    before = sandbox.control.journal()
    code, out = _check(capsys)
    assert code == 0, out
    assert "CONTRADICTED" not in out and "UNKNOWN FIELD" not in out
    assert "CONFIRMED    CHOSEN   distribution records come as a list under" in out
    assert "CONFIRMED    CHOSEN   recovery rule" in out
    assert sandbox.control.journal() == before  # read-only: nothing created, renewed or queued

    saved = list((world / "contract-check").glob("*/*.json"))
    assert {p.stem for p in saved} >= {"validate", "distribution_range", "payments", "settlements", "case"}
    text = "\n".join(p.read_text() for p in saved)
    distribution = json.loads((saved[0].parent / "distribution_range.json").read_text())
    assert distribution["body"]["distributions"]  # the shape is kept ...
    assert "@" not in text  # ... e-mails, names and tokens are not


@pytest.mark.parametrize("variant", sorted(CONTRADICTED_BY))
def test_each_variant_is_named_as_a_contradiction(world, sandbox, capsys, variant):
    sandbox.control.set_variants(variant)
    code, out = _check(capsys)
    assert code == EXIT_CONTRADICTED, out
    contradicted = [line for line in out.splitlines() if line.startswith("CONTRADICTED")]
    assert any(CONTRADICTED_BY[variant] in line for line in contradicted), out
    assert any("recovery rule" in line for line in contradicted), out


def test_report_lists_every_point_of_the_contract(world, capsys):
    from confirma_pipeline.contract_check import contract_points

    _, out = _check(capsys)
    points = contract_points()
    assert len(points) > 30
    assert sum(
        line[:13].strip() in ("CONFIRMED", "CONTRADICTED", "OPEN") for line in out.splitlines()
    ) == len(points)
