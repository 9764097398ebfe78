"""Contract drift: fields an answer has that the models do not know, and optional fields it leaves out.

Response models keep unknown fields (`extra="allow"`) so a new server field never breaks parsing, and
default missing optional ones, so neither is seen unless someone looks. `DriftRecorder` looks: each
answer is walked against its model, and (endpoint, field path, kind, JSON type) is counted once per
answer. Only names and JSON types are kept, never values, so the counts are safe to store and show.

kind: "unknown" (the answer has it, the model does not) or "missing" (an optional field of the model
the answer leaves out; a required one fails parsing anyway). Field paths use the JSON names, with
"[]" for list items: `distributions[].invoiceNumber`.
"""

from __future__ import annotations

import functools
import json
import threading
import types
import typing
from collections import Counter
from typing import Any

from pydantic import AliasChoices, BaseModel, RootModel

Observation = tuple[str, str, str, str]  # (endpoint, field path, kind, JSON type)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _names(name: str, field) -> set[str]:
    names = {name}
    if field.alias:
        names.add(field.alias)
    if isinstance(field.validation_alias, AliasChoices):
        names.update(c for c in field.validation_alias.choices if isinstance(c, str))
    elif isinstance(field.validation_alias, str):
        names.add(field.validation_alias)
    return names


def _model_of(annotation) -> tuple[type[BaseModel] | None, bool]:
    """(model inside `annotation`, is it a list of them), through Optional, Annotated and list."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_of(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                return _model_of(arg)
    if origin is list:
        model, _ = _model_of(typing.get_args(annotation)[0])
        return model, True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def walk(model: type[BaseModel], data: Any, path: str = "") -> set[tuple[str, str, str]]:
    """Every (field path, kind, JSON type) of one answer against its model."""
    found: set[tuple[str, str, str]] = set()
    if issubclass(model, RootModel):
        inner, many = _model_of(model.model_fields["root"].annotation)
        if inner is not None and many and isinstance(data, list):
            for item in data:
                found |= walk(inner, item, path + "[].")
        return found
    if not isinstance(data, dict):
        return found
    known: set[str] = set()
    for name, field in model.model_fields.items():
        names = _names(name, field)
        known |= names
        key = next((n for n in names if n in data), None)
        json_name = field.alias or name
        if key is None:
            if not field.is_required():
                found.add((f"{path}{json_name}", "missing", "absent"))
            continue
        inner, many = _model_of(field.annotation)
        if inner is None:
            continue
        value = data[key]
        if many and isinstance(value, list):
            for item in value:
                found |= walk(inner, item, f"{path}{json_name}[].")
        elif not many:
            found |= walk(inner, value, f"{path}{json_name}.")
    for key, value in data.items():
        if key not in known:
            found.add((f"{path}{key}", "unknown", json_type(value)))
    return {(p.rstrip("."), k, t) for p, k, t in found}


@functools.cache
def _is_flat(model: type[BaseModel]) -> bool:
    """No field holds another model: an answer's observations then depend only on its keys (and the JSON
    types of the unknown ones), so they can be remembered per key set."""
    return not issubclass(model, RootModel) and all(
        _model_of(field.annotation)[0] is None for field in model.model_fields.values()
    )


_MAX_SHAPES = 256


class DriftRecorder:
    """Thread-safe counts of observations, per answer (see module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[Observation] = Counter()
        # (model, keys in order) -> (observations of missing fields, unknown keys): the hot path (one
        # create-invoice answer per invoice) walks each shape once, not each answer.
        self._shapes: dict[tuple[type[BaseModel], tuple[str, ...]], tuple[set, tuple[str, ...]]] = {}

    def _walk(self, model: type[BaseModel], data: Any) -> set[tuple[str, str, str]]:
        if not (isinstance(data, dict) and _is_flat(model)):
            return walk(model, data)
        key = (model, tuple(data))
        shape = self._shapes.get(key)
        if shape is None:
            found = walk(model, data)
            shape = ({f for f in found if f[1] != "unknown"}, tuple(p for p, k, _ in found if k == "unknown"))
            if len(self._shapes) < _MAX_SHAPES:
                self._shapes[key] = shape
        missing, unknown = shape
        return (
            missing | {(name, "unknown", json_type(data[name])) for name in unknown} if unknown else missing
        )

    def observe(self, endpoint: str, model: type[BaseModel], content: bytes) -> None:
        try:
            data = json.loads(content) if content else None
        except ValueError:
            return  # not JSON: parsing reports that
        self.record(endpoint, self._walk(model, data))

    def record(self, endpoint: str, seen: set[tuple[str, str, str]]) -> None:
        """Count one answer's (field path, kind, JSON type) observations, found by `walk` or column-wise."""
        if seen:
            with self._lock:
                self.counts.update((endpoint, p, k, t) for p, k, t in seen)

    def take(self) -> Counter[Observation]:
        """The counts so far, cleared (a caller stores them once)."""
        with self._lock:
            counts, self.counts = self.counts, Counter()
        return counts
