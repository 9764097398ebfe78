"""Errors whose message is written for an operator and is safe to print as one line.

They never carry a secret (tokens, keys, passwords): code that raises them builds the
message from setting names and sanitized values only.
"""

from __future__ import annotations


class OperatorError(Exception):
    """Something an operator must fix; the CLI prints the message without a traceback."""


class ConfigError(OperatorError):
    """A missing or malformed setting. The message names the setting (e.g. an env var)."""
