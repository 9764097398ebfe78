"""Shared Dagster helpers beneath the domain folders: metadata, policies, partitions, check bodies, the run log
and the pulled-asset wiring. The domains import from here and refer to each other's assets by key only."""
