"""Request-body validation as the docs' data-validation page describes, plus the CHOSEN required fields.

Every check reports the field by its JSON path (e.g. `invoice.rows[2].netAmount`), and all problems of a body
are reported together. Bodies are parsed with `parse_float=Decimal`, so amounts are checked exactly.

Strict identifier checks (Finnish business id check digit, IBAN checksum, Finnish/RF payment reference) are
off by default: the docs' own examples fail them (reference section 4.3).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from confirma_pipeline.api import contract as c
from confirma_pipeline.validation import reference as ref

EMAIL_RE = re.compile(ref.EMAIL_PATTERN)
URL_RE = re.compile(ref.URL_PATTERN)
BIC_RE = re.compile(ref.BIC_PATTERN)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
XML_FORBIDDEN_RE = re.compile(c.XML_FORBIDDEN_CHARACTERS)
#: the length limit of a text path, remembered: a body repeats the same paths (rows[0].name, rows[1].name, ...)
#: and the limit is looked up by a regular expression; bounded, as the paths come from the request
_text_limit = lru_cache(maxsize=4096)(c.text_max_length)
POSTAL_CODE_RES = {country: re.compile(pattern) for country, pattern in ref.POSTAL_CODE_PATTERNS.items()}


class Errors:
    """Collects (field, message) pairs."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append({"field": field, "message": message})

    def __bool__(self) -> bool:
        return bool(self.items)


# --- primitive checks (each returns the cleaned value or None after recording an error) ---------------------
def _typed(
    errs: Errors,
    parent: dict,
    key: str,
    path: str,
    required: bool,
    kinds: type | tuple[type, ...],
    must: str,
    blank: bool = False,
) -> Any:
    """The value at `key` when it is one of `kinds`, else None after recording why: "is required" for an
    absent one (None, or "" when `blank` counts as absent) when `required`, `must` for one of another type. A
    JSON true/false is never a number, though Python's bool is an int."""
    value = parent.get(key)
    if value is None or (blank and value == ""):
        if required:
            errs.add(path, "is required")
        return None
    if not isinstance(value, kinds) or (value.__class__ is bool and kinds is not bool):
        errs.add(path, must)
        return None
    return value


def _obj(errs: Errors, parent: Any, key: str, path: str, required: bool = True) -> dict | None:
    return _typed(
        errs, parent if isinstance(parent, dict) else {}, key, path, required, dict, "must be an object"
    )


def _str(errs: Errors, parent: dict, key: str, path: str, required: bool = False) -> str | None:
    value = _typed(errs, parent, key, path, required, str, "must be a string", blank=True)
    if value is None:
        return None
    if required and not value.strip():
        errs.add(path, "is required")
        return None
    limit = _text_limit(path)
    if limit is not None and len(value) > limit:
        errs.add(path, f"must be at most {limit} characters")
        return None
    if XML_FORBIDDEN_RE.search(value):
        errs.add(path, "must not hold a character XML 1.0 cannot carry (a control character)")
        return None
    return value


def _bool(errs: Errors, parent: dict, key: str, path: str, required: bool = False) -> bool | None:
    return _typed(errs, parent, key, path, required, bool, "must be true or false")


def _int(
    errs: Errors, parent: dict, key: str, path: str, required: bool = False, positive: bool = True
) -> int | None:
    value = _typed(errs, parent, key, path, required, int, "must be an integer")
    if value is not None and positive and value <= 0:
        errs.add(path, "must be a positive integer")
        return None
    return value


def _number(
    errs: Errors, parent: dict, key: str, path: str, required: bool = False, decimals: int = c.MONEY_DECIMALS
) -> Decimal | None:
    value = _typed(errs, parent, key, path, required, (int, Decimal), "must be a number")
    if value is None:
        return None
    number = Decimal(value)
    try:
        if number != number.quantize(Decimal(1).scaleb(-decimals)):
            errs.add(path, f"must have at most {decimals} decimals")
            return None
    except InvalidOperation:
        errs.add(path, "is out of range")
        return None
    return number


def _date(errs: Errors, parent: dict, key: str, path: str, required: bool = False) -> date | None:
    must = "must be an ISO 8601 date (YYYY-MM-DD)"
    value = _typed(errs, parent, key, path, required, str, must, blank=True)
    if value is None:
        return None
    if not DATE_RE.match(value):
        errs.add(path, must)
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        errs.add(path, "is not a valid calendar date")
        return None
    low, high = c.DATE_RANGE
    if path in c.RANGED_DATE_PATHS and not low <= parsed <= high:
        errs.add(path, f"must be within {low} .. {high}")
        return None
    return parsed


def _non_empty_list(errs: Errors, items: Any, path: str) -> bool:
    if not isinstance(items, list) or not items:
        errs.add(path, "is required (a non-empty list)")
        return False
    return True


def _each_object(errs: Errors, items: list, path: str) -> Iterator[tuple[str, dict]]:
    """(path, item) for each object of `items`, recording "must be an object" for the others as it goes (so
    every error stays in the order of the items)."""
    for i, item in enumerate(items):
        item_path = f"{path}[{i}]"
        if isinstance(item, dict):
            yield item_path, item
        else:
            errs.add(item_path, "must be an object")


def _enum(
    errs: Errors, parent: dict, key: str, path: str, allowed: tuple[str, ...], required: bool = False
) -> str | None:
    value = _str(errs, parent, key, path, required)
    if value is not None and value not in allowed:
        errs.add(path, f"must be one of {', '.join(allowed)}")
        return None
    return value


def _currency(errs: Errors, parent: dict, key: str, path: str, required: bool = False) -> None:
    value = _str(errs, parent, key, path, required)
    if value is not None and value not in ref.CURRENCY_CODES:
        errs.add(path, "must be an ISO 4217 currency code")


def _country(errs: Errors, parent: dict, key: str, path: str, required: bool = False) -> str | None:
    value = _str(errs, parent, key, path, required)
    if value is not None and value not in ref.COUNTRY_CODES:
        errs.add(path, "must be an ISO 3166-1 alpha-2 country code")
        return None
    return value


def _language(errs: Errors, parent: dict, key: str, path: str, required: bool = False) -> None:
    value = _str(errs, parent, key, path, required)
    if value is not None and not ref.language_ok(value):
        errs.add(path, "must be an ISO 639-1 language code")


def _email(errs: Errors, parent: dict, key: str, path: str, required: bool = False) -> str | None:
    value = _str(errs, parent, key, path, required)
    if value is not None and not EMAIL_RE.fullmatch(value):
        errs.add(path, "must be a valid e-mail address")
        return None
    return value


def _url(errs: Errors, parent: dict, key: str, path: str) -> None:
    value = _str(errs, parent, key, path)
    if value is not None and not URL_RE.fullmatch(value):
        errs.add(path, "must be a valid URL")


def _postal_code(errs: Errors, code: str | None, country: str | None, path: str) -> None:
    if code is None:
        return
    pattern = POSTAL_CODE_RES.get(country or "")
    if pattern is not None and not pattern.fullmatch(code):
        errs.add(path, f"is not a valid postal code for {country}")


# --- strict identifier checks (optional): the shared reference rules ------------------------------------------
business_id_ok = ref.business_id_ok
iban_ok = ref.iban_ok
payment_reference_ok = ref.payment_reference_ok


def _finnish_business_id(errs: Errors, party: dict, path: str) -> None:
    """A Finnish party's (address country FI or not given) businessId must carry a valid Y-tunnus check digit;
    other countries' business ids have other formats (the same rule as local validation)."""
    value = party.get("businessId")
    address = party.get("address") if isinstance(party.get("address"), dict) else {}
    finnish = address.get("countryCode") in (None, "FI")
    if isinstance(value, str) and value and finnish and not business_id_ok(value):
        errs.add(f"{path}.businessId", "is not a valid Finnish business id (check digit)")


def _bic(errs: Errors, parent: dict, key: str, path: str) -> None:
    value = _str(errs, parent, key, path)
    if value is not None and not BIC_RE.fullmatch(value):
        errs.add(path, "must be a BIC (8 or 11 characters)")


# --- bodies ---------------------------------------------------------------------------------------------------
def _address(errs: Errors, address: dict | None, path: str, required: bool) -> None:
    if address is None:
        return
    fields = {}
    for key in c.REQUIRED_ADDRESS_FIELDS:
        if key != "countryCode":
            fields[key] = _str(errs, address, key, f"{path}.{key}", required=required)
    for key in ("street2", "street3", "countryName"):
        _str(errs, address, key, f"{path}.{key}")
    country = _country(errs, address, "countryCode", f"{path}.countryCode", required=required)
    _postal_code(errs, fields["postalCode"], country, f"{path}.postalCode")


def _contact(errs: Errors, contact: dict | None, path: str) -> str | None:
    if contact is None:
        return None
    person = _obj(errs, contact, "contactPerson", f"{path}.contactPerson", required=False)
    if person is not None:
        _str(errs, person, "name", f"{path}.contactPerson.name")
        _email(errs, person, "email", f"{path}.contactPerson.email")
    _str(errs, contact, "phone", f"{path}.phone")
    return _email(errs, contact, "email", f"{path}.email")


def validate_client(body: Any, strict: bool = False) -> Errors:
    errs = Errors()
    if not isinstance(body, dict):
        errs.add("", "body must be a JSON object")
        return errs
    service = _obj(errs, body, "service", "service")
    if service is not None:
        _enum(errs, service, "type", "service.type", c.SERVICE_TYPES, required=True)
        _str(errs, service, "partnerCode", "service.partnerCode", required=True)
    client = _obj(errs, body, "client", "client")
    if client is not None:
        required = {f.split(".", 1)[1] for f in c.REQUIRED_CLIENT_FIELDS if f.startswith("client.")}
        for key in ("name", "businessCode", "vatRegNbr", "postalAddress", "postalDistrict",
                    "telephone", "ibanAccount", "bankgiro", "plusgiro"):  # fmt: skip
            _str(errs, client, key, f"client.{key}", required=key in required)
        _bic(errs, client, "bic", "client.bic")
        country = _country(errs, client, "countryCode", "client.countryCode", required=True)
        postal_code = _str(errs, client, "postalCode", "client.postalCode", required=True)
        _postal_code(errs, postal_code, country, "client.postalCode")
        _email(errs, client, "email", "client.email", required=True)
        _url(errs, client, "website", "client.website")
        _language(errs, client, "languageCode", "client.languageCode", required=True)
        _currency(errs, client, "currencyCode", "client.currencyCode", required=True)
        if strict:
            business_code = client.get("businessCode")
            if isinstance(business_code, str) and business_code and not business_id_ok(business_code):
                errs.add("client.businessCode", "is not a valid Finnish business id (check digit)")
            iban = client.get("ibanAccount")
            if isinstance(iban, str) and iban and not iban_ok(iban):
                errs.add("client.ibanAccount", "is not a valid IBAN")
    contacts = _obj(errs, body, "contacts", "contacts")
    if contacts is not None:
        primary = _obj(errs, contacts, "primary", "contacts.primary")
        if primary is not None:
            _str(errs, primary, "name", "contacts.primary.name", required=True)
            for key in ("telephone", "mobile"):
                _str(errs, primary, key, f"contacts.primary.{key}")
            _email(errs, primary, "email", "contacts.primary.email")
        for role in ("technical", "accountant"):
            person = _obj(errs, contacts, role, f"contacts.{role}", required=False)
            if person is not None:
                _str(errs, person, "name", f"contacts.{role}.name")
                _email(errs, person, "email", f"contacts.{role}.email")
    return errs


def validate_invoice(body: Any, strict: bool = False) -> tuple[Errors, dict[str, Any]]:
    """Errors plus a summary of the invoice (number, dates, amounts...) for the sandbox state."""
    errs = Errors()
    summary: dict[str, Any] = {}
    if not isinstance(body, dict):
        errs.add("", "body must be a JSON object")
        return errs, summary
    processing = _obj(errs, body, "processing", "processing")
    if processing is not None:
        summary["paymentControlEnabled"] = _bool(
            errs, processing, "paymentControlEnabled", "processing.paymentControlEnabled", required=True
        )
        for key in ("manualApprovalEnabled", "accountingInvoiceEnabled", "showProductCodeEnabled"):
            _bool(errs, processing, key, f"processing.{key}")
    distribution = _obj(errs, body, "distribution", "distribution")
    method = None
    if distribution is not None:
        method = _enum(
            errs, distribution, "method", "distribution.method", c.DISTRIBUTION_METHODS, required=True
        )
        summary["distributionEnabled"] = _bool(
            errs, distribution, "enabled", "distribution.enabled", required=True
        )
    summary["method"] = method
    invoice = _obj(errs, body, "invoice", "invoice")
    if invoice is None:
        return errs, summary

    header = _obj(errs, invoice, "header", "invoice.header")
    inv_type = "INVOICE"
    if header is not None:
        summary["number"] = _int(errs, header, "number", "invoice.header.number", required=True)
        if header.get("type") is not None:
            inv_type = _enum(errs, header, "type", "invoice.header.type", c.INVOICE_TYPES) or inv_type
        inv_date = _date(errs, header, "date", "invoice.header.date", required=True)
        due = _date(errs, header, "dueDate", "invoice.header.dueDate", required=True)
        if inv_date and due and due < inv_date:
            errs.add("invoice.header.dueDate", "must not be before invoice.header.date")
        summary.update(date=inv_date, dueDate=due, type=inv_type, currency=header.get("currencyCode"))
        _str(errs, header, "description", "invoice.header.description")
        _str(errs, header, "additionalInformation", "invoice.header.additionalInformation")
        _currency(errs, header, "currencyCode", "invoice.header.currencyCode", required=True)
        _language(errs, header, "languageCode", "invoice.header.languageCode", required=True)

    references = _obj(errs, invoice, "references", "invoice.references", required=False)
    credited = None
    if references is not None:
        for key in ("sales", "buyer", "agreement", "orderNumber", "electronicPaymentCode"):
            _str(errs, references, key, f"invoice.references.{key}")
        payment_ref = _str(errs, references, "payment", "invoice.references.payment")
        summary["paymentReference"] = payment_ref
        if strict and payment_ref and not payment_reference_ok(payment_ref):
            errs.add("invoice.references.payment", "is not a valid Finnish or RF payment reference")
        _date(errs, references, "orderDate", "invoice.references.orderDate")
        credited = _int(errs, references, "creditedInvoiceNumber", "invoice.references.creditedInvoiceNumber")
        _url(errs, references, "invoiceCopyUrl", "invoice.references.invoiceCopyUrl")
    if inv_type == "CREDIT_NOTE" and credited is None:
        errs.add("invoice.references.creditedInvoiceNumber", "is required for a CREDIT_NOTE")

    parties = _obj(errs, invoice, "parties", "invoice.parties")
    emails: list[str | None] = []
    e_accounts: list[str | None] = []
    if parties is not None:
        p = "invoice.parties.sellerParty"
        seller = _obj(errs, parties, "sellerParty", p)
        if seller is not None:
            _str(errs, seller, "name", f"{p}.name", required=True)
            _str(errs, seller, "businessId", f"{p}.businessId", required=True)
            if strict:
                _finnish_business_id(errs, seller, p)
            _str(errs, seller, "vatCode", f"{p}.vatCode")
            _address(errs, _obj(errs, seller, "address", f"{p}.address"), f"{p}.address", required=True)
            _contact(errs, _obj(errs, seller, "contact", f"{p}.contact", required=False), f"{p}.contact")
            details = _obj(errs, seller, "paymentDetails", f"{p}.paymentDetails", required=False)
            if details is not None:
                iban = _str(errs, details, "iban", f"{p}.paymentDetails.iban")
                if strict and iban and not iban_ok(iban):
                    errs.add(f"{p}.paymentDetails.iban", "is not a valid IBAN")
                _bic(errs, details, "bic", f"{p}.paymentDetails.bic")
                for key in ("bankgiro", "postgiro"):
                    _str(errs, details, key, f"{p}.paymentDetails.{key}")
            summary["sellerName"] = seller.get("name")
        p = "invoice.parties.buyerParty"
        buyer = _obj(errs, parties, "buyerParty", p)
        if buyer is not None:
            _enum(errs, buyer, "entityType", f"{p}.entityType", c.ENTITY_TYPES, required=True)
            summary["buyerName"] = _str(errs, buyer, "name", f"{p}.name", required=True)
            for key in ("customerAccountId", "personalIdentityNumber", "businessId", "vatCode",
                        "electronicRoutingAddress", "glnNumber"):  # fmt: skip
                _str(errs, buyer, key, f"{p}.{key}")
            if strict:
                _finnish_business_id(errs, buyer, p)
            e_accounts.append(_str(errs, buyer, "electronicInvoiceAccount", f"{p}.electronicInvoiceAccount"))
            _language(errs, buyer, "languageCode", f"{p}.languageCode")
            _bool(errs, buyer, "disableCollection", f"{p}.disableCollection")
            _address(errs, _obj(errs, buyer, "address", f"{p}.address"), f"{p}.address", required=True)
            emails.append(
                _contact(errs, _obj(errs, buyer, "contact", f"{p}.contact", required=False), f"{p}.contact")
            )
        p = "invoice.parties.invoiceRecipientParty"
        recipient = _obj(errs, parties, "invoiceRecipientParty", p, required=False)
        if recipient is not None:
            for key in ("name", "businessId", "vatCode", "electronicRoutingAddress", "glnNumber"):
                _str(errs, recipient, key, f"{p}.{key}")
            if strict:
                _finnish_business_id(errs, recipient, p)
            e_accounts.append(
                _str(errs, recipient, "electronicInvoiceAccount", f"{p}.electronicInvoiceAccount")
            )
            emails.append(_email(errs, recipient, "email", f"{p}.email"))
            _language(errs, recipient, "languageCode", f"{p}.languageCode")
            _address(
                errs, _obj(errs, recipient, "address", f"{p}.address", required=False), f"{p}.address", False
            )
        if method == "EMAIL" and not any(emails):
            errs.add(f"{p}.email", "an e-mail address (buyer contact or recipient) is required for EMAIL")
        if method == "EINVOICE" and not any(e_accounts):
            errs.add(f"{p}.electronicInvoiceAccount", "an e-invoice address is required for EINVOICE")

    summary.update(_collection(errs, invoice))
    totals = _rows(errs, invoice, inv_type)
    amounts = _obj(errs, invoice, "amounts", "invoice.amounts")
    if amounts is not None:
        values = {
            k: _number(errs, amounts, k, f"invoice.amounts.{k}", required=True) for k in c.AMOUNT_FIELDS
        }
        sign = c.TOTALS_SIGN.get(inv_type, 1)
        for key, value in values.items():
            if value is not None and value * sign < 0:
                errs.add(f"invoice.amounts.{key}", f"must be {'>=' if sign > 0 else '<='} 0 for a {inv_type}")
        if totals is not None:
            for key, total in zip(c.AMOUNT_FIELDS, totals, strict=True):
                if values[key] is not None and values[key] != total:
                    errs.add(f"invoice.amounts.{key}", f"must equal the sum of the rows ({total})")
        summary["grossAmount"] = values["grossAmount"]
    return errs, summary


def _collection(errs: Errors, invoice: dict) -> dict[str, Any]:
    """invoice.collection (CHOSEN placement): costs >= 0 and a known interest type; what the case takes over."""
    out: dict[str, Any] = {}
    collection = _obj(errs, invoice, "collection", "invoice.collection", required=False)
    if collection is None:
        return out
    costs = _obj(errs, collection, "costs", "invoice.collection.costs", required=False)
    if costs is not None:
        total = Decimal(0)
        for key in ("creditorCostsAmount", "collectionFeesAmount"):
            value = _number(errs, costs, key, f"invoice.collection.costs.{key}")
            if value is not None and value < 0:
                errs.add(f"invoice.collection.costs.{key}", "must not be negative")
            total += value or 0
        out["collectionCosts"] = total
    interest = _obj(errs, collection, "interest", "invoice.collection.interest", required=False)
    if interest is not None:
        kind = _enum(
            errs, interest, "type", "invoice.collection.interest.type", c.INTEREST_TYPES, required=True
        )
        pct = _number(errs, interest, "percentage", "invoice.collection.interest.percentage", decimals=4)
        if pct is not None and not (0 <= pct <= 100):
            errs.add("invoice.collection.interest.percentage", "must be between 0 and 100")
        if kind == "FIXED" and pct is not None:
            out["interestPercentage"] = pct
    return out


def _rows(errs: Errors, invoice: dict, inv_type: str) -> tuple[Decimal, Decimal, Decimal] | None:
    rows = invoice.get("rows")
    if not _non_empty_list(errs, rows, "invoice.rows"):
        return None
    net_sum = vat_sum = gross_sum = Decimal(0)
    complete = all(isinstance(row, dict) for row in rows)
    for p, row in _each_object(errs, rows, "invoice.rows"):
        _int(errs, row, "rowNumber", f"{p}.rowNumber", required=True)
        _str(errs, row, "productCode", f"{p}.productCode")
        _str(errs, row, "name", f"{p}.name", required=True)
        _str(errs, row, "unitCode", f"{p}.unitCode", required=True)
        qty = _number(errs, row, "quantity", f"{p}.quantity", required=True, decimals=c.QUANTITY_DECIMALS)
        price = _number(errs, row, "unitPrice", f"{p}.unitPrice", required=True)
        vat_pct = _number(errs, row, "vatPercentage", f"{p}.vatPercentage", required=True)
        if vat_pct is not None and not (0 <= vat_pct <= 100):
            errs.add(f"{p}.vatPercentage", "must be between 0 and 100")
            vat_pct = None
        net = _number(errs, row, "netAmount", f"{p}.netAmount", required=True)
        vat = _number(errs, row, "vatAmount", f"{p}.vatAmount", required=True)
        gross = _number(errs, row, "grossAmount", f"{p}.grossAmount", required=True)
        if inv_type not in c.NEGATIVE_ALLOWED_TYPES:
            signed = {
                "quantity": qty,
                "unitPrice": price,
                "netAmount": net,
                "vatAmount": vat,
                "grossAmount": gross,
            }
            for key, value in signed.items():
                if value is not None and value < 0:
                    errs.add(f"{p}.{key}", f"must not be negative on a {inv_type}")
        if None in (net, vat, gross):
            complete = False
            continue
        discount = _number(errs, row, "discountPercentage", f"{p}.discountPercentage")
        if discount is not None and not (0 <= discount <= 100):
            errs.add(f"{p}.discountPercentage", "must be between 0 and 100")
        if qty is not None and price is not None and vat_pct is not None:
            exp_net, exp_vat, _ = c.row_amounts(qty, price, vat_pct, discount)
            if abs(net - exp_net) > c.ROW_TOLERANCE:
                errs.add(
                    f"{p}.netAmount",
                    f"must be quantity x unitPrice less the discount, rounded to cents ({exp_net})",
                )
            if abs(vat - c.round_money(net * vat_pct / 100)) > c.ROW_TOLERANCE:
                errs.add(f"{p}.vatAmount", f"must be netAmount x vatPercentage / 100 ({exp_vat})")
        if gross != net + vat:
            errs.add(f"{p}.grossAmount", "must equal netAmount + vatAmount")
        net_sum += net
        vat_sum += vat
        gross_sum += gross
    return (net_sum, vat_sum, gross_sum) if complete else None


def validate_actions(body: Any) -> tuple[Errors, list[dict]]:
    errs = Errors()
    actions = body.get("actions") if isinstance(body, dict) else None
    if not _non_empty_list(errs, actions, "actions"):
        return errs, []
    for p, action in _each_object(errs, actions, "actions"):
        code = _enum(errs, action, "code", f"{p}.code", c.ACTION_CODES, required=True)
        _str(errs, action, "comment", f"{p}.comment")
        data = _obj(errs, action, "data", f"{p}.data")
        if data is None:
            continue
        _int(errs, data, "invoiceNumber", f"{p}.data.invoiceNumber", required=True)
        _int(errs, data, "caseId", f"{p}.data.caseId")
        if code == "DUEDATE":
            _date(errs, data, "dueDate", f"{p}.data.dueDate", required=True)
        if code == "DIRECTPAYMENT":
            amount = _number(errs, data, "amount", f"{p}.data.amount", required=True)
            if amount is not None and amount <= 0:
                errs.add(f"{p}.data.amount", "must be positive")
            _currency(errs, data, "currency", f"{p}.data.currency", required=True)
            _date(errs, data, "paymentDate", f"{p}.data.paymentDate", required=True)
            for key in ("outstandingCapitalAmount", "outstandingInterestAmount", "outstandingCostsAmount"):
                _number(errs, data, key, f"{p}.data.{key}")
    return errs, actions


def validate_ledger(body: Any) -> Errors:
    errs = Errors()
    ledger = _obj(errs, body, "ledgers", "ledgers")
    if ledger is None:
        return errs
    _str(errs, ledger, "ledgerIdentifier", "ledgers.ledgerIdentifier", required=True)
    _str(errs, ledger, "companyIdentifier", "ledgers.companyIdentifier")
    _date(errs, ledger, "documentDate", "ledgers.documentDate", required=True)
    description = _str(errs, ledger, "documentDescription", "ledgers.documentDescription")
    if description is not None and len(description) > 210:
        errs.add("ledgers.documentDescription", "must be at most 210 characters")
    rows = ledger.get("ledgerRows")
    if not _non_empty_list(errs, rows, "ledgers.ledgerRows"):
        return errs
    balance: list[tuple[Decimal, Decimal | None, int]] = []
    for p, row in _each_object(errs, rows, "ledgers.ledgerRows"):
        _date(errs, row, "bookingDate", f"{p}.bookingDate", required=True)
        _str(errs, row, "accountNumber", f"{p}.accountNumber", required=True)
        amount = _number(errs, row, "amount", f"{p}.amount", required=True)
        net = _number(errs, row, "netAmount", f"{p}.netAmount")
        _number(errs, row, "vatPercentage", f"{p}.vatPercentage")
        flag = row.get("isVatRow", 0)
        if flag not in (0, 1) or isinstance(flag, bool):
            errs.add(f"{p}.isVatRow", "must be 0 or 1")
        balance.append((amount or Decimal(0), net, 1 if flag == 1 else 0))
    imbalance = None if errs else c.ledger_imbalance(ledger.get("calculationMode") or "GROSS", balance)
    if imbalance:
        errs.add("ledgers.ledgerRows", f"must balance: {imbalance}")
    return errs


def validate_accounting_payments(body: Any) -> Errors:
    errs = Errors()
    payments = body.get("payments") if isinstance(body, dict) else None
    if not _non_empty_list(errs, payments, "payments"):
        return errs
    for p, payment in _each_object(errs, payments, "payments"):
        _str(errs, payment, "paymentIdentifier", f"{p}.paymentIdentifier", required=True)
        _str(errs, payment, "invoiceNumber", f"{p}.invoiceNumber", required=True)
        _date(errs, payment, "paymentDate", f"{p}.paymentDate", required=True)
        _date(errs, payment, "bookingDate", f"{p}.bookingDate")
        _number(errs, payment, "amount", f"{p}.amount", required=True)
        _currency(errs, payment, "currency", f"{p}.currency")
    return errs
