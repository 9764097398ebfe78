"""`make ui-check`: open the asset lineage in `dagster dev` with headless Chromium, save a screenshot
under the data dir, and fail unless the lineage lists every asset key.

Chromium is driven over the DevTools protocol (a websocket), not with `--dump-dom`: the lineage
graph is laid out asynchronously, so the page is polled until every asset key is on it (or a
minute passes) before the screenshot is taken. The global lineage page (/asset-groups) opens with
its groups collapsed (the expanded state lives in the browser's localStorage), so the keys are
read from lineage tabs Dagster renders expanded: submitted_invoices' neighbours (all three
groups), source_creditors downstream, and finvoice_credentials' own page (its name is ellipsized
inside other graphs). Screenshots of the lineage and of the group overview are saved.

Needs Debian's `chromium` (`apt-get install -y chromium`, about 480 MB): that is why it is not
part of `make test`. As root with apt available, CONFIRMA_UI_CHECK_INSTALL=1 installs it.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--window-size=1600,1000",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]
LINEAGE_PAGES = (
    "/assets/submitted_invoices?view=lineage&lineageScope=neighbors&lineageDepth=3",
    "/assets/source_creditors?view=lineage&lineageScope=downstream&lineageDepth=6",
    "/assets/finvoice_credentials?view=lineage&lineageScope=neighbors",
)
WAIT_S = 60


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


def listed(key: str, text: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(key)}(?![\w.])", text) is not None


class Browser:
    """Just enough of the DevTools protocol: open a page, read its text, take a screenshot."""

    def __init__(self, binary: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="ui-check-")
        self.process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if match := re.search(r"DevTools listening on (ws://\S+)", line):
                port = re.search(r":(\d+)/", match.group(1)).group(1)
                break
        else:
            raise RuntimeError("chromium did not open its DevTools port")
        page = next(t for t in httpx.get(f"http://127.0.0.1:{port}/json").json() if t["type"] == "page")
        from websockets.sync.client import connect

        self._connection = connect(page["webSocketDebuggerUrl"], max_size=None)
        self.ws = self._connection.__enter__()
        self.ids = itertools.count(1)

    def call(self, method: str, **params):
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def text(self) -> str:
        result = self.call("Runtime.evaluate", expression="document.body ? document.body.innerHTML : ''")
        return result.get("result", {}).get("value", "")

    def wait_for(self, keys: list[str], timeout: float = WAIT_S) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.text()
            if all(listed(k, text) for k in keys):
                break
            time.sleep(0.5)
        return text

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        self._connection.__exit__(None, None, None)
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main() -> int:
    from confirma_pipeline.local.environment import LocalEnvironment
    from confirma_pipeline.local.ui import start_dagster_dev, stop_process_group, wait_for_http
    from confirma_pipeline.sandbox.control_client import free_port

    binary = find_chromium()
    if not binary:
        print(
            "ui-check: chromium not found; install it with `apt-get install -y chromium` "
            "(or run with CONFIRMA_UI_CHECK_INSTALL=1 as root)",
            file=sys.stderr,
        )
        return 2
    keys = asset_keys()
    with LocalEnvironment(quiet=True) as env:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = start_dagster_dev(port, log_file=env.base / "ui-check-dagster.log")
        browser = None
        try:
            wait_for_http(f"{base}/server_info")
            # dismiss the first-visit "Join the Dagster community" dialog that would cover the graph
            httpx.post(f"{base}/graphql", json={"query": "mutation { setNuxSeen }"}, timeout=30)
            browser = Browser(binary)
            seen = ""
            screenshot = env.base / "ui-lineage.png"
            for index, page in enumerate(LINEAGE_PAGES):
                browser.open(base + page)
                # each page shows part of the graph: wait (bounded) until it adds what is still missing
                seen += browser.wait_for([k for k in keys if not listed(k, seen)], timeout=WAIT_S / 3)
                if index == 0:
                    browser.screenshot(screenshot)
            browser.open(f"{base}/asset-groups")
            browser.wait_for(["receivables"], timeout=20)
            browser.screenshot(env.base / "ui-lineage-groups.png")
        finally:
            if browser is not None:
                browser.close()
            stop_process_group(process)
    missing = [key for key in keys if not listed(key, seen)]
    print(f"ui-check: screenshots {screenshot} and {env.base / 'ui-lineage-groups.png'}")
    if missing or not screenshot.exists():
        print(
            f"ui-check: FAILED: the lineage does not list {missing or 'anything (no screenshot)'}",
            file=sys.stderr,
        )
        return 1
    print(f"ui-check: the lineage lists all {len(keys)} asset keys: {', '.join(keys)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
