"""Errors whose message is written for an operator and is safe to print as one line, and the CLI's
exit codes.

They never carry a secret (tokens, keys, passwords): code that raises them builds the message from
setting names and sanitized values, and the message is redacted once more when the error is built
(anything DSN- or URL-shaped, and the values of the secret settings), so a forgotten case cannot leak.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What a `confirma-pipeline` command tells cron, systemd or CI (README: "Exit codes")."""

    OK = 0  # everything asked for was done
    INTERNAL = 1  # an unexpected error (a bug): the redacted traceback is printed
    USAGE = 2  # the command line or its input is wrong (argparse, a missing argument, an empty stdin)
    PARTIAL = 3  # done, but some rows failed (retried next run) or are unknown (wait for an operator)
    UNREACHABLE = 4  # the API or the warehouse could not be reached
    CONFIG = 5  # a setting is missing or malformed; nothing was done
    INTERRUPTED = 130  # Ctrl-C or SIGTERM: stopped cleanly


def redact(text: str) -> str:
    """`text` with DSN/URL passwords and the values of the secret settings masked."""
    from confirma_pipeline.api.redaction import redact_secrets
    from confirma_pipeline.settings import secret_values

    return redact_secrets(text, secret_values())


class OperatorError(Exception):
    """Something an operator must fix; the CLI prints the message without a traceback."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str = "", *args: object) -> None:
        super().__init__(redact(str(message)), *args)


class ConfigError(OperatorError):
    """A missing or malformed setting. The message names the setting (e.g. an env var)."""

    exit_code = ExitCode.CONFIG


class UnreachableError(OperatorError):
    """The API or the warehouse did not answer (refused, timed out, DNS). The message names the setting
    that points there, so the operator knows what to check."""

    exit_code = ExitCode.UNREACHABLE
