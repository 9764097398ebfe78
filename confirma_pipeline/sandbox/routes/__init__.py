"""The sandbox's routes, one module per area of the Confirma API (see sandbox/README.md).

`AREAS` is the order the app mounts them in; each module has `routes(sandbox) -> list[Route]`."""

from __future__ import annotations

from starlette.routing import Route

from confirma_pipeline.sandbox.routes import accounting, clients, control, invoices, reports
from confirma_pipeline.sandbox.service import Sandbox

AREAS = (clients, invoices, reports, accounting, control)


def all_routes(sandbox: Sandbox) -> list[Route]:
    return [route for area in AREAS for route in area.routes(sandbox)]
