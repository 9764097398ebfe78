"""pandera models of `confirma_source.invoice_actions`: one model per action code, each a base model plus what
that code needs (a DUEDATE needs a new due date in the future; a DIRECTPAYMENT an amount > 0 with 2 decimals,
an ISO 4217 currency, a payment date not in the future and a payment method; a COMMENT a comment). The codes
whose data is only `invoiceNumber`/`caseId` (COMMENT, WITHDRAW, PAUSE, PAYMENTPLAN, OBJECTION) refuse a field of
another code: mapping would drop it silently, and a WITHDRAW with a due date is most likely the wrong code.
`MODELS_BY_CODE` is the dispatch table: one model for every code of api/contract.ACTION_CODES.

"Today" is the creditor's day (Europe/Helsinki), not the server's: a payment made this morning in Helsinki
is not "in the future" on a UTC server at 23:30 the evening before.

Whether the action can be sent yet (its invoice submitted, its case id known) is not validation: such an
action is valid and waits (see `waiting_reason`).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from confirma_pipeline.api.contract import ACTION_CODES, ACTION_COMMENT_MAX_LENGTH, ACTION_DATA_ONLY_CASE
from confirma_pipeline.validation import identifiers as ids
from confirma_pipeline.validation._checks import field as _f
from confirma_pipeline.validation._checks import nullable_field as _n
from confirma_pipeline.validation.dtypes import DateUS, UTCTimestamp
from confirma_pipeline.validation.reasons import ValidationOutcome, validate_with_reasons

HELSINKI = ZoneInfo("Europe/Helsinki")
ENTITY = "invoice_action"


def today() -> dt.date:
    """The creditor's calendar day."""
    return dt.datetime.now(HELSINKI).date()


def _today_ts() -> pd.Timestamp:
    return pd.Timestamp(today())


def _check(*columns: str, name: str, error: str):
    """`pa.check` whose name survives inheritance. pandera 0.35 pops `name` from the check's shared keywords
    when the first model builds its schema, so every later subclass (each code's model) would report the
    function's name (`_comment_length`) in its reasons; naming the function after the check keeps them equal."""

    def decorate(fn):
        fn.__name__ = name
        return pa.check(*columns, name=name, error=error)(fn)

    return decorate


class InvoiceActionModel(pa.DataFrameModel):
    """What every action needs: a stable id, the invoice it concerns, a known code, a comment of bounded length."""

    action_id: Series[str] = _f("Stable id of the action (key).", unique=True)
    invoice_id: Series[str] = _f("The invoice (confirma_source.invoices.invoice_id) the action concerns.")
    code: Series[str] = _f(f"Action code: {', '.join(ACTION_CODES)}.", isin=list(ACTION_CODES))
    comment: Series[str] = _n(f"Free text for the agency, at most {ACTION_COMMENT_MAX_LENGTH} characters.")
    due_date: Series[DateUS] = _n("DUEDATE: the new case due date (not the invoice's), in the future.")
    payment_method: Series[str] = _n("DIRECTPAYMENT: how the buyer paid, e.g. bank transfer.")
    amount: Series[float] = _n("DIRECTPAYMENT: amount paid straight to the creditor, > 0, 2 decimals.")
    currency: Series[str] = _n("DIRECTPAYMENT: ISO 4217 currency of the amount.")
    payment_date: Series[DateUS] = _n("DIRECTPAYMENT: when it was paid, not in the future.")
    reference: Series[str] = _n("DIRECTPAYMENT: the bank's reference of the payment.")
    outstanding_capital_amount: Series[float] = _n("DIRECTPAYMENT: capital still owed after it, >= 0.")
    outstanding_interest_amount: Series[float] = _n("DIRECTPAYMENT: interest still owed after it, >= 0.")
    outstanding_costs_amount: Series[float] = _n("DIRECTPAYMENT: costs still owed after it, >= 0.")
    updated_at: Series[UTCTimestamp] = _f("When the source row last changed (UTC).")

    class Config:
        strict = False  # the ledger context columns (creditor_id, case_id, ...) travel along
        coerce = False
        name = ENTITY
        description = "Invoice actions (confirma_source.invoice_actions)."

    @_check("action_id", "invoice_id", name="not_blank", error="must not be blank")
    def _not_blank(cls, s: pd.Series) -> pd.Series:
        return ~ids.is_blank(s)

    @_check("comment", name="comment_length", error=f"must be at most {ACTION_COMMENT_MAX_LENGTH} characters")
    def _comment_length(cls, s: pd.Series) -> pd.Series:
        return s.isna() | (s.str.len() <= ACTION_COMMENT_MAX_LENGTH)


#: the source columns that fill an action's `data` beyond invoiceNumber/caseId (DUEDATE's and DIRECTPAYMENT's)
DATA_COLUMNS = (
    "due_date", "payment_method", "amount", "currency", "payment_date", "reference",
    "outstanding_capital_amount", "outstanding_interest_amount", "outstanding_costs_amount",
)  # fmt: skip


class CaseOnlyActionModel(InvoiceActionModel):
    """A code whose `data` is only invoiceNumber and caseId (api/contract.ACTION_DATA_ONLY_CASE, CHOSEN from
    section 2.5's example): every field of another code must be empty."""

    @_check(*DATA_COLUMNS, name="no_data_of_another_code",
              error="must be empty: this code sends no such field (is it the wrong code?)")  # fmt: skip
    def _no_foreign_data(cls, s: pd.Series) -> pd.Series:
        return s.isna()


class CommentActionModel(CaseOnlyActionModel):
    """COMMENT: the comment is the whole message."""

    comment: Series[str] = _f(f"The comment, at most {ACTION_COMMENT_MAX_LENGTH} characters.")

    @_check("comment", name="comment_not_blank", error="a COMMENT needs a comment")
    def _comment_present(cls, s: pd.Series) -> pd.Series:
        return ~ids.is_blank(s)


class WithdrawActionModel(CaseOnlyActionModel):
    """WITHDRAW: the creditor withdraws the case (it closes). The example's data is invoiceNumber and caseId
    only; the comment (optional) says why."""


class PauseActionModel(CaseOnlyActionModel):
    """PAUSE: the case proceedings pause (no reminder stage moves). No data beyond invoiceNumber and caseId in
    the example; for how long is not in the docs (NOT FOUND), so nothing is sent for it."""


class PaymentPlanActionModel(CaseOnlyActionModel):
    """PAYMENTPLAN: the creditor ALLOWS the agency to offer the buyer a payment plan ("allows option to generate
    a payment plan"); the plan's terms are the agency's. The example's data has no instalment fields; should the
    API turn out to need some (NOT FOUND), they become columns and rules here."""


class ObjectionActionModel(CaseOnlyActionModel):
    """OBJECTION: the buyer objects to the case ("sends an objection ... with comment"). The objection's content
    is the comment, so it is required (CHOSEN, api/contract.py); data is invoiceNumber and caseId only."""

    comment: Series[str] = _f(f"The objection, at most {ACTION_COMMENT_MAX_LENGTH} characters.")

    @_check("comment", name="comment_not_blank", error="an OBJECTION needs a comment (the objection)")
    def _comment_present(cls, s: pd.Series) -> pd.Series:
        return ~ids.is_blank(s)


class DueDateActionModel(InvoiceActionModel):
    """DUEDATE: moves the CASE due date (not the invoice's); a date already past moves nothing forward."""

    due_date: Series[DateUS] = _f("The new case due date, after today.")

    @_check("due_date", name="due_date_in_future", error="must be after today (Europe/Helsinki)")
    def _in_future(cls, s: pd.Series) -> pd.Series:
        return s > _today_ts()


class DirectPaymentActionModel(InvoiceActionModel):
    """DIRECTPAYMENT: the buyer paid the creditor directly; the agency lowers the open balance by `amount`."""

    payment_method: Series[str] = _f("How the buyer paid.")
    amount: Series[float] = _f("Amount paid, > 0, 2 decimals.", gt=0)
    currency: Series[str] = _f("ISO 4217 currency.")
    payment_date: Series[DateUS] = _f("When it was paid, not after today.")

    @_check("payment_method", name="not_blank", error="must not be blank")
    def _method(cls, s: pd.Series) -> pd.Series:
        return ~ids.is_blank(s)

    @_check("amount", name="amount_has_two_decimals", error="must have at most 2 decimals")
    def _two_decimals(cls, s: pd.Series) -> pd.Series:
        return ids.has_max_decimals(s, 2)

    @_check("outstanding_capital_amount", "outstanding_interest_amount", "outstanding_costs_amount",
              name="outstanding_non_negative_two_decimals", error="must be >= 0 with at most 2 decimals")  # fmt: skip
    def _outstanding(cls, s: pd.Series) -> pd.Series:
        return s.isna() | ((s >= 0) & ids.has_max_decimals(s, 2))

    @_check("currency", name="currency_iso4217", error="must be an ISO 4217 currency code")
    def _currency(cls, s: pd.Series) -> pd.Series:
        return ids.is_currency(s)

    @_check("payment_date", name="payment_date_not_in_future", error="must not be after today")
    def _not_future(cls, s: pd.Series) -> pd.Series:
        return s <= _today_ts()


ACTION_LEDGER_STATES = ("waiting", "pending", "in_flight", "sent", "rejected", "failed")


class ActionLedgerModel(pa.DataFrameModel):
    """confirma.invoice_action_ledger: the exactly-once state of every valid invoice action."""

    action_id: Series[str] = _f("The action's stable id.", unique=True)
    invoice_id: Series[str] = _f("Its invoice.")
    creditor_id: Series[str] = _n("The invoice's creditor (null while the invoice was never submitted).")
    code: Series[str] = _f("The action code.")
    invoice_number: Series[pd.Int64Dtype] = _n("data.invoiceNumber.")
    case_id: Series[pd.Int64Dtype] = _n("data.caseId.")
    state: Series[str] = _f(
        "waiting -> pending -> in_flight -> sent | rejected | failed; in_flight = outcome unknown, never "
        "resent: settled from the case details or by an operator.",
        isin=ACTION_LEDGER_STATES,
    )
    waiting_reason: Series[str] = _n("Why a waiting action cannot be sent yet.")
    attempts: Series[int] = _f("Sends so far.", ge=0)
    payload: Series[object] = _n("The action exactly as sent (one entry of the actions list).")
    payload_hash: Series[str] = _n("sha256 of the action as sent.")
    last_error: Series[str] = _n("Last sanitized error: status and the server's reason.")
    last_http_status: Series[pd.Int64Dtype] = _n("HTTP status of the last answer.")
    settled_by: Series[str] = _n("api (202), case_details (its effect seen) or operator.")
    in_flight_since: Series[UTCTimestamp] = _n("When the unanswered POST was sent.")
    sent_at: Series[UTCTimestamp] = _n("When it was recorded as sent.")
    run_id: Series[str] = _n("The run that last touched it.")
    created_at: Series[UTCTimestamp] = _f("First seen.")
    updated_at: Series[UTCTimestamp] = _f("Last change.")

    class Config:
        strict = "filter"
        coerce = True


#: the model of each code (an unknown code gets the base model, whose `isin` check rejects it)
MODELS_BY_CODE: dict[str, type[InvoiceActionModel]] = {
    "COMMENT": CommentActionModel,
    "WITHDRAW": WithdrawActionModel,
    "DUEDATE": DueDateActionModel,
    "PAYMENTPLAN": PaymentPlanActionModel,
    "OBJECTION": ObjectionActionModel,
    "PAUSE": PauseActionModel,
    "DIRECTPAYMENT": DirectPaymentActionModel,
}
assert set(MODELS_BY_CODE) == set(ACTION_CODES), "every action code needs its model"
assert {c for c, m in MODELS_BY_CODE.items() if issubclass(m, CaseOnlyActionModel)} == set(
    ACTION_DATA_ONLY_CASE
)


def validate_actions(df: pd.DataFrame) -> ValidationOutcome:
    """Validate each code's actions against its model; every failure of a row lands in its reason."""
    valid, rejected, failures = [], [], 0
    for code, part in df.groupby(df["code"].fillna(""), sort=True):
        outcome = validate_with_reasons(
            MODELS_BY_CODE.get(str(code), InvoiceActionModel), part, ["action_id"], entity=ENTITY
        )
        valid.append(outcome.valid_df)
        rejected.append(outcome.rejected_df)
        failures += outcome.failure_cases
    if not valid:
        empty = validate_with_reasons(InvoiceActionModel, df, ["action_id"], entity=ENTITY)
        return empty
    return ValidationOutcome(
        valid_df=pd.concat(valid).sort_values("action_id"),
        rejected_df=pd.concat(rejected, ignore_index=True),
        failure_cases=failures,
    )


def waiting_reason(invoice_state, case_id) -> str | None:
    """Why a valid action cannot be sent yet (None: it can). The action needs its invoice's case id."""
    if invoice_state is None or (isinstance(invoice_state, float) and pd.isna(invoice_state)):
        return "waiting: its invoice has not been submitted"
    if invoice_state != "submitted":
        return f"waiting: its invoice is {invoice_state}, not submitted"
    if case_id is None or pd.isna(case_id):
        return "waiting: its invoice has no case id yet (the distribution records have not shown one)"
    return None
