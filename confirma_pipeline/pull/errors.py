"""Errors of the pull side. Messages name the entity, the client and the failing fields or checks;
never a token, never a payload value (an account name or an IBAN is not for a run log)."""

from __future__ import annotations

from collections.abc import Iterable

import pandera.pandas as pa
import pydantic

from confirma_pipeline.errors import OperatorError

_MAX_ITEMS = 5


class PullError(OperatorError):
    """A pull that an operator must look at (fails the partition without a step retry)."""


class PullValidationError(PullError):
    """An API answer failed its model: nothing of that client's answer was written."""


class PullIncompleteError(Exception):
    """Some clients failed transiently (API down after the client's own retries, a database error).
    The other clients were written. Not an OperatorError on purpose: Dagster's step retry policy
    re-runs the step, which is safe because every write is an idempotent upsert or window replace."""


def _join(items: Iterable[str]) -> str:
    items = list(dict.fromkeys(items))
    shown = "; ".join(items[:_MAX_ITEMS])
    return shown + (f"; and {len(items) - _MAX_ITEMS} more" if len(items) > _MAX_ITEMS else "")


def describe_schema_errors(exc: pa.errors.SchemaErrors) -> str:
    """'column: check (n rows)' for each failing column and check, without the failing values."""
    cases = exc.failure_cases
    parts: list[str] = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=True):
        name = "(frame)" if column is None or column != column else str(column)
        parts.append(f"{name}: {check} ({len(group)} row(s))")
    return _join(parts) or "schema check failed"


def describe_pydantic_errors(exc: pydantic.ValidationError) -> str:
    """'<json path>: <message>' for each error, without the input values."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        path = ".".join(str(p) for p in error.get("loc", ())) or "(answer)"
        parts.append(f"{path}: {error.get('msg', 'invalid')}")
    return _join(parts) or "answer does not match its model"


def answer_invalid(entity: str, creditor_id: str, detail: str) -> str:
    return f"{entity} answer for client {creditor_id} failed validation, not written: {detail}"
