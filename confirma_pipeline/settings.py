"""Every setting the project reads, parsed in one place.

Each setting is one entry of `SETTINGS`: its environment variable, a parser, a default and a line of
help. `check()` parses them all before any work starts (the CLI before a command, the resources before a
Dagster run), so a bad value fails at once with one line that names the setting and what is wrong, never
a traceback. Dagster reads the same variables through `EnvVar` (defs/resources.py); its resources call
`check()` and `parse()` so both paths share these parsers. Adding a setting is adding one entry.

Settings marked `secret` are never shown: `secret_values()` feeds their values (and a DSN's password)
to the redaction applied to every operator error, log line and alert.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from confirma_pipeline.errors import ConfigError

ENVIRONMENTS = ("sandbox", "staging", "production")
# Each request in flight is a thread: past a few hundred, threads cost more than they bring (and a typo of
# 32000 would start as many).
MAX_CONCURRENCY = 512


# --- parsers: return the value or raise ValueError("what is wrong"), never echoing a secret -----------------
def _text(raw: str) -> str:
    return raw


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(f"unknown value {raw!r} (use {', '.join(options)})")
        return raw

    return parse


def _http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL (expected e.g. http://127.0.0.1:8080)")
    return raw.rstrip("/")


def _number(kind: type, *, minimum: float, maximum: float | None = None) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        try:
            value = kind(raw)
        except ValueError:
            raise ValueError(
                f"not a number ({'an integer' if kind is int else 'a decimal number, e.g. 0.5'})"
            ) from None
        if value != value or value in (float("inf"), float("-inf")):  # nan, inf: float() takes them
            raise ValueError("not a finite number")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise ValueError(f"must be {bound}")
        return value

    return parse


def _dsn(raw: str) -> str:
    import psycopg

    try:
        psycopg.conninfo.conninfo_to_dict(raw)
    except psycopg.ProgrammingError as exc:
        raise ValueError(f"malformed DSN ({malformed_dsn_reason(exc)})") from None
    return raw


def malformed_dsn_reason(exc: Exception) -> str:
    """libpq's first line about a DSN it cannot parse, with every quoted fragment of the DSN masked.

    Why: an unparseable DSN has no password libpq could name, and its messages quote the DSN's own text
    (`missing "=" after "<text>"`, `invalid URI query parameter: "<text>"`, the whole URI): any of that may
    be the password. Only a connection keyword or a lone punctuation mark stays readable."""
    import re

    from psycopg import pq

    keywords = {option.keyword.decode() for option in pq.Conninfo.get_defaults()}
    first = (str(exc).strip().splitlines() or ["unparseable"])[0]

    def mask(match: re.Match) -> str:
        fragment = match.group(1)
        return match.group(0) if fragment in keywords or len(fragment) <= 1 else '"***"'

    return re.sub(r'"([^"]*)"', mask, first)


def dsn_password(raw: str) -> tuple[str, ...]:
    """The password as libpq parses it, when it does: masked verbatim wherever libpq echoes it."""
    try:
        import psycopg

        password = psycopg.conninfo.conninfo_to_dict(raw).get("password")
    except Exception:
        return ()
    return (str(password),) if password else ()


def _directory(raw: str) -> Path:
    path = Path(raw).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} exists and is not a directory")
    return path


def _readable_file(raw: str) -> Path:
    path = Path(raw).expanduser()
    if path.exists() and not path.is_file():
        raise ValueError(f"{path} is not a file")
    return path


def _base_url(raw: str) -> str:
    from confirma_pipeline.api.client import check_base_url

    return check_base_url(raw)


def _whole(raw: str) -> tuple[str, ...]:
    return (raw,)


def _keys(raw: str) -> tuple[str, ...]:
    from confirma_pipeline.vault import split_keys

    return tuple(split_keys(raw))


def _token_keys(raw: str) -> str:
    """Every key a valid Fernet key, checked as the vault will (vault.fernets), before any work starts."""
    from confirma_pipeline.vault import fernets

    fernets(_keys(raw))
    return raw


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[str], Any]
    default: str | None
    help: str
    # The parts of the raw value that must never be shown (None: nothing is secret).
    secret: Callable[[str], Iterable[str]] | None = None


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("CONFIRMA_ENV", _choice(*ENVIRONMENTS), "sandbox", "which Confirma API to call"),
        Setting("CONFIRMA_SANDBOX_URL", _http_url, None, "URL of the sandbox API (CONFIRMA_ENV=sandbox)"),
        Setting("CONFIRMA_BASE_URL", _base_url, None, "overrides any environment's API URL (https)"),
        Setting("CONFIRMA_PARTNER_CODE", _text, None, "partner code for creditors whose own is blank"),
        Setting(
            "CONFIRMA_PROVISIONING_TOKEN", _text, None, "partner token that creates clients", secret=_whole
        ),
        Setting(
            "CONFIRMA_MAX_REQUESTS_PER_S",
            _number(float, minimum=0),
            "0",
            "ceiling of the adaptive request rate; 0: none (429s still slow the client down)",
        ),
        Setting(
            "CONFIRMA_CONCURRENCY",
            _number(int, minimum=1, maximum=MAX_CONCURRENCY),
            "32",
            "requests in flight at most (one thread each)",
        ),
        Setting(
            "CONFIRMA_TOKEN_KEY", _token_keys, None, "Fernet key(s) encrypting client tokens", secret=_keys
        ),
        Setting("CONFIRMA_TOKEN_KEY_FILE", _readable_file, None, "file holding the Fernet key(s)"),
        Setting(
            "WAREHOUSE_DSN", _dsn, None, "the warehouse (default: embedded PostgreSQL)", secret=dsn_password
        ),
        Setting("CONFIRMA_DATA_DIR", _directory, ".confirma", "local state: embedded PostgreSQL, key file"),
        Setting("DAGSTER_PG_URL", _dsn, None, "Dagster's storage for `ui`/`demo`", secret=dsn_password),
        Setting(
            "CONFIRMA_ALERT_WEBHOOK_URL",
            _http_url,
            None,
            "where alerts are posted (unset: alerts are off)",
            secret=_whole,
        ),
        Setting("CONFIRMA_UI_BASE_URL", _http_url, None, "Dagster UI address, for run links in alerts"),
        Setting(
            "CONFIRMA_ALERT_REJECTED_SHARE",
            _number(float, minimum=0.0, maximum=1.0),
            "0.05",
            "alert when a run rejects more than this share of its rows",
        ),
        Setting(
            "CONFIRMA_ALERT_FORMAT", _choice("slack", "teams", "json"), "slack", "payload shape of alerts"
        ),
    )
}


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    env = os.environ if environ is None else environ
    value = (env.get(name) or "").strip()
    return value or None


def parse(name: str, raw: str | None) -> Any:
    """`raw` parsed as setting `name` (None or blank: the default); ConfigError "NAME: what is wrong"."""
    setting = SETTINGS[name]
    value = (raw or "").strip() or setting.default
    if value is None:
        return None
    try:
        return setting.parse(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def get(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The parsed value of setting `name` from the environment (or its default, or None)."""
    return parse(name, _raw(name, environ))


def check(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Parse every setting; the first bad one raises ConfigError naming it. Returns the parsed values."""
    return {name: get(name, environ) for name in SETTINGS}


def secret_values(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The values (or parts) of the secret settings that are set, for redaction."""
    out: list[str] = []
    for setting in SETTINGS.values():
        raw = _raw(setting.name, environ)
        if raw and setting.secret:
            out.extend(part for part in setting.secret(raw) if part)
    return tuple(out)


def environment() -> str:
    return get("CONFIRMA_ENV")


def base_url() -> str | None:
    """CONFIRMA_BASE_URL: overrides the base URL of any environment (https; http only to loopback)."""
    return get("CONFIRMA_BASE_URL")


def partner_code() -> str | None:
    """CONFIRMA_PARTNER_CODE: the partner code sent for creditors whose partner_code is blank."""
    return get("CONFIRMA_PARTNER_CODE")


def api_client(*, require_provisioning: bool = False, concurrency: int | None = None):
    """A ConfirmaClient for the environment variables (the CLI's way in; see `client_for`)."""
    return client_for(
        environment(),
        sandbox_url=get("CONFIRMA_SANDBOX_URL"),
        base_url=base_url(),
        provisioning_token=get("CONFIRMA_PROVISIONING_TOKEN"),
        require_provisioning=require_provisioning,
        max_requests=get("CONFIRMA_MAX_REQUESTS_PER_S") or None,
        concurrency=concurrency or get("CONFIRMA_CONCURRENCY"),
    )


def client_for(
    env: str,
    *,
    sandbox_url: str | None,
    base_url: str | None,
    provisioning_token: str | None,
    require_provisioning: bool = False,
    max_requests: str | float | None = None,
    concurrency: str | int | None = None,
    **transport: float,
):
    """The one place that turns settings into a `ConfirmaClient`: the CLI passes the environment variables
    (`api_client`), the Dagster resource its fields (which Dagster filled from the same variables), so both
    refuse the same mistakes with the same one-line messages. `transport`: timeout_s, connect_timeout_s,
    max_retries."""
    from confirma_pipeline.api import ConfirmaClient

    if env == "sandbox" and not sandbox_url and not base_url:
        raise ConfigError(
            "CONFIRMA_SANDBOX_URL: not set; start `confirma-pipeline sandbox` and point it there, "
            "or set CONFIRMA_ENV=staging|production"
        )
    if require_provisioning and not provisioning_token:
        raise ConfigError("CONFIRMA_PROVISIONING_TOKEN: not set; it is needed to onboard new clients")
    try:
        return ConfirmaClient.for_environment(
            env,
            sandbox_url=sandbox_url,
            base_url=base_url,
            provisioning_token=provisioning_token,
            max_requests_per_s=max_requests_per_s(max_requests),
            max_connections=api_concurrency(concurrency),
            **transport,
        )
    except ValueError as exc:  # e.g. plain http to a host that is not loopback
        raise ConfigError(f"CONFIRMA_SANDBOX_URL: {exc}") from None


def max_requests_per_s(raw: str | float | None) -> float | None:
    """CONFIRMA_MAX_REQUESTS_PER_S: the ceiling of the adaptive request rate; unset or 0: none (the API
    documents no rate limit; 429s still slow the client down)."""
    return parse("CONFIRMA_MAX_REQUESTS_PER_S", None if raw is None else str(raw)) or None


def api_concurrency(raw: str | int | None) -> int:
    """CONFIRMA_CONCURRENCY: requests in flight at most (the adaptive limit's ceiling), default 32."""
    return parse("CONFIRMA_CONCURRENCY", None if raw is None else str(raw))


def token_vault():
    from confirma_pipeline.vault import TokenVault

    return TokenVault.from_env()
