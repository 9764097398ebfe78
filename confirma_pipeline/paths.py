"""Where the project's files and local data live, installed or in a checkout."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def sql_dir() -> Path:
    """The `sql/` folder: shipped inside the wheel as `confirma_pipeline/sql` (force-include),
    and at the repository root in a checkout or an editable install."""
    for candidate in (_PACKAGE_DIR / "sql", _PACKAGE_DIR.parent / "sql"):
        if (candidate / "migrations").is_dir():
            return candidate
    raise FileNotFoundError(
        f"SQL files not found in {_PACKAGE_DIR / 'sql'} or {_PACKAGE_DIR.parent / 'sql'}; "
        "reinstall the package (the wheel must include confirma_pipeline/sql)"
    )


def load_sql(name: str) -> str:
    """Text of `sql/<name>` (e.g. `upserts/payments_delete_window.sql`)."""
    return (sql_dir() / name).read_text(encoding="utf-8")


def data_dir() -> Path:
    """Local state (embedded Postgres, demo key file, screenshots): `CONFIRMA_DATA_DIR`,
    default `.confirma/` in the working directory."""
    return Path(os.environ.get("CONFIRMA_DATA_DIR") or ".confirma").expanduser().resolve()
