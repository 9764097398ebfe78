"""Keeping secrets out of logs: header redaction and a logging filter.

Every log line the API client writes about a request goes through `redact_headers`. `RedactingFilter` is a
second line of defence for records formatted elsewhere (e.g. httpx's own loggers): it masks any
`X-Api-Key`-style header value and any token explicitly registered with `register_secret`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping

from confirma_pipeline.api.contract import API_KEY_HEADER

MASK = "***"
SENSITIVE_HEADERS = frozenset({API_KEY_HEADER.lower(), "authorization", "proxy-authorization", "cookie"})
_HEADER_PATTERN = re.compile(
    r"""(?i)((?:x-api-key|authorization)['"]?\s*[:=,]\s*\(?\s*b?['"]?)([^'"\s,)}\]]+)"""
)

_UUID_PATTERN = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")

LOGGER_NAME = "confirma_pipeline.api"


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """A copy of `headers` (mapping, httpx.Headers or pairs) with every secret value replaced by ***."""
    items = headers.items() if hasattr(headers, "items") else headers
    out: dict[str, str] = {}
    for name, value in items:
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        if key.lower() in SENSITIVE_HEADERS:
            out[key] = MASK
        else:
            out[key] = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return out


def redact_text(text: str, secrets: Iterable[str] = (), *, mask_uuids: bool = False) -> str:
    """Mask header-style secrets and the given secret strings in free text; with `mask_uuids`, also anything
    shaped like a UUID (the form of client tokens), for text that came from a server."""
    text = _HEADER_PATTERN.sub(lambda m: m.group(1) + MASK, text)
    if mask_uuids:
        text = _UUID_PATTERN.sub(MASK, text)
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Formats the record, masks secrets, and stores the masked text as the record's message."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def secrets(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._secrets)

    def register_secret(self, secret: str) -> None:
        if secret:
            with self._lock:
                self._secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record must neither leak nor crash logging
            message = str(record.msg)
        with self._lock:
            secrets = tuple(self._secrets)
        masked = redact_text(message, secrets)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True


_FILTER = RedactingFilter()
_INSTALLED: set[str] = set()
_INSTALL_LOCK = threading.Lock()


def install_redaction(logger_names: Iterable[str] = (LOGGER_NAME, "httpx", "httpcore")) -> RedactingFilter:
    """Attach the shared RedactingFilter to the given loggers (idempotent) and return it."""
    with _INSTALL_LOCK:
        for name in logger_names:
            if name not in _INSTALLED:
                logging.getLogger(name).addFilter(_FILTER)
                _INSTALLED.add(name)
    return _FILTER
