"""Alerts posted to a chat webhook (Slack, Microsoft Teams, or any JSON receiver).

Nothing here knows Dagster: defs/alerting.py decides *when* to alert and builds an `Alert`; this module
decides *how* it looks on the wire and delivers it with a bounded number of attempts. Every text that
leaves goes through the redaction (DSN/URL passwords, the secret settings, the webhook URL itself), and
an alert carries keys and counts only: job, run id, step, check, asset, numbers.

Payload shapes (`CONFIRMA_ALERT_FORMAT`):
- slack: `{"text": ...}` -- what Slack incoming webhooks take; Teams' "Incoming Webhook" connector and
  most chat bridges accept it too;
- teams: a MessageCard (`@type`, `summary`, `title`, `text`, `themeColor`) for Teams connectors;
- json: `{"text": ..., "alert": {...}}` for a receiver of your own.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import httpx

from confirma_pipeline.errors import redact

FORMATS = ("slack", "teams", "json")


@dataclass(frozen=True)
class Alert:
    severity: str  # "error" | "warning"
    title: str  # one line: what happened, e.g. "nightly_sync failed"
    lines: tuple[str, ...] = ()  # details: step, check, counts
    link: str | None = None  # the run in the Dagster UI
    facts: dict[str, str | int] = field(default_factory=dict)  # keys and counts only

    def text(self) -> str:
        body = "\n".join([self.title, *self.lines, *([f"run: {self.link}"] if self.link else [])])
        return redact(body)


def payload(alert: Alert, fmt: str = "slack") -> dict:
    text = alert.text()
    if fmt == "teams":
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": redact(alert.title),
            "title": redact(alert.title),
            "themeColor": "D40000" if alert.severity == "error" else "E8A317",
            "text": text.replace("\n", "  \n"),  # Teams markdown: two spaces before a line break
        }
    if fmt == "json":
        return {"text": text, "alert": _redacted(asdict(alert))}
    return {"text": text}


def describe_destination() -> str:
    """Where alerts go, in one line that never shows the URL's path or query (they are the secret)."""
    from urllib.parse import urlsplit

    from confirma_pipeline import settings

    url = settings.get("CONFIRMA_ALERT_WEBHOOK_URL")
    if not url:
        return (
            "off: CONFIRMA_ALERT_WEBHOOK_URL is not set (the alert sensors log each alert instead); "
            "set it to a Slack or Teams webhook to turn alerts on"
        )
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/... as {settings.get('CONFIRMA_ALERT_FORMAT')} messages"


def _redacted(value):
    """Every string in a JSON-shaped value, redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return value


def deliver(
    url: str, body: dict, *, attempts: int = 3, timeout_s: float = 10.0, backoff_s: float = 1.0
) -> tuple[bool, str]:
    """POST `body` as JSON, retrying transport errors, 429 and 5xx at most `attempts` times in all.

    Returns (delivered, what happened in one safe line). Never raises: a broken webhook must not break
    the sensor that reports the failure, and the URL (itself a secret for Slack and Teams) is never named."""
    last = "not tried"
    for attempt in range(max(1, attempts)):
        if attempt:
            time.sleep(backoff_s * 2 ** (attempt - 1))
        try:
            response = httpx.post(url, json=body, timeout=timeout_s, follow_redirects=False)
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}"
            continue
        if response.status_code < 300:
            return True, f"delivered (HTTP {response.status_code})"
        last = f"HTTP {response.status_code}"
        if response.status_code != 429 and response.status_code < 500:
            break  # the receiver refused this message for good; retrying sends the same refusal
    return False, f"not delivered after {attempt + 1} attempt(s) (last: {last})"
