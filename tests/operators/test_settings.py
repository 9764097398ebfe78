"""Every setting is parsed in one place: a bad value fails at once, in one line naming the setting, from
the CLI (exit code 5) and as the Dagster run's failure; a password never reaches the run's events."""

from __future__ import annotations

import dagster as dg
import pytest

from confirma_pipeline import settings
from confirma_pipeline.cli import main
from confirma_pipeline.errors import ConfigError, ExitCode

PW = "Pw-S3cret-4"
GOOD_KEY = "x" * 43 + "="  # 32 bytes of url-safe base64: a valid Fernet key

BAD_VALUES = [
    ("CONFIRMA_ENV", "prod", "CONFIRMA_ENV: unknown value 'prod' (use sandbox, staging, production)"),
    ("CONFIRMA_SANDBOX_URL", "not a url", "CONFIRMA_SANDBOX_URL: not an http(s) URL"),
    ("CONFIRMA_MAX_REQUESTS_PER_S", "fast", "CONFIRMA_MAX_REQUESTS_PER_S: not a number"),
    ("CONFIRMA_CONCURRENCY", "0", "CONFIRMA_CONCURRENCY: must be between 1 and 512"),
    ("CONFIRMA_CONCURRENCY", "32000", "CONFIRMA_CONCURRENCY: must be between 1 and 512"),
    ("CONFIRMA_MAX_REQUESTS_PER_S", "nan", "CONFIRMA_MAX_REQUESTS_PER_S: not a finite number"),
    ("WAREHOUSE_DSN", f"postgresql:/confirma:{PW}@127.0.0.1:1/wh", "WAREHOUSE_DSN: malformed DSN"),
    ("DAGSTER_PG_URL", f"host=db password={PW} port", "DAGSTER_PG_URL: malformed DSN"),
    (
        "CONFIRMA_ALERT_WEBHOOK_URL",
        "hooks.slack.com/services/x",
        "CONFIRMA_ALERT_WEBHOOK_URL: not an http(s)",
    ),
    ("CONFIRMA_UI_BASE_URL", "localhost:3000", "CONFIRMA_UI_BASE_URL: not an http(s) URL"),
    ("CONFIRMA_ALERT_REJECTED_SHARE", "5%", "CONFIRMA_ALERT_REJECTED_SHARE: not a number"),
    ("CONFIRMA_ALERT_REJECTED_SHARE", "2", "CONFIRMA_ALERT_REJECTED_SHARE: must be between 0.0 and 1.0"),
    ("CONFIRMA_ALERT_FORMAT", "email", "CONFIRMA_ALERT_FORMAT: unknown value 'email'"),
    ("CONFIRMA_TOKEN_KEY", PW, "CONFIRMA_TOKEN_KEY: key #1 is not a valid Fernet key"),
    ("CONFIRMA_TOKEN_KEY", f"{GOOD_KEY},{PW}", "CONFIRMA_TOKEN_KEY: key #2 is not a valid Fernet key"),
]


@pytest.mark.parametrize("name, value, expected", BAD_VALUES)
def test_bad_value_is_one_line_naming_the_setting(name, value, expected, monkeypatch):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as excinfo:
        settings.check()
    message = str(excinfo.value)
    assert message.startswith(expected), message
    assert "\n" not in message and PW not in message and GOOD_KEY[:8] not in message


@pytest.mark.parametrize("name, value, expected", BAD_VALUES[:3])
def test_cli_fails_before_any_work_with_exit_code_5(name, value, expected, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CONFIRMA_DATA_DIR", str(tmp_path / "never-created"))
    monkeypatch.setenv(name, value)
    assert main(["push"]) == ExitCode.CONFIG
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err
    assert not (tmp_path / "never-created").exists()  # nothing started, nothing created


# DSNs libpq cannot parse: its messages quote the DSN's own text, any of which may be the password.
MALFORMED_DSNS = [
    PW,
    f"postgresql:/confirma:{PW}@127.0.0.1:1/wh",
    f"postgres://u:{PW}@[::1:5432/x",
    f"postgresql://127.0.0.1/wh?{PW}=1",
    f"host=db password={PW} port",
    f"host=db '{PW}",
    f"host=db {PW}",
]


@pytest.mark.parametrize("dsn", MALFORMED_DSNS)
def test_malformed_dsn_never_echoes_its_text(dsn, monkeypatch, capsys):
    from confirma_pipeline.warehouse.connection import connect

    monkeypatch.setenv("WAREHOUSE_DSN", dsn)
    with pytest.raises(ConfigError) as excinfo:
        settings.check()
    assert str(excinfo.value).startswith("WAREHOUSE_DSN: malformed DSN")
    with pytest.raises(ConfigError) as direct:
        connect()
    for text in (str(excinfo.value), str(direct.value)):
        assert "S3cret" not in text and len(text.splitlines()) == 1, text


def test_every_setting_has_help_and_a_parsable_default():
    for setting in settings.SETTINGS.values():
        assert setting.help
        settings.parse(setting.name, None)


def test_secret_settings_feed_the_redaction(monkeypatch):
    from confirma_pipeline.errors import OperatorError

    monkeypatch.setenv("CONFIRMA_PROVISIONING_TOKEN", "prov-token-123456")
    monkeypatch.setenv("CONFIRMA_ALERT_WEBHOOK_URL", "https://hooks.example.com/services/T0/B0/XyZsecret")
    message = str(
        OperatorError("sent prov-token-123456 to https://hooks.example.com/services/T0/B0/XyZsecret")
    )
    assert "prov-token-123456" not in message and "XyZsecret" not in message


def _run_failure_text(instance: dg.DagsterInstance, run_id: str) -> str:
    from dagster._serdes import serialize_value

    return "\n".join(serialize_value(record) for record in instance.all_logs(run_id))


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("WAREHOUSE_DSN", f"postgresql:/confirma:{PW}@127.0.0.1:1/wh", "WAREHOUSE_DSN: malformed DSN"),
        ("WAREHOUSE_DSN", f"postgresql://confirma:{PW}@127.0.0.1:1/wh", "WAREHOUSE_DSN: cannot connect"),
        ("CONFIRMA_MAX_REQUESTS_PER_S", "fast", "CONFIRMA_MAX_REQUESTS_PER_S: not a number"),
    ],
)
def test_nightly_sync_fails_naming_the_setting_and_stores_no_password(name, value, expected, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DSN", f"postgresql://confirma:{PW}@127.0.0.1:1/wh")
    monkeypatch.setenv(name, value)
    from confirma_pipeline.definitions import defs

    job = defs().resolve_job_def("nightly_sync")
    with dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(instance=instance, partition_key="2026-11-01", raise_on_error=False)
        assert not result.success
        text = _run_failure_text(instance, result.run_id)
    assert expected in text
    assert PW not in text and "S3cret" not in text


def test_readme_lists_every_setting():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name in settings.SETTINGS:
        assert f"`{name}`" in readme, name
