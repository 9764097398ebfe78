"""Pull side: Partner API answers -> the warehouse (payments, settlements, distribution, cases, credentials,
Finvoice addresses). Plain functions, no Dagster: the assets in `defs/` and the CLI call the same code.

Each pull takes a DSN, a `ConfirmaClient`, a `TokenVault` and (for the daily data) a `Window`, works per active
client with that client's token, and returns a `PullReport` of counts.
"""

from confirma_pipeline.pull.cases import pull_cases
from confirma_pipeline.pull.credentials import refresh_credentials
from confirma_pipeline.pull.distribution import pull_distribution
from confirma_pipeline.pull.errors import PullError, PullIncompleteError, PullValidationError
from confirma_pipeline.pull.finvoice import pull_finvoice_credentials
from confirma_pipeline.pull.payments import pull_payments
from confirma_pipeline.pull.report import PullReport
from confirma_pipeline.pull.settlements import pull_settlements
from confirma_pipeline.pull.window import Window

__all__ = [
    "PullError",
    "PullIncompleteError",
    "PullReport",
    "PullValidationError",
    "Window",
    "pull_cases",
    "pull_distribution",
    "pull_finvoice_credentials",
    "pull_payments",
    "pull_settlements",
    "refresh_credentials",
]
