"""`Sandbox`: the one object every route area shares (state, auth, faults, the identifier mode, persistence).

The route modules (`sandbox/routes/`) take a `Sandbox` and nothing else, so adding an area never means
threading a new collaborator through `app.py`. It is also what the app exposes as `app.state.sandbox`, so
in-process tests reach the state and the fault settings behind a running server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from confirma_pipeline.sandbox.auth import Authenticator
from confirma_pipeline.sandbox.faults import FaultInjector
from confirma_pipeline.sandbox.state import SandboxState


@dataclass
class Sandbox:
    state: SandboxState
    faults: FaultInjector
    auth: Authenticator
    state_file: Path | None = None
    #: the business-id/IBAN/reference checksum checks (off by default: the docs' own examples fail them)
    strict_identifiers: bool = False

    def persist(self) -> None:
        """Save the state where the app was told to keep it (after control calls and on shutdown)."""
        if self.state_file is not None:
            self.state.save(self.state_file)
