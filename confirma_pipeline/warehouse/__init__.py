"""The PostgreSQL warehouse: connection (DSN or embedded default), migrations, bulk reads and
COPY-based writes. Knows nothing of Dagster."""

from confirma_pipeline.warehouse.connection import connect, redact_dsn, resolve_dsn

__all__ = ["connect", "redact_dsn", "resolve_dsn"]
