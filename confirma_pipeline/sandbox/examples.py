"""Example request bodies in the contract's shapes (for tests, benchmarks and the demo)."""

from __future__ import annotations

import copy
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from confirma_pipeline.api.contract import row_amounts

# The create-client page's own example body, verbatim (shared/seed/confirma-docs-create-a-new-client.txt).
CREATE_CLIENT_EXAMPLE: dict[str, Any] = {
    "service": {"type": "LIFECYCLE", "partnerCode": "QUICK3"},
    "client": {
        "name": "Test Customer Oy",
        "businessCode": "123456-7",
        "vatRegNbr": "FI1234567",
        "postalAddress": "Testikuja 7",
        "postalCode": "12345",
        "postalDistrict": "HELSINKI",
        "countryCode": "FI",
        "telephone": "",
        "email": "email@testcustomer.fi",
        "website": "",
        "languageCode": "FI",
        "currencyCode": "EUR",
        "ibanAccount": "",
        "bic": "",
        "bankgiro": "",
        "plusgiro": "",
    },
    "contacts": {
        "primary": {
            "name": "Matti Meikäläinen",
            "telephone": "",
            "mobile": "+358441234567",
            "email": "matti@testcustomer.fi",
        },
        "technical": {"name": "", "email": ""},
        "accountant": {"name": "", "email": ""},
    },
}

_PRODUCTS = [("Consulting hour", "h", "95.00"), ("Widget", "kpl", "12.50"), ("Support plan", "kk", "49.90"),
             ("Cable 5 m", "kpl", "7.35"), ("Installation", "h", "68.00"), ("Licence", "kpl", "240.00")]  # fmt: skip
_VAT_RATES = [Decimal("25.5"), Decimal("14"), Decimal("10"), Decimal("0")]


def client_body(index: int = 0) -> dict[str, Any]:
    """The documented example with a distinct name and business code per index."""
    body = copy.deepcopy(CREATE_CLIENT_EXAMPLE)
    body["client"]["name"] = f"Test Customer {index} Oy"
    body["client"]["businessCode"] = f"{1000000 + index:07d}-{index % 10}"
    return body


def sample_invoice(
    number: int,
    *,
    rows: int = 8,
    invoice_date: date | None = None,
    payment_days: int = 14,
    payment_control: bool = True,
    method: str = "EMAIL",
    seed: int | None = None,
) -> dict[str, Any]:
    """A valid create-invoice body (the docs' example parties plus CHOSEN rows/amounts), about 2 KB at 8 rows."""
    rng = random.Random(number if seed is None else seed)
    invoice_date = invoice_date or date(2025, 12, 1)
    row_list = []
    totals = [Decimal(0), Decimal(0), Decimal(0)]
    for i in range(rows):
        name, unit, price = rng.choice(_PRODUCTS)
        quantity = Decimal(rng.randint(1, 12))
        vat_pct = rng.choice(_VAT_RATES)
        net, vat, gross = row_amounts(quantity, Decimal(price), vat_pct)
        totals = [totals[0] + net, totals[1] + vat, totals[2] + gross]
        row_list.append(
            {
                "rowNumber": i + 1,
                "productCode": f"P{rng.randint(100, 999)}",
                "name": name,
                "quantity": quantity,
                "unitCode": unit,
                "unitPrice": Decimal(price),
                "vatPercentage": vat_pct,
                "netAmount": net,
                "vatAmount": vat,
                "grossAmount": gross,
            }
        )
    return {
        "processing": {
            "paymentControlEnabled": payment_control,
            "manualApprovalEnabled": False,
            "accountingInvoiceEnabled": False,
        },  # fmt: skip
        "distribution": {"method": method, "enabled": True},
        "invoice": {
            "header": {
                "number": number,
                "type": "INVOICE",
                "date": invoice_date.isoformat(),
                "dueDate": (invoice_date + timedelta(days=payment_days)).isoformat(),
                "description": None,
                "additionalInformation": None,
                "currencyCode": "EUR",
                "languageCode": "FI",
            },
            "references": {
                "sales": "SF0001",
                "buyer": "BR0002",
                "agreement": "AN456",
                "payment": f"{number}",
                "orderNumber": "ON798",
                "orderDate": invoice_date.isoformat(),
                "electronicPaymentCode": None,
                "creditedInvoiceNumber": None,
                "invoiceCopyUrl": None,
            },  # fmt: skip
            "parties": {
                "sellerParty": {
                    "businessId": "0646115-8",
                    "name": "Test Company Ltd",
                    "vatCode": "FI1234567",
                    "address": {
                        "street": "Teirinkatu 6",
                        "postalCode": "65100",
                        "postalDistrict": "VAASA",
                        "countryCode": "FI",
                        "countryName": "FINLAND",
                    },
                    "contact": {
                        "contactPerson": {"name": "Teppo Testaaja", "email": "teppo.testaaja@cash-in.fi"},
                        "email": "it@cash-in.fi",
                        "phone": "+358501234567",
                    },
                    "paymentDetails": {
                        "iban": "FI12345678912345678",
                        "bic": "DABAFIHH",
                        "bankgiro": None,
                        "postgiro": None,
                    },
                },  # fmt: skip
                "buyerParty": {
                    "entityType": "BUSINESS",
                    "name": f"Buyer {number % 97} Oy",
                    "customerAccountId": "",
                    "personalIdentityNumber": None,
                    "businessId": "0646115-8",
                    "vatCode": "FI9876543",
                    "electronicInvoiceAccount": None,
                    "electronicRoutingAddress": None,
                    "glnNumber": None,
                    "languageCode": "FI",
                    "address": {
                        "street": "Kauppakatu 1",
                        "street2": None,
                        "street3": None,
                        "postalCode": "00100",
                        "postalDistrict": "HELSINKI",
                        "countryCode": "FI",
                    },
                    "contact": {
                        "contactPerson": {"name": "Matti Meikäläinen", "email": "matti@buyer.fi"},
                        "email": "invoices@buyer.fi",
                        "phone": "+358401234567",
                    },
                },  # fmt: skip
            },
            "rows": row_list,
            "amounts": {"netAmount": totals[0], "vatAmount": totals[1], "grossAmount": totals[2]},
        },
    }
