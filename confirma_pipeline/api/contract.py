"""The Partner API contract as this project implements it: the ONE place for every choice the docs leave open.

Source: shared/reference/confirma-api.md (SEEN / INFERRED / NOT FOUND) and the create-client page read in full.
The client (`api/client.py`) and the sandbox (`sandbox/`) both import these constants, so changing a choice
here changes both sides. Each line below is a decision the docs do not make; SEEN facts are not listed.

INFERRED  service.type values: LIFECYCLE (SEEN), INTERMEDIATION, COOP.
INFERRED  header.type values: INVOICE (SEEN), CREDIT_NOTE; a null type means INVOICE.
INFERRED  distribution.method values: EMAIL (SEEN), PRINT, EINVOICE.
INFERRED  buyerParty.entityType values: BUSINESS (SEEN), CONSUMER.
INFERRED  renew answers {"Message": "<new token>"}: the new token is carried in `Message`.
INFERRED  distribution query params: invoiceNumber, fromInvDate, toInvDate, fetchType (from filtersApplied).
INFERRED  settlements date range params: fromDate, toDate (by analogy with payments).
INFERRED  accounting sync status codes: 0 pending (SEEN), 1 synced (SEEN), 2 failed.
INFERRED  an expired token answers 401 on every client endpoint except validate and renew.
CHOSEN    case details query param: caseId (unknown case -> 404).
CHOSEN    finvoice credentials: GET /api/v1/partner/operations/finvoice-credentials?businessId=...; 200 + array.
CHOSEN    fetchType values: ALL (default), SUCCESSFUL, FAILED.
CHOSEN    distribution without a date range and without invoiceNumber = last 30 days (defaultLast30Days=true);
          with invoiceNumber the date default is NOT applied (so an interrupted push can always be looked up).
CHOSEN    settlements with unfetchedOnly=true and no date range return every unfetched settlement (no 30-day cut).
CHOSEN    payments without fromDate/toDate = last 30 days by paymentDate.
CHOSEN    accounting ledger/payment GET params: fromDate, toDate (documentDate / paymentDate); 204 when empty.
CHOSEN    create-client success = 200 (SEEN) ; create-invoice success = 201 Created with CREATE_INVOICE_RESPONSE.
CHOSEN    invoice actions, ledger POST, accounting payment POST = 202 Accepted (they are queued, not done).
CHOSEN    error body: {"message": "...", "errors": [{"field": "<json path>", "message": "..."}]} for every 4xx/5xx.
CHOSEN    400 = validation error (one entry per bad field); 409 = duplicate invoice number for the same client.
CHOSEN    402 = business rule refusal (action on a CLOSED case); 404 = unknown case / invoice in an action.
CHOSEN    401 = missing/unknown/expired token; 403 = wrong token kind (client token on create-client or the
          provisioning token on a client endpoint).
CHOSEN    429 and 503 carry Retry-After in seconds.
CHOSEN    429 and 503 mean "not processed" (refused before acting, NOT_PROCESSED_STATUSES): the same POST may be
          sent again after Retry-After; any other 5xx on a POST is an unknown outcome, never resent on a guess.
CHOSEN    create-client is not deduplicated (no look-up exists): resending creates a second client.
CHOSEN    renew invalidates the old token at once; it works on expired tokens; the new token has no expiry.
CHOSEN    validate answers {"isValid", "message", "expiresAt"}; expired -> 200 isValid=false "Token expired".
CHOSEN    invoice body below parties: invoice.rows[] and invoice.amounts (INVOICE_ROW_FIELDS, AMOUNT_FIELDS).
CHOSEN    rounding: row net = round(quantity*unitPrice, 2), vat = round(net*vatPercentage/100, 2), gross=net+vat,
          ROUND_HALF_UP on exact decimals (`row_amounts`); the sandbox accepts rows within ROW_TOLERANCE (one cent,
          so half-even rounding is not rejected); invoice.amounts must equal the sums of the rows EXACTLY.
CHOSEN    money is a JSON number with at most 2 decimals; quantities at most 4 decimals.
CHOSEN    required create-invoice fields: REQUIRED_INVOICE_FIELDS; EMAIL needs a buyer/recipient email,
          EINVOICE needs an electronicInvoiceAccount, CREDIT_NOTE needs references.creditedInvoiceNumber,
          dueDate must not be before date.
CHOSEN    required create-client fields: REQUIRED_CLIENT_FIELDS; optional values may be "" (as in the example).
CHOSEN    create-invoice response: {"message", "invoiceNumber", "status": "RECEIVED", "receivedAt"}.
CHOSEN    distribution record fields: DISTRIBUTION_RECORD_FIELDS; a record exists from acceptance (RECEIVED).
CHOSEN    distribution statuses: RECEIVED, DISTRIBUTED, FAILED.
CHOSEN    distribution records come as a list under DISTRIBUTION_RECORDS_KEY ("distributions"); one answer holds
          every record of the range asked for (no paging): metaData.totalCount equals the records listed.
CHOSEN    recovery rule (push/recovery.py): an interrupted invoice is "absent, resend" ONLY when the look-up of the
          client's records for its date +-1 day (fromInvDate/toInvDate) is understood: records under
          DISTRIBUTION_RECORDS_KEY, totalCount == records listed, each record with an integer invoiceNumber, the
          applied range echoed in filtersApplied covers the date, and every invoice known accepted in the window
          is listed. Anything else (an error, a count mismatch, another shape) keeps the row in_flight (unknown)
          and fails the invoices_stuck check with the reason: a wrong guess here can only delay, never resend.
CHOSEN    case summary.status OPEN/CLOSED; stage PAYMENT_CONTROL/REMINDER/COLLECTION/CLOSED; extra invoiceNumber.
CHOSEN    payment record amount field `amount`, plus `currency`.
CHOSEN    settlementId = YYYYMMDD * 10000 + run sequence (e.g. 202603280001, > int32).
CHOSEN    apiFetchDate is set on a settlement's first fetch; that first answer still shows null (not fetched before).
CHOSEN    202 body of actions / ledger POST / accounting payment POST: {"message", "queuedCount"}.
CHOSEN    renew is treated as non-idempotent by the client (a lost answer would lose the only valid token).
CHOSEN    an invoice sent with NO_DISTRIBUTION_FIELDS (distribution.enabled=false, processing.paymentControlEnabled=
          false) is registered but never delivered to the buyer and never enters payment control or reminders
          (backfill `--historical-policy no-distribution`). If Confirma mailed it anyway, only `refuse` is safe.
CHOSEN    accounting enums beyond the SEEN ones: LEDGER_DOCUMENT_TYPES, CALCULATION_MODES, DIMENSION_TYPES,
          PAYMENT_TARGET_IDENTIFIERS. A value outside them is rejected locally (with its reason), never sent.
INFERRED  a voucher balances (`ledger_imbalance`): GROSS: the non-VAT rows' amounts sum to 0 and every row's
          netAmount sums to 0 (the VAT row carries the VAT split, as in the docs' 2990 / -2382.47 / -607.53
          example); NET: every row's amount sums to 0. netAmount = amount / (1 + vatPercentage/100) within a
          cent on GROSS non-VAT rows, = amount otherwise (`ledger_net_amount`).
CHOSEN    a queued voucher/payment is listed by its status GET at once (status 0), with sourceIdentifier =
          ledgerIdentifier / paymentIdentifier; fromDate/toDate filter documentDate / paymentDate inclusively.
CHOSEN    accounting payments go ACCOUNTING_PAYMENT_BATCH per request (the body takes a list); a 400 is
          all-or-nothing and names bad items as payments[i]; the other items of a refused batch are looked
          up by status before they are sent again (safe even if the API accepted part of the batch).
CHOSEN    text lengths: TEXT_MAX_LENGTHS (Finvoice 3.0's limits; Confirma's docs give none); 400 when longer.
CHOSEN    text characters: no character XML 1.0 cannot carry (XML_FORBIDDEN_CHARACTERS: C0 controls but tab, line
          feed and carriage return; U+FFFE, U+FFFF). Finvoice is XML 1.0, so such a text cannot reach the buyer's
          e-invoice; 400 when present. Any other character (emoji, combining marks, right-to-left) is sent as is.
CHOSEN    dates: invoice date, due date and order date within DATE_RANGE (2000-01-01 .. 2099-12-31); a date
          outside is a typo (1900, 2999), not an invoice, and would enter payment control at once; 400 otherwise.
CHOSEN    signs: negative quantities, prices and row amounts only on NEGATIVE_ALLOWED_TYPES (CREDIT_NOTE); the
          totals of an INVOICE are >= 0 and of a CREDIT_NOTE <= 0 (TOTALS_SIGN); 400 otherwise.
CHOSEN    invoice actions are sent ONE per request (push/actions.py) although the body is a list: one lost answer
          would make every action of a batch ambiguous, and one refused action (4xx) would refuse the batch.
CHOSEN    queued actions take effect on the agency's next processing day; their effect in the case details:
          WITHDRAW -> status CLOSED, stage WITHDRAWN; PAUSE -> summary.paused true (no stage moves);
          DUEDATE -> summary.dueDate; PAYMENTPLAN -> stage PAYMENT_PLAN; OBJECTION -> stage OBJECTION
          (neither moves on to reminder/collection); DIRECTPAYMENT -> a lower balance and an entry in
          case.directPayments (DIRECT_PAYMENT_FIELDS); COMMENT shows nothing (ACTION_EFFECTS).
CHOSEN    complete body placement: invoice.collection = {"costs": {creditorCostsAmount, collectionFeesAmount},
          "interest": {type, percentage}} (the "Collection", "Collection Costs" and "Collection Interest" schema
          names), each part only when given; rows[].discountPercentage (only when given) and then
          netAmount = round(quantity*unitPrice*(1 - discountPercentage/100), 2); address countryName of every
          party; INTEREST_TYPES REFERENCE_RATE (SEEN) and FIXED (INFERRED; needs a percentage).
CHOSEN    the agency adds creditorCostsAmount + collectionFeesAmount to a new case's costs, and a FIXED interest
          percentage replaces its own rate for that case.
CHOSEN    an action's comment is at most ACTION_COMMENT_MAX_LENGTH characters; data.caseId is always sent.
CHOSEN    the data of ACTION_DATA_ONLY_CASE codes is invoiceNumber and caseId only (as section 2.5's example): a
          source row giving them a field of another code is rejected, never sent without it; an OBJECTION
          needs a comment (the objection: "sends a objection to the case with comment").
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

_INDEX = re.compile(r"\[\d+\]")

# --- environments -----------------------------------------------------------------------------------------
STAGING_BASE_URL = "https://staging-integrations.confirmafinance.com"
PRODUCTION_BASE_URL = "https://integrations.confirmafinance.com"
BASE_URLS: dict[str, str] = {"staging": STAGING_BASE_URL, "production": PRODUCTION_BASE_URL}
ENVIRONMENTS = ("sandbox", "staging", "production")

API_KEY_HEADER = "X-Api-Key"

# --- paths ------------------------------------------------------------------------------------------------
PATH_PREFIX = "/api/v1/partner"
PATH_CLIENT = PATH_PREFIX + "/client"
PATH_VALIDATE = PATH_PREFIX + "/validate"
PATH_RENEW = PATH_PREFIX + "/renew"
PATH_INVOICE = PATH_PREFIX + "/invoice"
PATH_INVOICE_ACTION = PATH_PREFIX + "/invoice/action"
PATH_CASE = PATH_PREFIX + "/invoice/case"
PATH_DISTRIBUTION = PATH_PREFIX + "/invoice/distribution"
PATH_PAYMENTS = PATH_PREFIX + "/payments"
PATH_SETTLEMENTS = PATH_PREFIX + "/settlements"
PATH_LEDGER = PATH_PREFIX + "/accounting/ledger"
PATH_ACCOUNTING_PAYMENT = PATH_PREFIX + "/accounting/payment"
PATH_FINVOICE_CREDENTIALS = PATH_PREFIX + "/operations/finvoice-credentials"  # CHOSEN

SANDBOX_CONTROL_PREFIX = "/_sandbox"

# --- query parameters -------------------------------------------------------------------------------------
Q_CASE_ID = "caseId"
Q_FROM_INV_DATE = "fromInvDate"
Q_TO_INV_DATE = "toInvDate"
Q_INVOICE_NUMBER = "invoiceNumber"
Q_FETCH_TYPE = "fetchType"
Q_FROM_DATE = "fromDate"
Q_TO_DATE = "toDate"
Q_UNFETCHED_ONLY = "unfetchedOnly"
Q_BUSINESS_ID = "businessId"
DEFAULT_WINDOW_DAYS = 30

# --- enums ------------------------------------------------------------------------------------------------
SERVICE_TYPES = ("LIFECYCLE", "INTERMEDIATION", "COOP")
INVOICE_TYPES = ("INVOICE", "CREDIT_NOTE")
DISTRIBUTION_METHODS = ("EMAIL", "PRINT", "EINVOICE")
ENTITY_TYPES = ("BUSINESS", "CONSUMER")
BREAKDOWN_TYPES = ("CAPITAL", "INTEREST", "FEES")
INTEREST_TYPES = ("REFERENCE_RATE", "FIXED")
ACTION_CODES = ("COMMENT", "WITHDRAW", "DUEDATE", "PAYMENTPLAN", "OBJECTION", "PAUSE", "DIRECTPAYMENT")
FETCH_TYPES = ("ALL", "SUCCESSFUL", "FAILED")
DISTRIBUTION_STATUSES = ("RECEIVED", "DISTRIBUTED", "FAILED")
CASE_STATUSES = ("OPEN", "CLOSED")
CASE_STAGES = (
    "PAYMENT_CONTROL", "REMINDER", "COLLECTION", "CLOSED", "WITHDRAWN", "PAYMENT_PLAN", "OBJECTION",
)  # fmt: skip
SYNC_PENDING, SYNC_SYNCED, SYNC_FAILED = 0, 1, 2  # 0 and 1 SEEN, 2 INFERRED
SYNC_DESCRIPTIONS = {SYNC_PENDING: "Pending", SYNC_SYNCED: "Successfully synced", SYNC_FAILED: "Failed"}
LEDGER_DOCUMENT_TYPES = ("ML", "MY", "OS", "TO", "PA")  # ML SEEN (memo voucher); the rest CHOSEN
CALCULATION_MODES = ("GROSS", "NET")  # GROSS SEEN, NET INFERRED
DIMENSION_TYPES = ("COST_CENTER", "PROJECT", "DEPARTMENT")  # COST_CENTER SEEN; the rest CHOSEN
PAYMENT_TARGET_IDENTIFIERS = ("invoicenumber", "reference")  # invoicenumber SEEN, reference INFERRED
LEDGER_DESCRIPTION_MAX = 210  # SEEN
ACCOUNTING_PAYMENT_BATCH = 50  # CHOSEN

# --- status codes -----------------------------------------------------------------------------------------
STATUS_CREATE_CLIENT = 200  # SEEN
STATUS_CREATE_INVOICE = 201  # CHOSEN
STATUS_QUEUED = 202  # CHOSEN: actions, ledger POST, accounting payment POST
STATUS_NO_CONTENT = 204  # SEEN on ledger GET; CHOSEN for accounting payment GET too
STATUS_VALIDATION = 400
STATUS_UNAUTHORIZED = 401
STATUS_BUSINESS_RULE = 402
STATUS_FORBIDDEN = 403
STATUS_NOT_FOUND = 404
STATUS_DUPLICATE = 409
STATUS_RATE_LIMITED = 429
STATUS_UNAVAILABLE = 503
NOT_PROCESSED_STATUSES = frozenset({STATUS_RATE_LIMITED, STATUS_UNAVAILABLE})  # CHOSEN: safe to resend a POST

# --- bodies -----------------------------------------------------------------------------------------------
CREATE_CLIENT_MESSAGE = "New client created"  # SEEN
CREATE_INVOICE_MESSAGE = "Invoice received"
TOKEN_VALID_MESSAGE = "Token is valid"  # SEEN
TOKEN_EXPIRED_MESSAGE = "Token expired"
CREATE_INVOICE_RESPONSE_FIELDS = ("message", "invoiceNumber", "status", "receivedAt")
ERROR_BODY_EXAMPLE = {
    "message": "Validation failed",
    "errors": [{"field": "invoice.header.dueDate", "message": "must be an ISO 8601 date (YYYY-MM-DD)"}],
}

INVOICE_ROW_FIELDS = (
    "rowNumber", "productCode", "name", "quantity", "unitCode", "unitPrice",
    "vatPercentage", "netAmount", "vatAmount", "grossAmount",
)  # fmt: skip
AMOUNT_FIELDS = ("netAmount", "vatAmount", "grossAmount")
DISTRIBUTION_RECORDS_KEY = "distributions"  # CHOSEN
DISTRIBUTION_RECORD_FIELDS = (
    "invoiceNumber", "invoiceDate", "distributionMethod", "distributionStatus", "distributedAt",
    "paymentControlStatus", "caseId", "createdAt",
)  # fmt: skip

# --- invoice actions (CHOSEN, see the docstring) ------------------------------------------------------------
ACTION_COMMENT_MAX_LENGTH = 500
ACTION_DATA_ONLY_CASE = ("COMMENT", "WITHDRAW", "PAYMENTPLAN", "OBJECTION", "PAUSE")
STAGE_WITHDRAWN, STAGE_PAYMENT_PLAN, STAGE_OBJECTION = "WITHDRAWN", "PAYMENT_PLAN", "OBJECTION"
DIRECT_PAYMENT_FIELDS = ("paymentDate", "amount", "currency", "reference", "paymentMethod")
#: what each code changes in GET /invoice/case (None: nothing visible, only an operator can settle it)
ACTION_EFFECTS: dict[str, str | None] = {
    "WITHDRAW": "summary.status CLOSED and summary.stage WITHDRAWN",
    "PAUSE": "summary.paused true",
    "DUEDATE": "summary.dueDate equals data.dueDate",
    "PAYMENTPLAN": "summary.stage PAYMENT_PLAN",
    "OBJECTION": "summary.stage OBJECTION",
    "DIRECTPAYMENT": "case.directPayments holds data.reference with data.amount",
    "COMMENT": None,
}

REQUIRED_CLIENT_FIELDS = (
    "service.type", "service.partnerCode", "client.name", "client.businessCode", "client.postalAddress",
    "client.postalCode", "client.postalDistrict", "client.countryCode", "client.email", "client.languageCode",
    "client.currencyCode", "contacts.primary.name",
)  # fmt: skip
REQUIRED_INVOICE_FIELDS = (
    "processing.paymentControlEnabled", "distribution.method", "distribution.enabled",
    "invoice.header.number", "invoice.header.date", "invoice.header.dueDate", "invoice.header.currencyCode",
    "invoice.header.languageCode", "invoice.parties.sellerParty.name", "invoice.parties.sellerParty.businessId",
    "invoice.parties.sellerParty.address", "invoice.parties.buyerParty.entityType",
    "invoice.parties.buyerParty.name", "invoice.parties.buyerParty.address", "invoice.rows", "invoice.amounts",
)  # fmt: skip
# CHOSEN: what `--historical-policy no-distribution` sets in a create-invoice body (dotted paths).
NO_DISTRIBUTION_FIELDS: dict[str, bool] = {
    "distribution.enabled": False,
    "processing.paymentControlEnabled": False,
}
REQUIRED_ADDRESS_FIELDS = ("street", "postalCode", "postalDistrict", "countryCode")

# --- text lengths (CHOSEN, Finvoice 3.0) -------------------------------------------------------------------
# The maximum number of characters (Unicode code points) of every text field of the create-client and
# create-invoice bodies, keyed by JSON path (`[]` stands for any list index). Confirma's docs give no limits;
# these are Finvoice 3.0's (shared/reference/finvoice-lengths.md): names 70, street lines / towns / postal
# codes / identifiers 35, article names 100, free texts 512. Fields Finvoice does not list take the limit of
# its nearest element: e-mail 70 (Seller/BuyerEmailaddressIdentifier), phone 35, URL 512 (InvoiceUrlText),
# IBAN 34 (ISO 13616), BIC 11 (ISO 9362), unit code 14 (QuantityUnitCode). Codes (country, currency,
# language) and enums are checked by their own lists. Validation, mapping and the sandbox all read this dict.
_NAME, _LINE, _ID, _FREE, _EMAIL, _PHONE = 70, 35, 35, 512, 70, 35
_ADDRESS = {"street": _LINE, "street2": _LINE, "street3": _LINE, "postalCode": _LINE, "postalDistrict": _LINE,
            "countryName": _LINE}  # fmt: skip


def _under(prefix: str, fields: dict[str, int]) -> dict[str, int]:
    return {f"{prefix}.{k}": v for k, v in fields.items()}


TEXT_MAX_LENGTHS: dict[str, int] = {
    # create-client
    "service.partnerCode": _ID,
    **_under("client", {
        "name": _NAME, "businessCode": _ID, "vatRegNbr": _ID, "postalAddress": _LINE, "postalCode": _LINE,
        "postalDistrict": _LINE, "telephone": _PHONE, "email": _EMAIL, "website": _FREE, "ibanAccount": 34,
        "bic": 11, "bankgiro": _ID, "plusgiro": _ID,
    }),
    **_under("contacts.primary", {"name": _NAME, "telephone": _PHONE, "mobile": _PHONE, "email": _EMAIL}),
    **_under("contacts.technical", {"name": _NAME, "email": _EMAIL}),
    **_under("contacts.accountant", {"name": _NAME, "email": _EMAIL}),
    # create-invoice
    "invoice.header.description": _FREE,
    "invoice.header.additionalInformation": _FREE,
    **_under("invoice.references", {
        "sales": _NAME, "buyer": _NAME, "agreement": _NAME, "payment": _ID, "orderNumber": _NAME,
        "electronicPaymentCode": _ID, "invoiceCopyUrl": _FREE,
    }),
    **_under("invoice.parties.sellerParty", {"businessId": _ID, "name": _NAME, "vatCode": _ID}),
    **_under("invoice.parties.sellerParty.address", _ADDRESS),
    **_under("invoice.parties.sellerParty.contact", {"email": _EMAIL, "phone": _PHONE}),
    **_under("invoice.parties.sellerParty.contact.contactPerson", {"name": _NAME, "email": _EMAIL}),
    **_under("invoice.parties.sellerParty.paymentDetails", {"iban": 34, "bic": 11, "bankgiro": _ID,
                                                            "postgiro": _ID}),
    **_under("invoice.parties.buyerParty", {
        "name": _NAME, "customerAccountId": _ID, "personalIdentityNumber": _ID, "businessId": _ID, "vatCode": _ID,
        "electronicInvoiceAccount": _ID, "electronicRoutingAddress": _ID, "glnNumber": _ID,
    }),
    **_under("invoice.parties.buyerParty.address", _ADDRESS),
    **_under("invoice.parties.buyerParty.contact", {"email": _EMAIL, "phone": _PHONE}),
    **_under("invoice.parties.buyerParty.contact.contactPerson", {"name": _NAME, "email": _EMAIL}),
    **_under("invoice.parties.invoiceRecipientParty", {
        "name": _NAME, "businessId": _ID, "vatCode": _ID, "electronicInvoiceAccount": _ID,
        "electronicRoutingAddress": _ID, "glnNumber": _ID, "email": _EMAIL,
    }),
    **_under("invoice.parties.invoiceRecipientParty.address", _ADDRESS),
    **_under("invoice.rows[]", {"productCode": _ID, "name": 100, "unitCode": 14}),
}  # fmt: skip


#: characters XML 1.0 cannot carry (its Char production), as a regular expression class (CHOSEN, see above)
XML_FORBIDDEN_CHARACTERS = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"  # Python and RE2 (pyarrow) alike
#: the dates an invoice may carry (CHOSEN, see above), inclusive
DATE_RANGE = (date(2000, 1, 1), date(2099, 12, 31))
#: the body paths DATE_RANGE applies to
RANGED_DATE_PATHS = ("invoice.header.date", "invoice.header.dueDate", "invoice.references.orderDate")


def text_max_length(path: str) -> int | None:
    """The CHOSEN maximum length of the text at JSON `path` (list indexes allowed: `invoice.rows[3].name`)."""
    return TEXT_MAX_LENGTHS.get(_INDEX.sub("[]", path))


# --- signs (CHOSEN) -----------------------------------------------------------------------------------------
#: Document types whose rows may carry negative quantities, unit prices and amounts.
NEGATIVE_ALLOWED_TYPES = ("CREDIT_NOTE",)
#: Sign the totals (net, VAT, gross) of each document type must have: +1 = >= 0, -1 = <= 0.
TOTALS_SIGN = {"INVOICE": 1, "CREDIT_NOTE": -1}

# --- money ------------------------------------------------------------------------------------------------
CENT = Decimal("0.01")
ROW_TOLERANCE = Decimal("0.01")
MONEY_DECIMALS = 2
QUANTITY_DECIMALS = 4


def round_money(value: Decimal) -> Decimal:
    """Round to cents, half up (CHOSEN)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def row_amounts(
    quantity: Decimal,
    unit_price: Decimal,
    vat_percentage: Decimal,
    discount_percentage: Decimal | None = None,
) -> tuple[Decimal, Decimal, Decimal]:
    """(netAmount, vatAmount, grossAmount) of one invoice row under the CHOSEN rounding rule."""
    share = 1 - Decimal(discount_percentage or 0) / 100
    net = round_money(Decimal(quantity) * Decimal(unit_price) * share)
    vat = round_money(net * Decimal(vat_percentage) / 100)
    return net, vat, net + vat


def ledger_net_amount(amount: Decimal, vat_percentage: Decimal, is_vat_row: int, mode: str) -> Decimal:
    """The netAmount a ledger row should carry (INFERRED, see the module docstring)."""
    if mode != "GROSS" or is_vat_row:
        return Decimal(amount)
    return round_money(Decimal(amount) / (1 + Decimal(vat_percentage) / 100))


def ledger_imbalance(mode: str, rows: list[tuple[Decimal, Decimal | None, int]]) -> str | None:
    """Why a voucher's rows (amount, netAmount, isVatRow) do not balance, or None when they do."""
    if mode == "GROSS":
        gross = sum((Decimal(a) for a, _, vat in rows if not vat), Decimal(0))
        net = sum((Decimal(n if n is not None else a) for a, n, _ in rows), Decimal(0))
        if gross != 0:
            return f"non-VAT row amounts sum to {gross}, not 0"
        if net != 0:
            return f"row netAmounts sum to {net}, not 0"
        return None
    total = sum((Decimal(a) for a, _, _ in rows), Decimal(0))
    return None if total == 0 else f"row amounts sum to {total}, not 0"


def settlement_id(day_yyyymmdd: int, sequence: int) -> int:
    """CHOSEN settlementId scheme: e.g. (20260328, 1) -> 202603280001 (needs int64)."""
    return day_yyyymmdd * 10000 + sequence
