"""`RunContext`: the collaborators every push, pull and backfill step of one run works with.

Why one object: the same eight things (the warehouse, the API client, the token vault, the source relations,
the push knobs, the run id, the clients asked for, the logger) used to travel as keyword arguments through
every push, pull and backfill function, so adding a ninth meant touching all of them. A step now takes the
context plus what is its own (a window, a mode). The context is immutable: `for_clients` gives a narrowed copy
(a client backfill runs every step for one client).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import psycopg

from confirma_pipeline.push.settings import PushSettings
from confirma_pipeline.warehouse.connection import connect
from confirma_pipeline.warehouse.source import Relations

if TYPE_CHECKING:
    from confirma_pipeline.api.client import ConfirmaClient
    from confirma_pipeline.vault import TokenVault

log = logging.getLogger("confirma_pipeline")


@dataclass(frozen=True)
class RunContext:
    """One run's collaborators. `client`/`vault` may be None where a step needs no API (a dry run's preview,
    a status report); `creditor_ids` None means every client."""

    dsn: str | None
    client: ConfirmaClient | None = None
    vault: TokenVault | None = None
    relations: Relations = field(default_factory=Relations)
    settings: PushSettings = field(default_factory=PushSettings)
    run_id: str | None = None
    creditor_ids: tuple[str, ...] | None = None
    logger: logging.Logger | logging.LoggerAdapter = log

    def __post_init__(self) -> None:
        if self.creditor_ids is not None and not isinstance(self.creditor_ids, tuple):
            object.__setattr__(self, "creditor_ids", tuple(self.creditor_ids))

    def for_clients(self, creditor_ids: Iterable[str]) -> RunContext:
        """The same run narrowed to these clients."""
        return replace(self, creditor_ids=tuple(creditor_ids))

    @property
    def client_ids(self) -> list[str] | None:
        """`creditor_ids` as the list the warehouse functions take (None: every client)."""
        return list(self.creditor_ids) if self.creditor_ids is not None else None

    def connect(self, **kwargs: Any) -> psycopg.Connection:
        """A warehouse connection (one-line errors, no password shown)."""
        return connect(self.dsn, **kwargs)
