"""Pull side: Partner API answers -> the warehouse (payments, settlements, distribution, cases, client tokens,
e-invoice addresses). Plain functions, no Dagster: the assets in `defs/` and the CLI call the same code.

Each pull takes a `RunContext` (warehouse, API client, token vault, clients asked for, logger) plus its own
arguments (a `Window`, a look-back, a mode), works per active client with that client's token, and returns a
`PullReport` of counts. The pulls that share a shape are `PullSpec`s run by one engine (pull/spec.py,
pull/engine.py); settlements and the client-token refresh are bespoke (their modules say why).
"""

from confirma_pipeline.pull.cases import CASES, pull_cases
from confirma_pipeline.pull.client_tokens import refresh_client_tokens
from confirma_pipeline.pull.distribution import DISTRIBUTION, pull_distribution
from confirma_pipeline.pull.einvoice_addresses import EINVOICE_ADDRESSES, pull_einvoice_addresses
from confirma_pipeline.pull.errors import PullError, PullIncompleteError, PullValidationError
from confirma_pipeline.pull.payments import PAYMENTS, pull_payments
from confirma_pipeline.pull.report import PullReport
from confirma_pipeline.pull.settlements import pull_settlements
from confirma_pipeline.pull.spec import PullSpec
from confirma_pipeline.pull.window import Window

#: Every pull described as a spec (the table-driven test runs over these).
SPECS: tuple[PullSpec, ...] = (PAYMENTS, DISTRIBUTION, CASES, EINVOICE_ADDRESSES)

__all__ = [
    "SPECS",
    "PullError",
    "PullIncompleteError",
    "PullReport",
    "PullSpec",
    "PullValidationError",
    "Window",
    "pull_cases",
    "pull_distribution",
    "pull_einvoice_addresses",
    "pull_payments",
    "pull_settlements",
    "refresh_client_tokens",
]
