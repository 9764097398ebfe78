"""pandera models of the input contract and of the pulled tables (validation/pulled.py), Finnish identifier checks, and
validation with a human reason per rejected row. Knows nothing of Dagster.

Typical use:

    from confirma_pipeline.validation import CreditorModel, validate_with_reasons, validate_invoices
    outcome = validate_with_reasons(CreditorModel, creditors, ["creditor_id"], entity="creditor")
    valid_invoices, valid_rows, rejected = validate_invoices(invoices, rows)
"""

from confirma_pipeline.validation.creditors import CreditorModel
from confirma_pipeline.validation.invoices import InvoiceModel, InvoiceRowModel, row_sums_equal_invoice_totals
from confirma_pipeline.validation.reasons import (
    InvoiceValidation,
    ValidationOutcome,
    validate_invoices,
    validate_with_reasons,
)
from confirma_pipeline.validation.schema import column_checks, column_schema, table_keys

__all__ = [
    "CreditorModel",
    "InvoiceModel",
    "InvoiceRowModel",
    "InvoiceValidation",
    "ValidationOutcome",
    "column_checks",
    "column_schema",
    "row_sums_equal_invoice_totals",
    "table_keys",
    "validate_invoices",
    "validate_with_reasons",
]
