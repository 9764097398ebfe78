"""Pydantic v2 models of every Partner API request and response (see api/contract.py for the choices).

Conventions:
- Python attributes are snake_case; the JSON names are camelCase (alias generator), and both are accepted.
- Response models keep unknown fields (`extra="allow"`): a new server field never breaks parsing.
- Money is `Decimal` (serialised as a JSON number); ids that can exceed int32 are Python `int`.
- Tokens are `SecretStr`, so a model's repr never shows them.
- Request models are optional: the client also accepts plain dicts (which it does not validate).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PlainSerializer, RootModel, SecretStr
from pydantic.alias_generators import to_camel

# Decimal in Python, a JSON number on the wire (pydantic would otherwise write a string).
Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="allow",
    )

    def to_body(self) -> dict[str, Any]:
        """The JSON-ready dict to send (camelCase keys, numbers for money, ISO dates)."""
        return self.model_dump(mode="json", by_alias=True)


# --- onboarding -------------------------------------------------------------------------------------------
class ServiceInfo(ApiModel):
    type: str
    partner_code: str


class ClientInfo(ApiModel):
    name: str
    business_code: str
    vat_reg_nbr: str = ""
    postal_address: str
    postal_code: str
    postal_district: str
    country_code: str
    telephone: str = ""
    email: str
    website: str = ""
    language_code: str
    currency_code: str
    iban_account: str = ""
    bic: str = ""
    bankgiro: str = ""
    plusgiro: str = ""


class PrimaryContact(ApiModel):
    name: str
    telephone: str = ""
    mobile: str = ""
    email: str = ""


class NamedContact(ApiModel):
    name: str = ""
    email: str = ""


class ClientContacts(ApiModel):
    primary: PrimaryContact
    technical: NamedContact = Field(default_factory=NamedContact)
    accountant: NamedContact = Field(default_factory=NamedContact)


class CreateClientRequest(ApiModel):
    service: ServiceInfo
    client: ClientInfo
    contacts: ClientContacts


class CreateClientResponse(ApiModel):
    message: str
    client_identifier: int
    confirma_finance_customer_code: int
    payment_reference_prefix: int
    api_access_token: SecretStr

    @property
    def access_token(self) -> str:
        return self.api_access_token.get_secret_value()


class ValidateTokenResponse(ApiModel):
    is_valid: bool
    message: str = ""
    expires_at: datetime | None = None  # CHOSEN extra


class RenewTokenResponse(ApiModel):
    message: SecretStr = Field(alias="Message")  # INFERRED: carries the new token

    @property
    def new_token(self) -> str:
        return self.message.get_secret_value()


# --- create invoice ---------------------------------------------------------------------------------------
class Processing(ApiModel):
    payment_control_enabled: bool
    manual_approval_enabled: bool = False
    accounting_invoice_enabled: bool = False
    show_product_code_enabled: bool | None = None


class DistributionSettings(ApiModel):
    method: str
    enabled: bool = True


class InvoiceHeader(ApiModel):
    number: int
    type: str | None = "INVOICE"
    date: date
    due_date: date
    description: str | None = None
    additional_information: str | None = None
    currency_code: str
    language_code: str


class InvoiceReferences(ApiModel):
    sales: str | None = None
    buyer: str | None = None
    agreement: str | None = None
    payment: str | None = None
    order_number: str | None = None
    order_date: date | None = None
    electronic_payment_code: str | None = None
    credited_invoice_number: int | None = None
    invoice_copy_url: str | None = None


class Address(ApiModel):
    street: str | None = None
    street2: str | None = None
    street3: str | None = None
    postal_code: str | None = None
    postal_district: str | None = None
    country_code: str | None = None
    country_name: str | None = None


class ContactPerson(ApiModel):
    name: str | None = None
    email: str | None = None


class PartyContact(ApiModel):
    contact_person: ContactPerson | None = None
    email: str | None = None
    phone: str | None = None


class PaymentDetails(ApiModel):
    iban: str | None = None
    bic: str | None = None
    bankgiro: str | None = None
    postgiro: str | None = None


class SellerParty(ApiModel):
    business_id: str
    name: str
    vat_code: str | None = None
    address: Address
    contact: PartyContact | None = None
    payment_details: PaymentDetails | None = None


class BuyerParty(ApiModel):
    entity_type: str
    name: str
    customer_account_id: str | None = None
    personal_identity_number: str | None = None
    business_id: str | None = None
    vat_code: str | None = None
    electronic_invoice_account: str | None = None
    electronic_routing_address: str | None = None
    gln_number: str | None = None
    language_code: str | None = None
    disable_collection: bool | None = None
    address: Address
    contact: PartyContact | None = None


class InvoiceRecipientParty(ApiModel):
    name: str | None = None
    business_id: str | None = None
    vat_code: str | None = None
    electronic_invoice_account: str | None = None
    electronic_routing_address: str | None = None
    gln_number: str | None = None
    email: str | None = None
    language_code: str | None = None
    address: Address | None = None


class InvoiceParties(ApiModel):
    seller_party: SellerParty
    buyer_party: BuyerParty
    invoice_recipient_party: InvoiceRecipientParty | None = None


class InvoiceRow(ApiModel):
    """CHOSEN shape (the docs' InvoiceRowData is NOT FOUND); amounts follow contract.row_amounts."""

    row_number: int
    product_code: str | None = None
    name: str
    quantity: Money
    unit_code: str
    unit_price: Money
    vat_percentage: Money
    net_amount: Money
    vat_amount: Money
    gross_amount: Money


class InvoiceAmounts(ApiModel):
    """CHOSEN shape: the sums of the rows."""

    net_amount: Money
    vat_amount: Money
    gross_amount: Money


class Invoice(ApiModel):
    header: InvoiceHeader
    references: InvoiceReferences | None = None
    parties: InvoiceParties
    rows: list[InvoiceRow]
    amounts: InvoiceAmounts


class SalesInvoiceRequest(ApiModel):
    processing: Processing
    distribution: DistributionSettings
    invoice: Invoice


class CreateInvoiceResponse(ApiModel):
    """CHOSEN 201 body."""

    message: str = ""
    invoice_number: int
    status: str = "RECEIVED"
    received_at: datetime | None = None


# --- invoice actions --------------------------------------------------------------------------------------
class ActionData(ApiModel):
    invoice_number: int
    case_id: int | None = None
    due_date: date | None = None
    payment_method: str | None = None
    amount: Money | None = None
    currency: str | None = None
    payment_date: date | None = None
    reference: str | None = None
    outstanding_capital_amount: Money | None = None
    outstanding_interest_amount: Money | None = None
    outstanding_costs_amount: Money | None = None


class InvoiceAction(ApiModel):
    code: str
    comment: str | None = None
    data: ActionData


class InvoiceActionsRequest(ApiModel):
    actions: list[InvoiceAction]


class QueuedResponse(ApiModel):
    """CHOSEN 202 body of invoice actions, ledger POST and accounting payment POST."""

    message: str = ""
    queued_count: int = 0


# --- case details -----------------------------------------------------------------------------------------
class CaseSummary(ApiModel):
    case_id: int
    status: str
    stage: str | None = None
    created_at: datetime
    closed_at: date | None = None
    active_days: int = 0
    creditor: str | None = None
    currency: str | None = None
    agency: str | None = None
    invoice_number: int | None = None  # CHOSEN extra
    due_date: date | None = None  # CHOSEN extra: the case due date (DUEDATE moves it)
    paused: bool | None = None  # CHOSEN extra: PAUSE sets it


class CaseBalance(ApiModel):
    capital_amount: Money = Decimal(0)
    interest_amount: Money = Decimal(0)
    costs_amount: Money = Decimal(0)
    total_amount: Money = Decimal(0)


class DirectPaymentRecord(ApiModel):
    """CHOSEN: a DIRECTPAYMENT action as the case shows it once taken into account."""

    payment_date: date | None = None
    amount: Money | None = None
    currency: str | None = None
    reference: str | None = None
    payment_method: str | None = None


class CaseDetails(ApiModel):
    summary: CaseSummary
    balance: CaseBalance
    direct_payments: list[DirectPaymentRecord] = Field(default_factory=list)  # CHOSEN extra


class CaseDetailsResponse(ApiModel):
    case: CaseDetails


# --- distribution -----------------------------------------------------------------------------------------
class DistributionFilters(ApiModel):
    invoice_number: int | None = None
    from_inv_date: str | None = None
    to_inv_date: str | None = None
    fetch_type: str | None = None
    default_last30_days: bool | None = Field(
        default=None,
        alias="defaultLast30Days",
        validation_alias=AliasChoices("defaultLast30Days", "defaultLast30Day"),
    )


class DistributionMetaData(ApiModel):
    total_count: int = 0
    successful_count: int = 0
    failed_count: int = 0
    filters_applied: DistributionFilters = Field(default_factory=DistributionFilters)


class DistributionRecord(ApiModel):
    """CHOSEN record shape (the record array is NOT FOUND in the docs)."""

    invoice_number: int
    invoice_date: date
    distribution_method: str
    distribution_status: str
    distributed_at: datetime | None = None
    payment_control_status: str | None = None
    case_id: int | None = None
    created_at: datetime


class DistributionResponse(ApiModel):
    meta_data: DistributionMetaData = Field(default_factory=DistributionMetaData)
    distributions: list[DistributionRecord] = Field(default_factory=list)


# --- payments and settlements -----------------------------------------------------------------------------
class PaymentRecord(ApiModel):
    case_id: int | None = None
    invoice_number: str | None = None  # a STRING here (SEEN)
    invoice_payment_reference: str | None = None
    original_payment_reference: str | None = None
    account_name: str | None = None
    booking_date: datetime | None = None
    payment_date: datetime | None = None
    amount: Money  # CHOSEN name
    currency: str | None = None  # CHOSEN


class PaymentsResponse(RootModel[list[PaymentRecord]]):
    """The payments endpoint answers a bare JSON array."""


class BreakdownItem(ApiModel):
    type: str
    amount: Money


class Beneficiary(ApiModel):
    name: str | None = None
    iban: str | None = None
    bic: str | None = None


class SettlementAllocation(ApiModel):
    allocation_id: int
    allocated_total_amount: Money
    allocation_date: date | None = None
    currency: str | None = None
    case_id: int | None = None
    original_invoice_number: str | None = None
    original_payment_reference: str | None = None
    # The newer docs call it `breakdown`, the older ones `events`: both land here.
    breakdown: list[BreakdownItem] = Field(
        default_factory=list, alias="breakdown", validation_alias=AliasChoices("breakdown", "events")
    )


class Settlement(ApiModel):
    settlement_id: int  # > int32
    settlement_date: date
    agency: str | None = None
    remittance_reference: str | None = None
    beneficiary: Beneficiary | None = None
    settlement_amount: Money
    currency: str | None = None
    api_fetch_date: datetime | None = None
    allocations: list[SettlementAllocation] = Field(default_factory=list)


class SettlementsResponse(ApiModel):
    created_at: datetime | None = None
    settlements: list[Settlement] = Field(default_factory=list)


# --- accounting -------------------------------------------------------------------------------------------
class LedgerDimension(ApiModel):
    dimension_type: str
    dimension_value: str


class LedgerRow(ApiModel):
    booking_date: date
    account_number: str
    vat_account_number: str | None = None
    vat_type: str | None = None
    vat_percentage: Money = Decimal(0)
    vat_code: str | None = None
    amount: Money
    net_amount: Money | None = None
    is_vat_row: int = 0
    project_number: str | None = None
    transaction_type: str | None = None
    transaction_description: str | None = None
    ledger_dimensions: list[LedgerDimension] = Field(default_factory=list)


class Ledger(ApiModel):
    ledger_identifier: str
    company_identifier: str | None = None
    document_type: str | None = None
    document_name: str | None = None
    document_date: date
    document_description: str | None = Field(default=None, max_length=210)
    calculation_mode: str | None = None
    ledger_rows: list[LedgerRow]


class LedgerRequest(ApiModel):
    ledgers: Ledger  # a single object despite the plural (SEEN)


class LedgerStatus(ApiModel):
    source_identifier: str
    document_date: date | None = None
    document_name: str | None = None
    document_status: str | None = None
    sync_date: date | None = None
    status: int
    description: str | None = None


class LedgerStatusResponse(ApiModel):
    ledgers: list[LedgerStatus] = Field(default_factory=list)


class AccountingPayment(ApiModel):
    payment_identifier: str
    invoice_number: str
    payment_date: date
    booking_date: date | None = None
    amount: Money
    currency: str | None = None
    target_identifier: str | None = None
    payment_reference: str | None = None
    source_name: str | None = None


class AccountingPaymentsRequest(ApiModel):
    payments: list[AccountingPayment]


class AccountingPaymentStatus(ApiModel):
    source_identifier: str
    invoice_number: str | None = None
    payment_date: date | None = None
    sync_date: date | None = None
    status: int
    description: str | None = None


class AccountingPaymentStatusResponse(ApiModel):
    payments: list[AccountingPaymentStatus] = Field(default_factory=list)


# --- operations -------------------------------------------------------------------------------------------
class FinvoiceCredential(ApiModel):
    e_invoice_address_name: str | None = None
    e_invoice_address: str
    e_invoice_address_type: str | None = None
    e_invoice_operator_id: str | None = None
    e_invoice_operator_name: str | None = None
    last_modified: datetime | None = None


class FinvoiceCredentialsResponse(RootModel[list[FinvoiceCredential]]):
    """Always an array (SEEN)."""


# --- errors -----------------------------------------------------------------------------------------------
class ErrorItem(ApiModel):
    field: str
    message: str


class ErrorBody(ApiModel):
    """CHOSEN error body of every 4xx/5xx answer."""

    message: str
    errors: list[ErrorItem] = Field(default_factory=list)
