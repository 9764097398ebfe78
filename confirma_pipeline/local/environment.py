"""A complete local environment with no credentials: embedded warehouse, token key file,
sandbox API (background process on a free port) and a Dagster home on the embedded server.

`make demo`, `make ui` and `make ui-check` all run inside it, so the UI shows the demo's runs.
Settings that must survive between runs (the sandbox's provisioning token and start date) are
kept in `<data dir>/local.json` with mode 0600; the sandbox keeps its state in
`<data dir>/sandbox-state.json`, so a second demo continues where the first stopped.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from confirma_pipeline.paths import data_dir as default_data_dir

SANDBOX_HISTORY_DAYS = 60  # the sandbox's simulated calendar starts this many days ago
LOCAL_PARTNER_CODE = "DEMO1"  # the sandbox accepts any non-blank code; staging/production set their own


@dataclass
class LocalSettings:
    provisioning_token: str
    sandbox_start: dt.date


def load_local_settings(base: Path) -> LocalSettings:
    path = base / "local.json"
    if path.exists():
        raw = json.loads(path.read_text())
        return LocalSettings(raw["provisioning_token"], dt.date.fromisoformat(raw["sandbox_start"]))
    settings = LocalSettings(
        provisioning_token=f"sandbox-provisioning-{secrets.token_hex(16)}",
        sandbox_start=dt.date.today() - dt.timedelta(days=SANDBOX_HISTORY_DAYS),
    )
    base.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(
            {
                "provisioning_token": settings.provisioning_token,
                "sandbox_start": settings.sandbox_start.isoformat(),
            },
            handle,
        )
    return settings


class LocalEnvironment:
    """Context manager: starts what is missing, exports the settings as environment variables,
    and stops the sandbox and the warehouse on exit (also on Ctrl-C or SIGTERM: the CLI turns SIGTERM into
    KeyboardInterrupt). `stop_warehouse`: True always stops the embedded warehouse, False never, None (the
    default) stops it when this environment started it."""

    def __init__(self, base: Path | None = None, *, stop_warehouse: bool | None = None, quiet: bool = False):
        self.base = (base or default_data_dir()).resolve()
        self.stop_warehouse = stop_warehouse
        self.quiet = quiet
        self.sandbox_process = None
        self.sandbox_url: str | None = None
        self.key_file: Path | None = None
        self.key_created = False
        self.dagster_home: Path | None = None
        self.settings: LocalSettings | None = None
        self._saved_env: dict[str, str | None] = {}
        self.started_warehouse = False

    def _say(self, message: str) -> None:
        if not self.quiet:
            print(message, flush=True)

    def _export(self, name: str, value: str) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def __enter__(self) -> LocalEnvironment:
        from confirma_pipeline.local.instance import prepare_dagster_home
        from confirma_pipeline.sandbox.server import start_sandbox_process
        from confirma_pipeline.vault import ensure_local_key_file
        from confirma_pipeline.warehouse import embedded
        from confirma_pipeline.warehouse.connection import connect
        from confirma_pipeline.warehouse.migrations import apply_migrations

        self._export("CONFIRMA_DATA_DIR", str(self.base))
        if not os.environ.get("WAREHOUSE_DSN"):
            was_running = embedded.is_running(self.base)
            location = embedded.locate(self.base)
            embedded.start(self.base)
            self.started_warehouse = not was_running
            self._say(
                f"warehouse: embedded PostgreSQL {'attached' if was_running else 'started'} "
                f"(data in {location.pgdata})"
            )
        with connect() as conn:
            applied = apply_migrations(conn)
        self._say(f"migrations: {len(applied)} applied" if applied else "migrations: up to date")

        if not (os.environ.get("CONFIRMA_TOKEN_KEY") or os.environ.get("CONFIRMA_TOKEN_KEY_FILE")):
            self.key_file, self.key_created = ensure_local_key_file(self.base / "token.key")
            self._export("CONFIRMA_TOKEN_KEY_FILE", str(self.key_file))
            if self.key_created:
                self._say(
                    f"token key: CONFIRMA_TOKEN_KEY not set, generated a local key file {self.key_file} "
                    "(mode 0600); keep it: it decrypts the stored client tokens"
                )
            else:
                self._say(f"token key: using the local key file {self.key_file}")

        self.settings = load_local_settings(self.base)
        self.sandbox_process, self.sandbox_url = start_sandbox_process(
            provisioning_token=self.settings.provisioning_token,
            state_file=self.base / "sandbox-state.json",
            start_date=self.settings.sandbox_start,
            log_file=self.base / "sandbox.log",
        )
        self._export("CONFIRMA_ENV", "sandbox")
        self._export("CONFIRMA_SANDBOX_URL", self.sandbox_url)
        self._export("CONFIRMA_PROVISIONING_TOKEN", self.settings.provisioning_token)
        if not os.environ.get("CONFIRMA_PARTNER_CODE"):
            self._export("CONFIRMA_PARTNER_CODE", LOCAL_PARTNER_CODE)
        self._say(
            f"sandbox: Confirma API stand-in at {self.sandbox_url} (state in {self.base / 'sandbox-state.json'})"
        )

        self.dagster_home = prepare_dagster_home(self.base)
        self._export("DAGSTER_HOME", str(self.dagster_home))
        return self

    def __exit__(self, *exc_info) -> None:
        from confirma_pipeline.sandbox.server import stop_sandbox_process

        if self.sandbox_process is not None:
            stop_sandbox_process(self.sandbox_process)
            self._say("sandbox: stopped")
        stop = self.started_warehouse if self.stop_warehouse is None else self.stop_warehouse
        if stop and not os.environ.get("WAREHOUSE_DSN"):  # never ours to stop otherwise
            from confirma_pipeline.warehouse import embedded

            embedded.stop(self.base)
            self._say(
                "warehouse: stopped (start it again with `confirma-pipeline warehouse start` or `make ui`)"
            )
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
