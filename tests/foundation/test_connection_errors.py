"""Bad warehouse settings fail with one line that names the variable and hides the password."""

from __future__ import annotations

import pytest

from confirma_pipeline.cli import main
from confirma_pipeline.errors import ConfigError, ExitCode, UnreachableError
from confirma_pipeline.warehouse.connection import connect, redact_dsn

SECRET = "s3cr3t-pa55"


def test_unreachable_dsn_names_variable_and_hides_password(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DSN", f"postgresql://app:{SECRET}@127.0.0.1:1/warehouse")
    with pytest.raises(UnreachableError) as excinfo:
        connect()
    message = str(excinfo.value)
    assert message.startswith("WAREHOUSE_DSN:")
    assert SECRET not in message
    assert "\n" not in message
    assert excinfo.value.__cause__ is None and excinfo.value.__suppress_context__


def test_malformed_keyvalue_dsn_hides_password(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DSN", f"host=127.0.0.1 password={SECRET} port=notaport dbname")
    with pytest.raises(ConfigError) as excinfo:
        connect()
    assert "WAREHOUSE_DSN" in str(excinfo.value)
    assert SECRET not in str(excinfo.value)


def test_cli_prints_one_line_without_traceback(monkeypatch, capsys):
    monkeypatch.setenv("WAREHOUSE_DSN", f"postgresql://app:{SECRET}@127.0.0.1:1/warehouse")
    assert main(["warehouse", "migrate"]) == ExitCode.UNREACHABLE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "WAREHOUSE_DSN" in err
    assert SECRET not in err and "Traceback" not in err


@pytest.mark.parametrize(
    "dsn, expected",
    [
        (f"postgresql://app:{SECRET}@db:5432/w", "postgresql://app:***@db:5432/w"),
        ("postgresql://postgres:@/postgres?host=/tmp/x", "postgresql://postgres@/postgres?host=/tmp/x"),
        (f"host=db password={SECRET} dbname=w", "host=db password=*** dbname=w"),
        (f"postgresql://db/w?password={SECRET}", "postgresql://db/w?password=***"),
    ],
)
def test_redact_dsn(dsn, expected):
    assert redact_dsn(dsn) == expected


def test_uncreatable_data_dir_says_which_path(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.delenv("WAREHOUSE_DSN", raising=False)
    monkeypatch.setenv("CONFIRMA_DATA_DIR", str(blocker / "data"))
    from confirma_pipeline.warehouse import embedded

    with pytest.raises(ConfigError) as excinfo:
        embedded.locate()
    assert str(blocker / "data") in str(excinfo.value)
    assert "CONFIRMA_DATA_DIR" in str(excinfo.value)


def test_staging_or_production_without_a_dsn_fails_naming_the_variable(monkeypatch):
    monkeypatch.delenv("WAREHOUSE_DSN", raising=False)
    monkeypatch.setenv("CONFIRMA_ENV", "production")
    with pytest.raises(
        ConfigError, match="WAREHOUSE_DSN: not set; it is required when CONFIRMA_ENV=production"
    ):
        connect()
