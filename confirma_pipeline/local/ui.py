"""`confirma-pipeline ui` (`make ui`): `dagster dev` on the demo's instance and warehouse.

Started in its own process group with SIGINT restored: from a non-interactive shell a
background `dagster dev` inherits an ignored SIGINT and maps SIGTERM onto it, so it would
ignore `kill` and orphan its children. Stopping kills the whole group (about 3 s)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# `dagster dev -m MODULE` would name the location after the module; a workspace file names it as
# pyproject.toml ([tool.dagster] / [tool.dg.project]) and dagster_cloud.yaml do, so every tool agrees.
CODE_LOCATION_NAME = "confirma_pipeline"
DEFINITIONS_MODULE = "confirma_pipeline.definitions"


def write_workspace(directory: Path) -> Path:
    """A one-location workspace file for `dagster dev` (module + the project's location name)."""
    path = directory / "workspace.yaml"
    path.write_text(
        "load_from:\n"
        "  - python_module:\n"
        f"      module_name: {DEFINITIONS_MODULE}\n"
        f"      location_name: {CODE_LOCATION_NAME}\n"
    )
    return path


def start_dagster_dev(port: int, log_file: Path | None = None) -> subprocess.Popen:
    dagster = Path(sys.executable).parent / "dagster"
    workspace = write_workspace(Path(os.environ.get("DAGSTER_HOME") or Path.cwd()))
    out = open(log_file, "ab") if log_file else None  # noqa: SIM115 - owned by the child
    return subprocess.Popen(
        [str(dagster), "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)],
        env=os.environ.copy(),
        stdout=out,
        stderr=subprocess.STDOUT if out else None,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def stop_process_group(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def wait_for_http(url: str, timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def _ui(args: argparse.Namespace) -> int:
    from confirma_pipeline.local.environment import LocalEnvironment
    from confirma_pipeline.local.instance import apply_pool_limits

    with LocalEnvironment() as env:
        import dagster as dg

        with dg.DagsterInstance.get() as instance:
            apply_pool_limits(instance)
        from confirma_pipeline.sandbox.control_client import free_port

        port = args.port or free_port()
        process = start_dagster_dev(port)
        try:
            wait_for_http(f"http://127.0.0.1:{port}/server_info")
            print(
                f"Dagster UI: http://127.0.0.1:{port}/asset-groups  (instance {env.dagster_home}); Ctrl-C stops"
            )
            process.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop_process_group(process)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ui", help="open the Dagster UI on the demo's instance (dagster dev)")
    parser.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    parser.set_defaults(func=_ui)
