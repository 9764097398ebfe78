"""`confirma-pipeline contract check`: what the configured API's answers say about api/contract.py.

Read-only by construction: only GETs, and never /renew (it replaces the token) nor settlements with
`unfetchedOnly` (it marks settlements fetched). It validates the client's token, calls each GET endpoint
once, saves every answer under `<data dir>/contract-check/<UTC time>/` with tokens and personal fields
masked, and judges each CHOSEN or INFERRED point of api/contract.py's docstring: confirmed, contradicted
(with the evidence) or open (these answers cannot tell, e.g. everything a POST would show).

The points are read from the docstring itself, so a new choice is listed (as open) without touching this
module; `PROBES` says which answers settle which point.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confirma_pipeline.api import contract as c
from confirma_pipeline.api import models as m
from confirma_pipeline.api.drift import walk

CONFIRMED, CONTRADICTED, OPEN = "confirmed", "contradicted", "open"
PROBE_DAYS = 400  # distribution asked for the last 400 days: a cut at 30 days shows in the echoed range
WINDOW_DAYS = 30


@dataclass
class Answer:
    name: str
    path: str
    params: dict[str, Any]
    status: int | None = None
    body: Any = None  # parsed JSON (None when empty or not JSON)
    refusal: Any = None  # the client's error for a 4xx (reason and field errors)
    skipped: str | None = None  # why it was not called


@dataclass
class Point:
    kind: str  # CHOSEN | INFERRED
    text: str
    verdict: str = OPEN
    evidence: str = "these GET answers cannot tell"


@dataclass
class Report:
    base_url: str
    creditor_id: str
    saved_in: Path
    points: list[Point] = field(default_factory=list)
    unknown_fields: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (answer, field path, JSON type)

    def count(self, verdict: str) -> int:
        return sum(1 for p in self.points if p.verdict == verdict)

    def lines(self) -> list[str]:
        out = [f"contract check against {self.base_url} with the token of {self.creditor_id}"]
        out.append(f"answers saved (tokens and personal fields masked) in {self.saved_in}")
        for verdict in (CONTRADICTED, CONFIRMED, OPEN):
            for p in self.points:
                if p.verdict == verdict:
                    out.append(f"{verdict.upper():<13}{p.kind:<9}{p.text}")
                    if verdict != OPEN:
                        out.append(f"{'':22}-> {p.evidence}")
        for name, path, kind in self.unknown_fields:
            out.append(f"UNKNOWN FIELD {name}: {path} ({kind})")
        out.append(
            f"summary: {self.count(CONFIRMED)} confirmed, {self.count(CONTRADICTED)} contradicted, "
            f"{self.count(OPEN)} open, {len(self.unknown_fields)} unknown field(s)"
        )
        return out


def contract_points() -> list[Point]:
    """Every CHOSEN / INFERRED line of api/contract.py's docstring (continuation lines joined)."""
    points: list[Point] = []
    for line in (c.__doc__ or "").splitlines():
        match = re.match(r"^(CHOSEN|INFERRED)\s+(.*)$", line)
        if match:
            points.append(Point(match.group(1), match.group(2).strip()))
        elif points and line.startswith(" " * 10) and line.strip():
            points[-1].text += " " + line.strip()
    return points


# --- the calls ------------------------------------------------------------------------------------------
def call_all(
    client, token: str, *, business_id: str | None, case_id: int | None, today: dt.date
) -> list[Answer]:
    """Each GET endpoint once (validate first). Never /renew, never settlements' unfetchedOnly."""
    start, wide = today - dt.timedelta(days=WINDOW_DAYS), today - dt.timedelta(days=PROBE_DAYS)
    window = {c.Q_FROM_DATE: start.isoformat(), c.Q_TO_DATE: today.isoformat()}
    plan = [
        Answer("validate", c.PATH_VALIDATE, {}),
        Answer(
            "distribution_range",
            c.PATH_DISTRIBUTION,
            {c.Q_FROM_INV_DATE: wide.isoformat(), c.Q_TO_INV_DATE: today.isoformat()},
        ),
        Answer("distribution_default", c.PATH_DISTRIBUTION, {}),
        Answer("payments", c.PATH_PAYMENTS, dict(window)),
        Answer("settlements", c.PATH_SETTLEMENTS, dict(window)),
        Answer("accounting_ledger", c.PATH_LEDGER, dict(window)),
        Answer("accounting_payment", c.PATH_ACCOUNTING_PAYMENT, dict(window)),
        Answer("finvoice_credentials", c.PATH_FINVOICE_CREDENTIALS, {c.Q_BUSINESS_ID: business_id}),
        Answer("case", c.PATH_CASE, {c.Q_CASE_ID: case_id}),
    ]
    for answer in plan:
        if answer.name == "case" and answer.params[c.Q_CASE_ID] is None:
            answer.params[c.Q_CASE_ID] = _first_case_id(plan)
        if any(v is None for v in answer.params.values()):
            answer.skipped = "no value known for " + ", ".join(
                k for k, v in answer.params.items() if v is None
            )
            continue
        status, content, refusal = client.get_raw(token, answer.path, answer.params)
        answer.status, answer.refusal = status, refusal
        try:
            answer.body = json.loads(content) if content else None
        except ValueError:
            answer.body = None
    return plan


def _first_case_id(plan: list[Answer]) -> int | None:
    for answer in plan:
        if answer.name == "distribution_range" and isinstance(answer.body, dict):
            for records in answer.body.values():
                if isinstance(records, list):
                    for r in records:
                        if isinstance(r, dict) and isinstance(r.get("caseId"), int):
                            return r["caseId"]
    return None


# --- saving, masked ---------------------------------------------------------------------------------------
_KEEP = re.compile(
    r"(date|at|status|type|code|currency|method|stage|message|count|id|identifier|number|days)$", re.I
)
_PERSONAL = re.compile(r"(name|email|phone|mobile|street|address|district|personal|iban|account)", re.I)


def mask(value: Any, key: str = "", secrets: tuple[str, ...] = ()) -> Any:
    """Strings under personal-looking keys, and any token, become '***'; names of keys stay."""
    if isinstance(value, dict):
        return {k: mask(v, str(k), secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, key, secrets) for v in value]
    secret = isinstance(value, str) and any(s and s in value for s in secrets)
    if isinstance(value, str) and value and (secret or _PERSONAL.search(key) or not _KEEP.search(key)):
        return "***"
    return value


def save(answers: list[Answer], directory: Path, secrets: tuple[str, ...]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for a in answers:
        record = {
            "request": {"method": "GET", "path": a.path, "params": a.params},
            "status": a.status,
            "skipped": a.skipped,
            "refusal": None
            if a.refusal is None
            else {
                "reason": mask(getattr(a.refusal, "reason", ""), "message", secrets),
                "errors": [
                    {"field": f.field, "message": mask(f.message, "message", secrets)}
                    for f in getattr(a.refusal, "field_errors", [])
                ],
            },
            "body": mask(a.body, "", secrets),
        }
        (directory / f"{a.name}.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")


# --- judging ----------------------------------------------------------------------------------------------
Verdict = tuple[str, str]


def _ok(a: Answer) -> bool:
    return a.status is not None and 200 <= a.status < 300


def _meta(a: Answer) -> dict:
    meta = a.body.get("metaData") if isinstance(a.body, dict) else None
    return meta if isinstance(meta, dict) else {}


def _records(a: Answer) -> list | None:
    records = a.body.get(c.DISTRIBUTION_RECORDS_KEY) if isinstance(a.body, dict) else None
    return records if isinstance(records, list) else None


def _validate(by: dict[str, Answer]) -> Verdict | None:
    a = by["validate"]
    if not _ok(a) or not isinstance(a.body, dict):
        return CONTRADICTED, f"validate answered {a.status} {type(a.body).__name__}"
    missing = [k for k in ("isValid", "message", "expiresAt") if k not in a.body]
    return (
        (CONTRADICTED, f"keys {sorted(a.body)}; missing {missing}")
        if missing
        else (CONFIRMED, "all three keys")
    )


def _records_key(by: dict[str, Answer]) -> Verdict | None:
    a = by["distribution_range"]
    if not _ok(a):
        return None
    if _records(a) is None:
        keys = sorted(a.body) if isinstance(a.body, dict) else type(a.body).__name__
        return CONTRADICTED, f"no list under '{c.DISTRIBUTION_RECORDS_KEY}'; answer keys: {keys}"
    total = _meta(a).get("totalCount")
    if not isinstance(total, int):
        return CONTRADICTED, "metaData.totalCount is missing"
    if total != len(_records(a)):
        return CONTRADICTED, f"totalCount {total} but {len(_records(a))} records listed (paging?)"
    return CONFIRMED, f"{total} record(s) under '{c.DISTRIBUTION_RECORDS_KEY}', totalCount agrees"


def _range_echo(by: dict[str, Answer]) -> Verdict | None:
    a = by["distribution_range"]
    filters = _meta(a).get("filtersApplied")
    if not _ok(a) or not isinstance(filters, dict):
        return None
    asked = (a.params[c.Q_FROM_INV_DATE], a.params[c.Q_TO_INV_DATE])
    applied = (filters.get(c.Q_FROM_INV_DATE), filters.get(c.Q_TO_INV_DATE))
    if tuple(str(v)[:10] if v else v for v in applied) != asked or filters.get("defaultLast30Days") is True:
        return CONTRADICTED, f"asked {asked[0]}..{asked[1]}, filtersApplied says {applied[0]}..{applied[1]}"
    return CONFIRMED, f"filtersApplied echoes {asked[0]}..{asked[1]}"


def _recovery(by: dict[str, Answer]) -> Verdict | None:
    for probe in (_records_key, _range_echo):
        verdict = probe(by)
        if verdict is None:
            return None
        if verdict[0] == CONTRADICTED:
            return CONTRADICTED, verdict[
                1
            ] + " (recovery leaves interrupted invoices unknown: none is resent)"
    records = _records(by["distribution_range"]) or []
    if not records:
        return None  # the shape holds, but no record shows the invoiceNumber field
    if all(isinstance(r, dict) and isinstance(r.get("invoiceNumber"), int) for r in records):
        return CONFIRMED, "records listed, counted and echoed as recovery expects"
    return CONTRADICTED, "a record without an integer invoiceNumber"


def _default_window(by: dict[str, Answer]) -> Verdict | None:
    filters = _meta(by["distribution_default"]).get("filtersApplied")
    if not isinstance(filters, dict) or "defaultLast30Days" not in filters:
        return None
    if filters["defaultLast30Days"] is True:
        return CONFIRMED, "defaultLast30Days=true without a range"
    return CONTRADICTED, f"defaultLast30Days={filters['defaultLast30Days']!r} without a range"


def _record_fields(by: dict[str, Answer]) -> Verdict | None:
    records = _records(by["distribution_range"])
    if not records:
        return None
    missing = sorted({f for r in records for f in c.DISTRIBUTION_RECORD_FIELDS if f not in r})
    return (CONTRADICTED, f"records lack {missing}") if missing else (CONFIRMED, f"{len(records)} record(s)")


def _statuses(by: dict[str, Answer]) -> Verdict | None:
    records = _records(by["distribution_range"])
    if not records:
        return None
    seen = {r.get("distributionStatus") for r in records if isinstance(r, dict)}
    other = sorted(str(s) for s in seen - set(c.DISTRIBUTION_STATUSES))
    return (CONTRADICTED, f"statuses {other}") if other else (CONFIRMED, f"statuses {sorted(map(str, seen))}")


def _case(by: dict[str, Answer]) -> Verdict | None:
    a = by["case"]
    if a.skipped:
        return None
    if _ok(a) and isinstance(a.body, dict) and "case" in a.body:
        return CONFIRMED, f"caseId={a.params[c.Q_CASE_ID]} answered a case"
    return CONTRADICTED, f"caseId={a.params[c.Q_CASE_ID]} answered {a.status}"


def _case_status(by: dict[str, Answer]) -> Verdict | None:
    a = by["case"]
    summary = a.body.get("case", {}).get("summary") if _ok(a) and isinstance(a.body, dict) else None
    if not isinstance(summary, dict):
        return None
    status, stage = summary.get("status"), summary.get("stage")
    if status in c.CASE_STATUSES and stage in c.CASE_STAGES:
        return CONFIRMED, f"status {status}, stage {stage}"
    return CONTRADICTED, f"status {status!r}, stage {stage!r}"


def _payment_fields(by: dict[str, Answer]) -> Verdict | None:
    a = by["payments"]
    if not _ok(a) or not isinstance(a.body, list) or not a.body:
        return None
    lacking = sorted(
        {k for r in a.body for k in ("amount", "currency") if not isinstance(r, dict) or k not in r}
    )
    return (
        (CONTRADICTED, f"payment records lack {lacking}")
        if lacking
        else (CONFIRMED, f"{len(a.body)} payment(s)")
    )


def _accepted(*names: str) -> Callable[[dict[str, Answer]], Verdict | None]:
    def probe(by: dict[str, Answer]) -> Verdict | None:
        answers = [by[n] for n in names]
        bad = [f"{a.name} {a.status}" for a in answers if not _ok(a)]
        if bad:
            return CONTRADICTED, "refused: " + ", ".join(bad)
        return CONFIRMED, ", ".join(f"{a.name} {a.status}" for a in answers)

    return probe


def _finvoice(by: dict[str, Answer]) -> Verdict | None:
    a = by["finvoice_credentials"]
    if a.skipped:
        return None
    if _ok(a) and isinstance(a.body, list):
        return CONFIRMED, f"200 and an array of {len(a.body)}"
    return CONTRADICTED, f"answered {a.status} {type(a.body).__name__}"


def _error_body(by: dict[str, Answer]) -> Verdict | None:
    refused = [a for a in by.values() if a.refusal is not None]
    if not refused:
        return None
    shapeless = [a.name for a in refused if not getattr(a.refusal, "reason", "")]
    if shapeless:
        return CONTRADICTED, f"refusals without a 'message': {shapeless}"
    return CONFIRMED, f"{len(refused)} refusal(s) carried a message"


# A point is matched by the start of its text in api/contract.py's docstring.
PROBES: dict[str, Callable[[dict[str, Answer]], Verdict | None]] = {
    "validate answers": _validate,
    "distribution records come as a list": _records_key,
    "distribution query params": _range_echo,
    "recovery rule": _recovery,
    "distribution without a date range": _default_window,
    "distribution record fields": _record_fields,
    "distribution statuses": _statuses,
    "case details query param": _case,
    "case summary.status": _case_status,
    "payment record amount field": _payment_fields,
    "settlements date range params": _accepted("settlements"),
    "accounting ledger/payment GET params": _accepted("accounting_ledger", "accounting_payment"),
    "finvoice credentials": _finvoice,
    "error body": _error_body,
}

_MODELS = {
    "validate": m.ValidateTokenResponse,
    "distribution_range": m.DistributionResponse,
    "distribution_default": m.DistributionResponse,
    "payments": m.PaymentsResponse,
    "settlements": m.SettlementsResponse,
    "accounting_ledger": m.LedgerStatusResponse,
    "accounting_payment": m.AccountingPaymentStatusResponse,
    "finvoice_credentials": m.FinvoiceCredentialsResponse,
    "case": m.CaseDetailsResponse,
}


def judge(answers: list[Answer]) -> tuple[list[Point], list[tuple[str, str, str]]]:
    by = {a.name: a for a in answers}
    points = contract_points()
    for point in points:
        probe = next((p for start, p in PROBES.items() if point.text.startswith(start)), None)
        verdict = probe(by) if probe is not None else None
        if verdict is not None:
            point.verdict, point.evidence = verdict
        elif probe is not None:
            point.evidence = "the answers hold nothing to judge it by (e.g. no records yet)"
    unknown = sorted(
        {(a.name, path, kind_type) for a in answers if _ok(a) and a.body is not None
         for path, kind, kind_type in walk(_MODELS[a.name], a.body) if kind == "unknown"}
    )  # fmt: skip
    return points, unknown


def run_check(client, token: str, creditor_id: str, *, business_id, case_id, today, out_dir: Path) -> Report:
    answers = call_all(client, token, business_id=business_id, case_id=case_id, today=today)
    save(answers, out_dir, (token,))
    points, unknown = judge(answers)
    return Report(client.base_url, creditor_id, out_dir, points, unknown)
