"""The sandbox's in-memory state: JSON-native records under one lock, optionally persisted to a file.

Records hold only JSON types (amounts as decimal strings, dates as ISO strings) so saving is a plain dump.
Saving is atomic (write to a temporary file, then rename) and happens on shutdown and after control calls.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import threading
import uuid
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
#: the simulated accounting systems' defaults (sandbox/accounting.py): every queued item syncs one simulated
#: day later, none fail; a reset restores them
ACCOUNTING_SYNC_DEFAULTS = {"failureRate": 0.0, "syncDelayDays": 1}


def iso_z(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and Z, as the docs show (2026-04-01T09:34:12.123Z)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso_datetime(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class SandboxState:
    """Everything the sandbox knows. All access goes through `lock` (an RLock)."""

    def __init__(self, start_date: date | None = None, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.start_date = start_date or datetime.now(timezone.utc).date()
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.today: date = self.start_date
            self.clients: dict[int, dict[str, Any]] = {}
            self.tokens: dict[str, dict[str, Any]] = {}
            self.invoices: dict[int, dict[int, dict[str, Any]]] = {}
            self.cases: dict[int, dict[str, Any]] = {}
            self.payments: list[dict[str, Any]] = []
            self.settlements: list[dict[str, Any]] = []
            self.pending_actions: list[dict[str, Any]] = []
            self.ledgers: dict[int, list[dict[str, Any]]] = {}
            self.accounting_payments: dict[int, list[dict[str, Any]]] = {}
            self.accounting_sync: dict[str, Any] = dict(ACCOUNTING_SYNC_DEFAULTS)  # see sandbox/accounting.py
            self.journal: list[dict[str, Any]] = []
            self.counters: dict[str, int] = {
                "client": 1000,
                "case": 481900,
                "allocation": 9001000,
                "payment": 0,
            }
            self.rng = random.Random(self.seed)
            self.variants: frozenset[str] = frozenset()  # sandbox/variants.py; reset switches them off

    # --- time ---------------------------------------------------------------------------------------------
    def now(self) -> datetime:
        """Simulated now: the simulated day at the real UTC time of day."""
        real = datetime.now(timezone.utc)
        return datetime.combine(self.today, real.time(), tzinfo=timezone.utc)

    def day_start(self, day: date | None = None) -> datetime:
        return datetime.combine(day or self.today, time(0, 0), tzinfo=timezone.utc)

    def next_id(self, name: str) -> int:
        self.counters[name] += 1
        return self.counters[name]

    # --- clients and tokens -------------------------------------------------------------------------------
    def add_client(self, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        with self.lock:
            client_id = self.next_id("client")
            client = body.get("client", {})
            record = {
                "clientIdentifier": client_id,
                "confirmaFinanceCustomerCode": 50000 + client_id,
                "paymentReferencePrefix": 1000 + client_id,
                "name": client.get("name"),
                "businessCode": client.get("businessCode"),
                "ibanAccount": client.get("ibanAccount") or "",
                "bic": client.get("bic") or "",
                "currencyCode": client.get("currencyCode") or "EUR",
                "serviceType": body.get("service", {}).get("type"),
                "createdAt": iso_z(self.now()),
            }
            self.clients[client_id] = record
            token = str(uuid.uuid4())
            self.tokens[token] = {"clientIdentifier": client_id, "expiresAt": None}
            self.invoices[client_id] = {}
            return record, token

    def add_journal(self, kind: str, client_id: int | None, **extra: Any) -> None:
        entry = {"seq": len(self.journal) + 1, "kind": kind, "clientIdentifier": client_id}
        entry.update(extra)
        entry["at"] = iso_z(self.now())
        self.journal.append(entry)

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {
                "clients": len(self.clients),
                "tokens": len(self.tokens),
                "invoices": sum(len(v) for v in self.invoices.values()),
                "cases": len(self.cases),
                "openCases": sum(1 for case in self.cases.values() if case["status"] == "OPEN"),
                "payments": len(self.payments),
                "settlements": len(self.settlements),
                "pendingActions": len(self.pending_actions),
                "journal": len(self.journal),
            }

    # --- persistence --------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        with self.lock:
            rng_state = self.rng.getstate()
            return {
                "version": FORMAT_VERSION,
                "startDate": self.start_date.isoformat(),
                "today": self.today.isoformat(),
                "seed": self.seed,
                "clients": list(self.clients.values()),
                "tokens": self.tokens,
                "invoices": {str(k): list(v.values()) for k, v in self.invoices.items()},
                "cases": list(self.cases.values()),
                "payments": self.payments,
                "settlements": self.settlements,
                "pendingActions": self.pending_actions,
                "ledgers": {str(k): v for k, v in self.ledgers.items()},
                "accountingPayments": {str(k): v for k, v in self.accounting_payments.items()},
                "journal": self.journal,
                "counters": self.counters,
                "rng": [rng_state[0], list(rng_state[1]), rng_state[2]],
            }

    def load_json(self, data: dict[str, Any]) -> None:
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported sandbox state version {data.get('version')!r}")
        with self.lock:
            self.reset()
            self.start_date = date.fromisoformat(data["startDate"])
            self.today = date.fromisoformat(data["today"])
            self.clients = {rec["clientIdentifier"]: rec for rec in data["clients"]}
            self.tokens = data["tokens"]
            self.invoices = {int(k): {inv["number"]: inv for inv in v} for k, v in data["invoices"].items()}
            self.cases = {rec["caseId"]: rec for rec in data["cases"]}
            self.payments = data["payments"]
            self.settlements = data["settlements"]
            self.pending_actions = data["pendingActions"]
            self.ledgers = {int(k): v for k, v in data["ledgers"].items()}
            self.accounting_payments = {int(k): v for k, v in data["accountingPayments"].items()}
            self.journal = data["journal"]
            self.counters = data["counters"]
            version, internal, gauss = data["rng"]
            self.rng.setstate((version, tuple(internal), gauss))

    def save(self, path: Path) -> None:
        payload = json.dumps(self.to_json(), separators=(",", ":"))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".sandbox-state-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.chmod(tmp, 0o600)  # holds client tokens
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self, path: Path) -> bool:
        """Load `path` if it exists; returns whether it did."""
        if not path.exists():
            return False
        self.load_json(json.loads(path.read_text(encoding="utf-8")))
        return True
