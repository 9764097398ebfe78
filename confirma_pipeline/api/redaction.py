"""Keeping secrets out of logs: header redaction, DSN/URL redaction and a logging filter.

Every log line the API client writes about a request goes through `redact_headers`. `RedactingFilter` is a
second line of defence for records formatted elsewhere (e.g. httpx's own loggers): it masks any
`X-Api-Key`-style header value and any token explicitly registered with `register_secret`.

`redact_secrets` masks the password-like parts of anything shaped like a DSN or a URL, by shape and not by
parsing: the strings that leak are exactly the ones a parser refuses (a scheme typo, one slash, an `@`
inside the password, spaces, quotes, percent-encoding). It errs on masking too much.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import unquote

from confirma_pipeline.api.contract import API_KEY_HEADER

MASK = "***"
SENSITIVE_HEADERS = frozenset({API_KEY_HEADER.lower(), "authorization", "proxy-authorization", "cookie"})
_HEADER_PATTERN = re.compile(
    r"""(?i)((?:x-api-key|authorization)['"]?\s*[:=,]\s*\(?\s*b?['"]?)([^'"\s,)}\]]+)"""
)

_UUID_PATTERN = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")

LOGGER_NAME = "confirma_pipeline.api"

# `scheme:` (any scheme, typos included) with 0-3 slashes, or a bare `//`, then `user:` -- what follows the
# colon up to the host's `@` is a password.
_USERINFO_START = re.compile(r"(?:\b[A-Za-z][A-Za-z0-9+.\-]*:/{0,3}|(?<![\w/])//)[^\s:/@'\"]*:")
# key=value (libpq conninfo, URL queries, percent-encoded `=`) and quoted JSON/YAML-style key: "value".
_SECRET_KEYS = r"(?:ssl)?pass(?:word|wd)?|pwd|secret|(?:access_|api[_-]?)?token|api[_-]?key"
_KEY_VALUE = re.compile(
    rf"""(?i)(\b(?:{_SECRET_KEYS})\s*(?:=|%3D)\s*)('(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|\S+)"""
)
_KEY_COLON_QUOTED = re.compile(
    rf"""(?i)(["']?\b(?:{_SECRET_KEYS})["']?\s*:\s*)("(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?)"""
)
# `user:password@host` with no scheme: only within one token, and the user must start the token.
_BARE_USERINFO = re.compile(r"""(?<![\w:/.%\-])([\w.\-]+:)(?!/|\*\*\*@)[^\s'"]+@(?=[\w\[])""")
_PERCENT_RUN = re.compile(r"\S*%[0-9A-Fa-f]{2}\S*")
_SPACED_PASSWORD_LIMIT = 128  # how far past a space a password's closing `@` is looked for


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


def _password_end(text: str, start: int) -> int | None:
    """Where the password that starts at `start` ends (the host's `@`), or None if nothing follows.

    Within one token the last `@` wins (an `@` inside the password). A password with a space is
    recognised only while no `/` appeared (i.e. before any path): `host:5432/db` is not a password."""
    token_end = start
    while token_end < len(text) and not text[token_end].isspace() and text[token_end] not in "'\"":
        token_end += 1
    at = text.rfind("@", start, token_end)
    if at >= 0:
        return at
    if "/" in text[start:token_end]:
        return None
    line_end = min(len(text), start + _SPACED_PASSWORD_LIMIT)
    for stop in "\n'\"":
        found = text.find(stop, start, line_end)
        if found >= 0:
            line_end = found
    at = text.find("@", token_end, line_end)
    return at if at >= 0 else None


def _redact_userinfo(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in _USERINFO_START.finditer(text):
        if match.start() < position:
            continue
        end = _password_end(text, match.end())
        if end is None:
            continue
        if end == match.end():  # `user:@host`: no password, drop the empty one's colon
            out.append(text[position : match.end() - 1])
        else:
            out.append(text[position : match.end()])
            out.append(MASK)
        position = end
    out.append(text[position:])
    return "".join(out)


def _redact_shapes(text: str) -> str:
    text = _redact_userinfo(text)
    text = _BARE_USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    text = _KEY_VALUE.sub(lambda m: m.group(1) + MASK, text)
    return _KEY_COLON_QUOTED.sub(lambda m: m.group(1) + MASK, text)


def _redact_percent_encoded(text: str) -> str:
    """A percent-encoded DSN (`postgresql%3A%2F%2Fu%3Apw%40h`) is redacted in its decoded form."""

    def one(match: re.Match) -> str:
        decoded = unquote(match.group(0))
        redacted = _redact_shapes(decoded)
        return redacted if redacted != decoded else match.group(0)

    return _PERCENT_RUN.sub(one, text)


def redact_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every password-like part of a DSN- or URL-shaped string, every header-style secret and
    every given secret (also in its percent-encoded form) replaced by ***. Safe on any text: apply it to
    exception messages, log lines and event text before they leave the process."""
    if not text:
        return text
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    text = _redact_percent_encoded(_redact_shapes(text))
    return _HEADER_PATTERN.sub(lambda m: m.group(1) + MASK, text)


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
        masked = redact_secrets(message, secrets)
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
