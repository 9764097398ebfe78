"""Running the sandbox: in a background thread (`SandboxServer`, for tests) or as a separate process
(`start_sandbox_process`, for benchmarks and the demo). `SandboxControl`, `free_port` and
`PROVISIONING_TOKEN_ENV` live in `control_client.py`."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox.app import create_app
from confirma_pipeline.sandbox.control_client import PROVISIONING_TOKEN_ENV, SandboxControl, free_port

DEFAULT_PROVISIONING_TOKEN = "sandbox-provisioning-token"


def uvicorn_config(app: Any, host: str, port: int) -> uvicorn.Config:
    """The lean serving settings: uvloop + httptools (both from uvicorn[standard], a declared dependency), no
    access log, warnings only. Public uvicorn options only: no private protocol class is subclassed."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        lifespan="on",
        timeout_keep_alive=30,
    )


class SandboxServer:
    """Serves the sandbox with uvicorn in a background thread on 127.0.0.1 and a free port.

    >>> with SandboxServer("prov-token") as server:
    ...     server.control.advance(1)
    """

    def __init__(
        self,
        provisioning_token: str = DEFAULT_PROVISIONING_TOKEN,
        *,
        state_file: Path | None = None,
        latency_ms: int = 0,
        seed: int = 0,
        start_date: date | None = None,
        strict_identifiers: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit_per_s: float = 0.0,
    ) -> None:
        self.provisioning_token = provisioning_token
        self.app = create_app(
            provisioning_token,
            state_file=state_file,
            latency_ms=latency_ms,
            seed=seed,
            start_date=start_date,
            strict_identifiers=strict_identifiers,
            rate_limit_per_s=rate_limit_per_s,
        )
        self.host = host
        self._requested_port = port
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._control: SandboxControl | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    base_url = url

    @property
    def sandbox(self) -> Any:
        """The in-process `Sandbox` (state, faults) behind the app."""
        return self.app.state.sandbox

    @property
    def control(self) -> SandboxControl:
        if self._control is None:
            self._control = SandboxControl(self.url)
        return self._control

    def start(self, timeout_s: float = 15.0) -> SandboxServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self.port = sock.getsockname()[1]
        self._server = uvicorn.Server(uvicorn_config(self.app, self.host, self.port))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="confirma-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout_s)
        self._server = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_sandbox_process(
    port: int | None = None,
    provisioning_token: str = DEFAULT_PROVISIONING_TOKEN,
    state_file: Path | None = None,
    latency_ms: int = 0,
    seed: int = 0,
    start_date: date | None = None,
    *,
    host: str = "127.0.0.1",
    timeout_s: float = 30.0,
    extra_args: list[str] | None = None,
    log_file: Path | None = None,
) -> tuple[subprocess.Popen, str]:
    """Run `python -m confirma_pipeline.sandbox` in its own process group; return (process, url) once it answers.

    The provisioning token goes through the environment, not the command line (which other users can see).
    With `log_file`, the process's output is appended there. Stop it with `stop_sandbox_process(process)`.
    """
    port = port or free_port(host)
    args = [sys.executable, "-m", "confirma_pipeline.sandbox", "--host", host, "--port", str(port),
            "--latency-ms", str(latency_ms), "--seed", str(seed)]  # fmt: skip
    if state_file is not None:
        args += ["--state-file", str(state_file)]
    if start_date is not None:
        args += ["--start-date", start_date.isoformat()]
    args += extra_args or []
    env = {**os.environ, PROVISIONING_TOKEN_ENV: provisioning_token}
    if log_file is not None:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        with open(log_file, "ab") as log:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(
                args, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
            )
    else:
        process = subprocess.Popen(args, env=env, start_new_session=True)
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the sandbox process exited with code {process.returncode}")
        try:
            if httpx.get(url + c.SANDBOX_CONTROL_PREFIX + "/state", timeout=1.0).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            stop_sandbox_process(process)
            raise RuntimeError("the sandbox process did not answer in time")
        time.sleep(0.05)


def stop_sandbox_process(process: subprocess.Popen, timeout_s: float = 10.0) -> int:
    """SIGTERM the sandbox's process group (it saves its state on the way out), SIGKILL if it hangs.

    Returns 0 after a graceful stop, else the process's return code."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout_s)
    # uvicorn shuts down gracefully on SIGTERM (the lifespan saves the state) and then re-raises the signal.
    return 0 if process.returncode == -signal.SIGTERM else process.returncode
