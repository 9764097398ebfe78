"""What one run carries from step to step (see `context.RunContext`)."""

from confirma_pipeline.run.context import RunContext

__all__ = ["RunContext"]
