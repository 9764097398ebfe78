"""Fixtures of the pull tests (defined in pull_world.py): `pull_sandbox` (one in-process sandbox over
loopback per session) and `world` (clients and submitted invoices 60 simulated days later, fresh warehouse)."""

from pull_world import pull_sandbox, world  # noqa: F401
