"""Simulated time: what happens to invoices, cases, payments and settlements as days pass.

One day, in order (all randomness from the state's `random.Random(seed)`):
1. queued invoice actions take effect as api/contract.py chooses (WITHDRAW closes the case as WITHDRAWN, PAUSE
   stops its stages and interest, DUEDATE moves the case due date, DIRECTPAYMENT reduces the balance and is
   listed in the case's directPayments, PAYMENTPLAN and OBJECTION set their stage, which reminders and
   collection do not move on from; COMMENT is recorded only);
2. invoices accepted on an earlier day are distributed (2 % fail; never with distribution.enabled=false); with
   paymentControlEnabled an INVOICE with a positive total gets a case (OPEN, stage PAYMENT_CONTROL) and its case id;
3. open cases (whose costs start at the invoice's collection costs) past due accrue 8 %/year interest daily
   (or the invoice's FIXED percentage), move to REMINDER (+5.00 fee) the day after due and to
   COLLECTION (+15.00) 21 days after; each day a case may be paid in full or in part (fees, then interest,
   then capital); a case paid in full closes;
4. on Tuesdays and Fridays a settlement run pays out every unsettled payment: one settlement per client, one
   allocation per payment, each with a CAPITAL/INTEREST/FEES breakdown that sums exactly to the allocation,
   and allocations that sum exactly to the settlement amount;
5. accounting ledgers and payments queued earlier sync, or a configured share fail (see `sandbox/accounting.py`).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from confirma_pipeline.api import contract as c
from confirma_pipeline.sandbox.state import SandboxState, iso_z

DISTRIBUTION_FAILURE_RATE = 0.02
DAILY_PAY_PROBABILITY_BEFORE_DUE = 0.05
DAILY_PAY_PROBABILITY_OVERDUE = 0.08
FULL_PAYMENT_SHARE = 0.75
ANNUAL_INTEREST = Decimal("0.08")
REMINDER_FEE = Decimal("5.00")
COLLECTION_FEE = Decimal("15.00")
COLLECTION_AFTER_DAYS = 21
SETTLEMENT_WEEKDAYS = (1, 4)  # Tuesday, Friday
ZERO = Decimal("0.00")
#: what a simulated day counts (the answer of POST /_sandbox/advance, in this order)
HAPPENINGS = ("distributed", "failed", "casesOpened", "payments", "casesClosed", "settlements")


def advance(state: SandboxState, days: int) -> dict[str, int]:
    """Move simulated time forward `days` days; returns what happened (counts)."""
    if days < 0:
        raise ValueError("days must not be negative")
    totals = dict.fromkeys(HAPPENINGS, 0)
    with state.lock:
        for _ in range(days):
            state.today = state.today + timedelta(days=1)
            for key, value in _simulate_day(state).items():
                totals[key] += value
    return totals


def _simulate_day(state: SandboxState) -> dict[str, int]:
    counts = dict.fromkeys(HAPPENINGS, 0)
    _apply_actions(state, counts)
    _distribute(state, counts)
    _run_cases(state, counts)
    if state.today.weekday() in SETTLEMENT_WEEKDAYS:
        _settle(state, counts)
    _sync_accounting(state)
    return counts


def _close(case: dict, day: date, counts: dict[str, int], stage: str = "CLOSED") -> None:
    case.update(status="CLOSED", stage=stage, closedAt=day.isoformat())
    counts["casesClosed"] += 1


def _apply_actions(state: SandboxState, counts: dict[str, int]) -> None:
    remaining = []
    for action in state.pending_actions:
        if action["receivedOn"] >= state.today.isoformat():
            remaining.append(action)
            continue
        invoice = state.invoices.get(action["clientIdentifier"], {}).get(action["data"]["invoiceNumber"])
        case = state.cases.get(invoice["caseId"]) if invoice and invoice.get("caseId") else None
        if case is None or case["status"] == "CLOSED":
            continue
        code, data = action["code"], action["data"]
        if code == "WITHDRAW":
            _close(case, state.today, counts, c.STAGE_WITHDRAWN)
        elif code == "PAUSE":
            case["paused"] = True
        elif code == "DUEDATE":
            case["dueDate"] = data["dueDate"]
        elif code in ("PAYMENTPLAN", "OBJECTION"):
            case["stage"] = c.STAGE_PAYMENT_PLAN if code == "PAYMENTPLAN" else c.STAGE_OBJECTION
        elif code == "DIRECTPAYMENT":
            _allocate(case, Decimal(str(data["amount"])))
            # JSON-safe (the state is saved as JSON): amounts as strings, shown as numbers by case_view
            case.setdefault("directPayments", []).append(
                {
                    k: str(v) if isinstance(v, Decimal) else v
                    for k in c.DIRECT_PAYMENT_FIELDS
                    for v in [data.get(k)]
                }
            )
            if _outstanding(case) == 0:
                _close(case, state.today, counts)
    state.pending_actions = remaining


def _distribute(state: SandboxState, counts: dict[str, int]) -> None:
    rng, today = state.rng, state.today.isoformat()
    for client_id, invoices in state.invoices.items():
        client = state.clients.get(client_id, {})
        for invoice in invoices.values():
            if invoice["status"] != "RECEIVED" or invoice["receivedOn"] >= today:
                continue
            if not invoice.get("distributionEnabled", True):
                continue  # distribution.enabled=false: registered, never sent to the buyer (CHOSEN)
            if rng.random() < DISTRIBUTION_FAILURE_RATE:
                invoice["status"] = "FAILED"
                counts["failed"] += 1
                continue
            moment = state.day_start() + timedelta(hours=6, minutes=rng.randrange(0, 180))
            invoice.update(status="DISTRIBUTED", distributedAt=iso_z(moment))
            counts["distributed"] += 1
            gross = Decimal(invoice["grossAmount"])
            if invoice["paymentControl"] and invoice["type"] == "INVOICE" and gross > 0:
                case_id = state.next_id("case")
                invoice["caseId"] = case_id
                state.cases[case_id] = {
                    "caseId": case_id,
                    "clientIdentifier": client_id,
                    "invoiceNumber": invoice["number"],
                    "status": "OPEN",
                    "stage": "PAYMENT_CONTROL",
                    "createdAt": iso_z(moment),
                    "closedAt": None,
                    "dueDate": invoice["dueDate"],
                    "currency": invoice["currency"],
                    "creditor": client.get("name"),
                    "capital": str(gross),
                    "interest": "0.00",
                    "costs": str(c.round_money(Decimal(invoice.get("collectionCosts") or "0"))),
                    "interestPercentage": invoice.get("interestPercentage"),
                    "paused": False,
                }
                counts["casesOpened"] += 1


def _outstanding(case: dict) -> Decimal:
    return Decimal(case["capital"]) + Decimal(case["interest"]) + Decimal(case["costs"])


def _allocate(case: dict, amount: Decimal) -> dict[str, Decimal]:
    """Take `amount` from the case: fees first, then interest, then capital. Returns the parts taken."""
    parts: dict[str, Decimal] = {}
    for kind, key in (("FEES", "costs"), ("INTEREST", "interest"), ("CAPITAL", "capital")):
        owed = Decimal(case[key])
        take = min(owed, amount)
        parts[kind] = take
        case[key] = str(owed - take)
        amount -= take
    return parts


def _run_cases(state: SandboxState, counts: dict[str, int]) -> None:
    rng, day = state.rng, state.today
    for case in state.cases.values():
        if case["status"] != "OPEN" or case.get("paused"):
            continue
        overdue = (day - date.fromisoformat(case["dueDate"])).days
        if overdue > 0:
            rate = (
                Decimal(case["interestPercentage"]) / 100
                if case.get("interestPercentage") is not None
                else ANNUAL_INTEREST
            )
            daily = c.round_money(Decimal(case["capital"]) * rate / 365)
            case["interest"] = str(Decimal(case["interest"]) + daily)
            if case["stage"] == "PAYMENT_CONTROL":
                case["stage"] = "REMINDER"
                case["costs"] = str(Decimal(case["costs"]) + REMINDER_FEE)
            if overdue >= COLLECTION_AFTER_DAYS and case["stage"] == "REMINDER":
                case["stage"] = "COLLECTION"
                case["costs"] = str(Decimal(case["costs"]) + COLLECTION_FEE)
        chance = DAILY_PAY_PROBABILITY_OVERDUE if overdue > 0 else DAILY_PAY_PROBABILITY_BEFORE_DUE
        if rng.random() >= chance:
            continue
        total = _outstanding(case)
        if rng.random() < FULL_PAYMENT_SHARE:
            amount = total
        else:
            amount = c.round_money(total * Decimal(rng.randint(20, 70)) / 100)
        if amount <= 0:
            continue
        parts = _allocate(case, amount)
        _record_payment(state, case, amount, parts)
        counts["payments"] += 1
        if _outstanding(case) == 0:
            _close(case, day, counts)


def _record_payment(state: SandboxState, case: dict, amount: Decimal, parts: dict[str, Decimal]) -> None:
    invoice = state.invoices[case["clientIdentifier"]][case["invoiceNumber"]]
    reference = (
        invoice.get("paymentReference")
        or f"{state.clients[case['clientIdentifier']]['paymentReferencePrefix']}{case['invoiceNumber']}"
    )
    moment = iso_z(state.day_start()).replace(".000Z", "Z")
    state.payments.append(
        {
            "paymentId": state.next_id("payment"),
            "clientIdentifier": case["clientIdentifier"],
            "caseId": case["caseId"],
            "invoiceNumber": str(case["invoiceNumber"]),
            "invoicePaymentReference": reference,
            "originalPaymentReference": reference,
            "accountName": invoice.get("buyerName") or "",
            "bookingDate": moment,
            "paymentDate": moment,
            "amount": str(amount),
            "currency": case["currency"],
            "parts": {kind: str(value) for kind, value in parts.items()},
            "settled": False,
        }
    )


def _settle(state: SandboxState, counts: dict[str, int]) -> None:
    day = state.today
    by_client: dict[int, list[dict]] = {}
    for payment in state.payments:
        if not payment["settled"] and payment["paymentDate"][:10] <= day.isoformat():
            by_client.setdefault(payment["clientIdentifier"], []).append(payment)
    yyyymmdd = int(day.strftime("%Y%m%d"))
    for sequence, client_id in enumerate(sorted(by_client), start=1):
        client = state.clients.get(client_id, {})
        allocations = []
        for payment in by_client[client_id]:
            breakdown = [
                {"type": kind, "amount": payment["parts"][kind]}
                for kind in c.BREAKDOWN_TYPES
                if Decimal(payment["parts"].get(kind, "0")) != 0
            ]
            allocations.append(
                {
                    "allocationId": state.next_id("allocation"),
                    "allocatedTotalAmount": payment["amount"],
                    "allocationDate": day.isoformat(),
                    "currency": payment["currency"],
                    "caseId": payment["caseId"],
                    "originalInvoiceNumber": payment["invoiceNumber"],
                    "originalPaymentReference": payment["originalPaymentReference"],
                    "breakdown": breakdown,
                }
            )
            payment["settled"] = True
        total = sum((Decimal(a["allocatedTotalAmount"]) for a in allocations), ZERO)
        settlement_id = c.settlement_id(yyyymmdd, sequence)
        for payment in by_client[client_id]:
            payment["settlementId"] = settlement_id
        state.settlements.append(
            {
                "clientIdentifier": client_id,
                "settlementId": settlement_id,
                "settlementDate": day.isoformat(),
                "agency": "CASH-IN",
                "remittanceReference": _remittance_reference(settlement_id),
                "beneficiary": {
                    "name": client.get("name"),
                    "iban": client.get("ibanAccount", ""),
                    "bic": client.get("bic", ""),
                },
                "settlementAmount": str(total),
                "currency": allocations[0]["currency"] if allocations else client.get("currencyCode"),
                "apiFetchDate": None,
                "allocations": allocations,
            }
        )
        counts["settlements"] += 1


def _remittance_reference(number: int) -> str:
    """A valid Finnish reference (7-3-1 check digit) built from the settlement id."""
    body = str(number)
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def _sync_accounting(state: SandboxState) -> None:
    from confirma_pipeline.sandbox.accounting import sync_day

    sync_day(state)
