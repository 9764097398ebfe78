"""Stable hashes of API bodies (the ledger's "changed after submission"): sha256 hex digests of canonical
JSON, so they are the same in every process and on every machine.

The hashes of source rows (a rejected row "changed since it was rejected") are `validation.row_hashes`
(validation hashes what it rejects and must not import mapping, issue #12)."""

from __future__ import annotations

import hashlib
import json


def canonical_json(body: object) -> str:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 kept (not escaped)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json_bytes(body: object) -> bytes:
    """`canonical_json` as UTF-8 bytes: a request can send exactly the bytes it hashed."""
    return canonical_json(body).encode("utf-8")


def payload_hash(body: object) -> str:
    """sha256 hex of the canonical JSON of an API body. Bytes are taken as already canonical JSON (from
    `canonical_json_bytes`), so a caller that serialises once for sending does not serialise twice."""
    if isinstance(body, bytes | bytearray | memoryview):
        return hashlib.sha256(body).hexdigest()
    return hashlib.sha256(canonical_json_bytes(body)).hexdigest()
