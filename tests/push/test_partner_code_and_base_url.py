"""CONFIRMA_PARTNER_CODE fills a blank partner_code (never overrides a given one); blank with none
configured is a validation rejection naming the variable, never a request. CONFIRMA_BASE_URL overrides
the base URL of any environment: https, or plain http to loopback only."""

from __future__ import annotations

import psycopg
import pytest

from confirma_pipeline.errors import ConfigError
from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.run.context import RunContext


def _blank_codes(dsn: str, creditor_ids: list[str]) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "UPDATE confirma_source.creditors SET partner_code = '' WHERE creditor_id = ANY(%s)",
            (creditor_ids,),
        )


def _sent_codes(sandbox) -> list[str]:
    return sorted(e["partnerCode"] for e in sandbox.control.journal("client"))


def test_configured_partner_code_fills_only_blank_codes(seeded, sandbox, api, vault):
    _blank_codes(seeded, ["CRED-0001", "CRED-0002"])
    report = onboard_clients(RunContext(seeded, api, vault, run_id="r"), partner_code="PARTNER9")
    assert report.pushed == 5
    assert _sent_codes(sandbox) == ["DEMO1", "DEMO1", "DEMO1", "PARTNER9", "PARTNER9"]


def test_blank_code_without_configuration_is_rejected_naming_the_variable(seeded, sandbox, api, vault):
    _blank_codes(seeded, ["CRED-0001"])
    report = onboard_clients(RunContext(seeded, api, vault, run_id="r"), partner_code=None)
    assert "blank" not in _sent_codes(sandbox) and len(_sent_codes(sandbox)) == 4  # never a request for it
    with psycopg.connect(seeded) as conn:
        reason = conn.execute(
            "SELECT reason FROM confirma.rejected_rows WHERE entity_key = 'CRED-0001' AND resolved_at IS NULL"
        ).fetchone()[0]
    assert "CONFIRMA_PARTNER_CODE" in reason
    assert report.rejected_validation == 2  # the planted invalid creditor, and this one


def test_partner_code_from_the_cli_environment(seeded, sandbox, vault, monkeypatch, capsys):
    from confirma_pipeline.cli import main

    _blank_codes(seeded, ["CRED-0003"])
    monkeypatch.setenv("CONFIRMA_SANDBOX_URL", sandbox.url)
    monkeypatch.setenv("CONFIRMA_PROVISIONING_TOKEN", "push-tests-provisioning-9d41")
    monkeypatch.setenv("CONFIRMA_PARTNER_CODE", "FROMENV")
    # the planted invalid creditor is rejected: a final, explained outcome, not a partial night
    assert main(["push", "--only", "clients"]) == 0
    assert "FROMENV" in _sent_codes(sandbox)


def test_base_url_overrides_any_environment(sandbox, monkeypatch):
    from confirma_pipeline import settings

    monkeypatch.setenv("CONFIRMA_ENV", "production")
    monkeypatch.setenv("CONFIRMA_BASE_URL", sandbox.url + "/")
    from confirma_pipeline.api.errors import UnauthorizedError

    with settings.api_client() as client:
        assert client.base_url == sandbox.url
        with pytest.raises(UnauthorizedError):  # the sandbox answered, not production
            client.validate_token("not-a-token")


@pytest.mark.parametrize("url", ["http://example.com", "ftp://127.0.0.1", "not a url"])
def test_base_url_must_be_https_or_loopback_http(url, monkeypatch):
    from confirma_pipeline import settings
    from confirma_pipeline.defs.resources import ConfirmaApiResource

    monkeypatch.setenv("CONFIRMA_ENV", "staging")
    monkeypatch.setenv("CONFIRMA_BASE_URL", url)
    with pytest.raises(ConfigError, match="^CONFIRMA_BASE_URL: "):
        settings.api_client()
    with pytest.raises(ConfigError, match="^CONFIRMA_BASE_URL: "):
        ConfirmaApiResource(environment="staging", base_url=url).setup_for_execution(None)
