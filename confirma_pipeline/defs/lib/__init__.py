"""Shared Dagster helpers beneath the domain folders: metadata, policies, partitions, the push-asset factory
(push_assets.py), the check factories (checks.py), the run log and the pulled-asset wiring. The domains import
from here and refer to each other's assets by key only."""
