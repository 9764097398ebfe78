"""A stateful local stand-in for the Confirma Partner API (starlette + uvicorn), with simulated time and faults."""

from confirma_pipeline.sandbox.app import create_app
from confirma_pipeline.sandbox.control_client import SandboxControl
from confirma_pipeline.sandbox.server import (
    DEFAULT_PROVISIONING_TOKEN,
    SandboxServer,
    start_sandbox_process,
    stop_sandbox_process,
)

__all__ = [
    "DEFAULT_PROVISIONING_TOKEN",
    "SandboxControl",
    "SandboxServer",
    "create_app",
    "start_sandbox_process",
    "stop_sandbox_process",
]
