"""The accounting input contract (`confirma_source.ledger_vouchers`, `ledger_voucher_rows`,
`ledger_row_dimensions`, `accounting_payments`) and its readers.

Frames follow the project's dtype contract (see `validation.input_contract`): text as `str`, dates as
`datetime64[us]`, money as float64 read from unconstrained `numeric`, so a third decimal reaches
validation (and is rejected there) instead of being rounded away on load. Only items of the given
clients that are not already done (`accounting_submissions` says sent, in flight, or failed past
their attempt budget) are read, so a nightly run's cost follows new work, not history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import psycopg
from psycopg import sql

from confirma_pipeline.validation.input_contract import ColumnSpec
from confirma_pipeline.warehouse.source import copy_query_to_frame, relation_identifier, select_list

_S, _SN = ColumnSpec("str"), ColumnSpec("str", True)
_D, _DN = ColumnSpec("date"), ColumnSpec("date", True)
_FN = ColumnSpec("float64", True)

VOUCHERS_CONTRACT: dict[str, ColumnSpec] = {
    "creditor_id": _S,
    "ledger_identifier": _S,
    "company_identifier": _SN,
    "document_type": _SN,
    "document_name": _SN,
    "document_date": _DN,
    "document_description": _SN,
    "calculation_mode": _SN,
    "updated_at": ColumnSpec("timestamptz"),
}
VOUCHER_ROWS_CONTRACT: dict[str, ColumnSpec] = {
    "creditor_id": _S,
    "ledger_identifier": _S,
    "row_number": ColumnSpec("int64"),
    "booking_date": _DN,
    "account_number": _SN,
    "vat_account_number": _SN,
    "vat_type": _SN,
    "vat_percentage": _FN,
    "vat_code": _SN,
    "amount": _FN,
    "net_amount": _FN,
    "is_vat_row": ColumnSpec("Int64", True),
    "project_number": _SN,
    "transaction_type": _SN,
    "transaction_description": _SN,
}
DIMENSIONS_CONTRACT: dict[str, ColumnSpec] = {
    "creditor_id": _S,
    "ledger_identifier": _S,
    "row_number": ColumnSpec("int64"),
    "dimension_number": ColumnSpec("int64"),
    "dimension_type": _SN,
    "dimension_value": _SN,
}
PAYMENTS_CONTRACT: dict[str, ColumnSpec] = {
    "creditor_id": _S,
    "payment_identifier": _S,
    "invoice_number": _SN,
    "payment_date": _DN,
    "booking_date": _DN,
    "amount": _FN,
    "currency": _SN,
    "target_identifier": _SN,
    "payment_reference": _SN,
    "source_name": _SN,
    "updated_at": ColumnSpec("timestamptz"),
}


@dataclass(frozen=True)
class AccountingRelations:
    """The input relations; a user may point them at their own tables or views."""

    vouchers: str = "confirma_source.ledger_vouchers"
    voucher_rows: str = "confirma_source.ledger_voucher_rows"
    dimensions: str = "confirma_source.ledger_row_dimensions"
    payments: str = "confirma_source.accounting_payments"


@dataclass
class VoucherFrames:
    vouchers: pd.DataFrame
    rows: pd.DataFrame
    dimensions: pd.DataFrame


def _not_done(kind: str, key: str, max_attempts: int) -> sql.Composable:
    return sql.SQL(
        "NOT EXISTS (SELECT 1 FROM confirma.accounting_submissions s WHERE s.kind = {kind} "
        "AND s.creditor_id = x.creditor_id AND s.identifier = x.{key} "
        "AND (s.state IN ('submitted', 'in_flight') OR (s.state = 'failed' AND s.attempts >= {max})))"
    ).format(kind=sql.Literal(kind), key=sql.Identifier(key), max=sql.Literal(int(max_attempts)))


def _read(conn, relation: str, contract, where: sql.Composable, order: Sequence[str]) -> pd.DataFrame:
    query = sql.SQL("SELECT {cols} FROM {rel} AS x WHERE {where} ORDER BY {order}").format(
        cols=select_list("x", contract),
        rel=relation_identifier(relation),
        where=where,
        order=sql.SQL(", ").join(sql.Identifier("x", c) for c in order),
    )
    return copy_query_to_frame(conn, query, contract, what=relation)


def read_vouchers(
    conn: psycopg.Connection,
    relations: AccountingRelations,
    creditor_ids: Sequence[str],
    max_attempts: int,
) -> VoucherFrames:
    """Vouchers still to send for these clients, with their rows and row dimensions."""
    clients = sql.SQL("x.creditor_id = ANY({})").format(sql.Literal(list(creditor_ids)))
    todo = sql.SQL("{} AND {}").format(clients, _not_done("ledger", "ledger_identifier", max_attempts))
    vouchers = _read(conn, relations.vouchers, VOUCHERS_CONTRACT, todo, ["creditor_id", "ledger_identifier"])
    keys = sql.SQL(
        "(x.creditor_id, x.ledger_identifier) IN (SELECT * FROM unnest({}::text[], {}::text[]))"
    ).format(
        sql.Literal(vouchers["creditor_id"].tolist()), sql.Literal(vouchers["ledger_identifier"].tolist())
    )
    rows = _read(
        conn,
        relations.voucher_rows,
        VOUCHER_ROWS_CONTRACT,
        keys,
        ["creditor_id", "ledger_identifier", "row_number"],
    )
    dims = _read(
        conn,
        relations.dimensions,
        DIMENSIONS_CONTRACT,
        keys,
        ["creditor_id", "ledger_identifier", "row_number", "dimension_number"],
    )
    return VoucherFrames(vouchers, rows, dims)


def read_payments(
    conn: psycopg.Connection,
    relations: AccountingRelations,
    creditor_ids: Sequence[str],
    max_attempts: int,
) -> pd.DataFrame:
    """Accounting payments still to send for these clients."""
    clients = sql.SQL("x.creditor_id = ANY({})").format(sql.Literal(list(creditor_ids)))
    todo = sql.SQL("{} AND {}").format(clients, _not_done("payment", "payment_identifier", max_attempts))
    return _read(conn, relations.payments, PAYMENTS_CONTRACT, todo, ["creditor_id", "payment_identifier"])
