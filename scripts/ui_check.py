"""`make ui-check`: open the asset lineage page of `dagster dev` in headless Chromium, save a
screenshot under the data dir, and fail unless the page lists every asset key.

Needs Debian's `chromium` (`apt-get install -y chromium`, ~480 MB): that is why it is not part
of `make test`. Run as root with apt available, it offers to install it (CONFIRMA_UI_CHECK_INSTALL=1).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

import httpx

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--window-size=1600,1000", "--virtual-time-budget=20000",
]


def find_chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found or os.environ.get("CONFIRMA_UI_CHECK_INSTALL") != "1":
        return found
    print("ui-check: installing Debian's chromium (apt-get install -y chromium)", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=True)
    return shutil.which("chromium")


def asset_keys() -> list[str]:
    from confirma_pipeline.definitions import defs

    graph = defs().resolve_asset_graph()
    return sorted(key.to_user_string() for key in graph.get_all_asset_keys())


def chromium(binary: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=120,
        )


def main() -> int:
    from confirma_pipeline.local_env import LocalEnvironment
    from confirma_pipeline.ui import free_port, start_dagster_dev, stop_process_group, wait_for_http

    binary = find_chromium()
    if not binary:
        print("ui-check: chromium not found; install it with `apt-get install -y chromium` "
              "(or run with CONFIRMA_UI_CHECK_INSTALL=1 as root)", file=sys.stderr)
        return 2
    with LocalEnvironment(quiet=True) as env:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = start_dagster_dev(port, log_file=env.base / "ui-check-dagster.log")
        try:
            wait_for_http(f"{base}/server_info")
            # dismiss the first-visit "Join the Dagster community" dialog that covers the graph
            httpx.post(f"{base}/graphql", json={"query": "mutation { setNuxSeen }"}, timeout=30)
            url = f"{base}/asset-groups"
            screenshot = env.base / "ui-lineage.png"
            chromium(binary, f"--screenshot={screenshot}", url)
            dom = chromium(binary, "--dump-dom", url).stdout
        finally:
            stop_process_group(process)
    keys = asset_keys()
    missing = [key for key in keys if key not in dom]
    print(f"ui-check: screenshot {screenshot}")
    if missing or not screenshot.exists():
        print(f"ui-check: FAILED: the lineage page does not list {missing or 'anything (no screenshot)'}",
              file=sys.stderr)
        return 1
    print(f"ui-check: the lineage page lists all {len(keys)} asset keys: {', '.join(keys)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
