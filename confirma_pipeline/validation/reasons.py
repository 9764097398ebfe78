"""Validation with a reason per rejected row: which checks a row failed and one sentence a person can act on.

`validate_with_reasons(model, df, key_columns)` runs `model.validate(df, lazy=True)` (so every failure is
collected, not only the first) and turns pandera's `SchemaErrors.failure_cases` into one rejected row per
offending input row, listing ALL of that row's failures, e.g.

    business_code '1234567-8' fails business_id_check_digit for country_code 'FI';
    postal_code '123' fails postal_code_matches_country for country_code 'FI'

Kinds of failure handled:
- column checks (`@pa.check`, `Field(ge=...)`): "<column> <value> fails <check>";
- nulls in non-nullable columns: "<column> is null (fails not_null)";
- duplicate keys (`Field(unique=True)`, `Config.unique`): "... is duplicated (fails <key>_unique...)";
- row checks (dataframe-level, several columns; see `_checks.row_check`): the judged columns' values, the
  context columns' values, and for some checks the expected values;
- NULLs and dtypes a user's relation produces (`conform.conform`): a NULL where the contract forbids one
  rejects that row only ("<column> is null (fails not_null)"); nullable dtypes are read as the contract's;
- failures of the whole relation (a missing or unexpected column, values that cannot be read as the column's
  dtype, a check that could not be evaluated) raise `conform.RelationError`: one line naming the column,
  never a per-row reason, so a run stops instead of quarantining every good row.

`validate_invoices(invoices, rows)` adds what no single frame can decide: an invoice is rejected when any of
its rows fails (the reason names the row number and its checks), when it has no rows, or when its totals differ
from the sums of its rows; the rows of rejected invoices are dropped. Whether the invoice's creditor is known
and onboarded is the caller's business, not this module's.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
import pandera.pandas as pa

from confirma_pipeline.api.contract import row_amounts
from confirma_pipeline.validation import identifiers as ids
from confirma_pipeline.validation._checks import MAX_LENGTH_CHECK
from confirma_pipeline.validation.conform import NOT_NULL_CHECK, RelationError, conform, null_columns
from confirma_pipeline.validation.creditors import CREDITOR_MAX_LENGTHS
from confirma_pipeline.validation.invoices import (
    HAS_ROWS_CHECK,
    INVOICE_AMOUNTS,
    INVOICE_MAX_LENGTHS,
    INVOICE_ROW_MAX_LENGTHS,
    ROW_HAS_INVOICE_CHECK,
    ROW_SIGN_CHECK,
    ROW_SUMS_CHECK,
    SIGNED_ROW_COLUMNS,
    InvoiceModel,
    InvoiceRowModel,
    negative_rows,
    row_sums,
)
from confirma_pipeline.validation.row_hashes import invoice_content_hashes, row_hashes

#: model name -> column -> CHOSEN maximum length (for the reason's "more than N")
MAX_LENGTHS = {
    "creditor": CREDITOR_MAX_LENGTHS,
    "invoice": INVOICE_MAX_LENGTHS,
    "invoice_row": INVOICE_ROW_MAX_LENGTHS,
}
REJECTED_COLUMNS = ("entity", "entity_key", "checks", "reason")


@dataclass
class ValidationOutcome:
    """`valid_df`: the rows that passed (original index kept). `rejected_df`: one row per rejected input row
    with columns `entity`, `entity_key` (key values joined by '/'), the key columns, `creditor_id` (when the
    frame has one), `content_hash` (`validation.row_hashes.row_hashes` of the input row), `checks` (list of check
    names) and `reason` (one sentence listing every failure): the columns of `confirma.rejected_rows`.
    `failure_cases`: number of (row, check) failures."""

    valid_df: pd.DataFrame
    rejected_df: pd.DataFrame
    failure_cases: int = 0

    @property
    def check_counts(self) -> dict[str, int]:
        """How many rejected rows failed each check (for asset-check metadata)."""
        counts: Counter[str] = Counter()
        for checks in self.rejected_df["checks"]:
            counts.update(checks)
        return dict(counts)


@dataclass
class InvoiceValidation:
    """Result of `validate_invoices`. `rejected_df` has `entity` ('invoice', or 'invoice_row' for rows whose
    invoice is not in the frame), `entity_key`, `invoice_id`, `creditor_id`, `content_hash` (over the header
    and all rows of the invoice), `checks`, `reason`."""

    valid_invoices: pd.DataFrame
    valid_rows: pd.DataFrame
    rejected_df: pd.DataFrame
    failure_cases: int = 0

    def __iter__(self):  # allows `valid_invoices, valid_rows, rejected = validate_invoices(...)`
        return iter((self.valid_invoices, self.valid_rows, self.rejected_df))

    @property
    def check_counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for checks in self.rejected_df["checks"]:
            counts.update(checks)
        return dict(counts)


# --- formatting -----------------------------------------------------------------------------------------


def format_value(value) -> str:
    """A value as it should read in a reason: strings quoted, null as `null`, dates as YYYY-MM-DD."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "null"
    if isinstance(value, float | np.floating):
        return "null" if math.isnan(value) else repr(float(value))
    if isinstance(value, pd.Timestamp | np.datetime64):
        ts = pd.Timestamp(value)
        if ts.tz is None and ts == ts.normalize():
            return ts.date().isoformat()
        return ts.isoformat()
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, np.integer | int):
        return str(int(value))
    text = str(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return "'" + text.replace("'", "\\'") + "'"


def _column_values(work: pd.DataFrame, columns: Sequence[str], positions: np.ndarray) -> dict[str, list]:
    """Values of `columns` at `positions` (one take per column, not one lookup per cell)."""
    return {c: work[c].iloc[positions].tolist() for c in columns if c in work.columns}


def _pairs(values: dict[str, list], columns: Sequence[str], i: int) -> str:
    return ", ".join(f"{c} {format_value(values[c][i])}" for c in columns if c in values)


def _explain_row_amounts(values: dict[str, list], i: int) -> str:
    try:
        q, p, v = (Decimal(repr(float(values[c][i]))) for c in ("quantity", "unit_price", "vat_percentage"))
        d = values.get("discount_percentage", [None] * (i + 1))[i]
        discount = None if d is None or pd.isna(d) else Decimal(repr(float(d)))
        net, vat, gross = row_amounts(q, p, v, discount)
    except Exception:
        return ""
    return f" (expected net {net}, vat {vat}, gross {gross})"


#: Row checks whose reason gains the expected values: check name -> (columns it needs, explainer).
EXPLAINERS = {
    "row_amounts_match_quantity_price_vat": (
        ("quantity", "unit_price", "vat_percentage", "discount_percentage"),
        _explain_row_amounts,
    ),
}


def _check_label(check: pa.Check) -> str:
    """The check's name; for built-ins with an argument (`ge=0`) the name with it, e.g. greater_than(0)."""
    name = check.name or "check"
    error = check.error or ""
    if error.startswith(name + "(") and len(error) < 60:
        return error
    return name


def _unique_name(columns: Sequence[str]) -> str:
    cols = list(columns)
    if len(cols) == 1:
        return f"{cols[0]}_unique"
    return f"{cols[-1]}_unique_per_{'_'.join(cols[:-1])}"


# --- failure cases -> (position, check, fragment) ---------------------------------------------------------


def _failures(schema: pa.DataFrameSchema, work: pd.DataFrame, fc: pd.DataFrame) -> list[tuple[int, str, str]]:
    out: list[tuple[int, str, str]] = []
    fc = fc.assign(
        _pos=pd.to_numeric(fc["index"], errors="coerce"),
        _cn=pd.to_numeric(fc["check_number"], errors="coerce"),
    )
    is_column = (fc["schema_context"] == "Column").to_numpy()
    out.extend(_column_failures(schema, work, fc[is_column]))
    out.extend(_frame_failures(schema, work, fc[~is_column]))
    return out


def _positions(group: pd.DataFrame) -> np.ndarray:
    return group["_pos"].dropna().astype(np.int64).unique()


def _column_failures(
    schema: pa.DataFrameSchema, work: pd.DataFrame, fc: pd.DataFrame
) -> list[tuple[int, str, str]]:
    out: list[tuple[int, str, str]] = []
    for (column, check, cn), group in fc.groupby(["column", "check", "_cn"], dropna=False, sort=False):
        column, check = str(column), str(check)
        positions = _positions(group)
        has_rows = len(positions) > 0 and group["_pos"].notna().all()
        if check.startswith("dtype("):
            actual = str(work[column].dtype) if column in work.columns else "missing"
            expected = check[len("dtype(") : -1].strip("'")
            raise RelationError(schema.name or "input", column, f"has dtype {actual}, expected {expected}")
        if not has_rows:
            detail = str(group["failure_case"].iloc[0])[:120]
            raise RelationError(schema.name or "input", column, f"fails {check} ({detail})")
        if check == "not_nullable":
            out.extend((int(p), NOT_NULL_CHECK, f"{column} is null (fails not_null)") for p in positions)
            continue
        values = work[column].iloc[positions].tolist()
        if check == "field_uniqueness":
            name = _unique_name([column])
            out.extend(
                (int(p), name, f"{column} {format_value(v)} is duplicated (fails {name})")
                for p, v in zip(positions, values, strict=True)
            )
            continue
        label = check
        if not pd.isna(cn) and column in schema.columns and int(cn) < len(schema.columns[column].checks):
            label = _check_label(schema.columns[column].checks[int(cn)])
        if label == MAX_LENGTH_CHECK:
            limit = MAX_LENGTHS.get(schema.name, {}).get(column)
            out.extend(
                (int(p), label, f"{column} has {len(str(v))} characters, more than {limit} (fails {label})")
                for p, v in zip(positions, values, strict=True)
            )
            continue
        out.extend(
            (int(p), label, f"{column} {format_value(v)} fails {label}")
            for p, v in zip(positions, values, strict=True)
        )
    return out


def _frame_failures(
    schema: pa.DataFrameSchema, work: pd.DataFrame, fc: pd.DataFrame
) -> list[tuple[int, str, str]]:
    """Dataframe-level failures: pandera reports a failing row once per column; judged once per row here."""
    out: list[tuple[int, str, str]] = []
    for (check, cn), group in fc.groupby(["check", "_cn"], dropna=False, sort=False):
        check = str(check)
        positions = _positions(group)
        has_rows = len(positions) > 0 and group["_pos"].notna().all()
        if check == "multiple_fields_uniqueness" and has_rows:
            cols = list(schema.unique or [])
            name = _unique_name(cols)
            values = _column_values(work, cols, positions)
            out.extend(
                (int(p), name, f"({_pairs(values, cols, i)}) is duplicated (fails {name})")
                for i, p in enumerate(positions)
            )
            continue
        if not pd.isna(cn) and has_rows and int(cn) < len(schema.checks):
            chk = schema.checks[int(cn)]
            name = chk.name or check
            stats = chk.statistics or {}
            subjects = list(stats.get("columns", ()))
            context = list(stats.get("context", ()))
            extra, explain = EXPLAINERS.get(name, ((), None))
            values = _column_values(work, [*subjects, *context, *extra], positions)
            verb = "fails" if len(subjects) <= 1 else "fail"
            for i, p in enumerate(positions):
                text = f"{_pairs(values, subjects, i)} {verb} {name}" if subjects else f"row fails {name}"
                if context:
                    text += f" for {_pairs(values, context, i)}"
                if explain is not None:
                    text += explain(values, i)
                out.append((int(p), name, text))
            continue
        entity = schema.name or "input"
        if check == "column_in_schema":
            raise RelationError(entity, str(group["failure_case"].iloc[0]), "is not in the input contract")
        if check == "column_in_dataframe":
            raise RelationError(entity, str(group["failure_case"].iloc[0]), "is missing")
        chk = schema.checks[int(cn)] if not pd.isna(cn) and int(cn) < len(schema.checks) else None
        name = (chk.name if chk is not None else None) or check
        columns = ", ".join((chk.statistics or {}).get("columns", ())) if chk is not None else ""
        detail = str(group["failure_case"].iloc[0])[:120]
        raise RelationError(entity, columns or "?", f": {name} could not be evaluated ({detail})")
    return out


def _group_by_position(failures: list[tuple[int, str, str]]) -> dict[int, tuple[list[str], list[str]]]:
    """position -> (checks, fragments), in first-seen order; each row's own failures only."""
    per_row: dict[int, tuple[list[str], list[str]]] = {}
    for pos, check, frag in failures:
        checks, frags = per_row.setdefault(pos, ([], []))
        if check not in checks:
            checks.append(check)
        if frag not in frags:
            frags.append(frag)
    return per_row


def _entity_key(frame: pd.DataFrame, key_columns: Sequence[str]) -> pd.Series:
    parts = [frame[c].astype(object).where(frame[c].notna(), "").astype("str") for c in key_columns]
    if not parts:
        return pd.Series([""] * len(frame), index=frame.index, dtype="str")
    key = parts[0]
    for part in parts[1:]:
        key = key + "/" + part
    return key


def _empty_rejected(
    key_columns: Sequence[str], work: pd.DataFrame | None = None, entity: str = ""
) -> pd.DataFrame:  # noqa: ARG001
    data: dict[str, object] = {"entity": pd.Series([], dtype="str"), "entity_key": pd.Series([], dtype="str")}
    for c in key_columns:
        data[c] = pd.Series([], dtype=work[c].dtype if work is not None and c in work.columns else "str")
    if work is not None and "creditor_id" in work.columns and "creditor_id" not in key_columns:
        data["creditor_id"] = pd.Series([], dtype="str")
    data["content_hash"] = pd.Series([], dtype="str")
    data["checks"] = pd.Series([], dtype=object)
    data["reason"] = pd.Series([], dtype="str")
    return pd.DataFrame(data)


def _collect(
    model: type[pa.DataFrameModel] | pa.DataFrameSchema,
    df: pd.DataFrame,
    key_columns: Sequence[str],
    entity: str | None,
) -> tuple[np.ndarray, pd.DataFrame, int, pd.DataFrame]:
    """(rejected mask by position, rejected frame, number of failures, the input with the contract's dtypes
    and `df`'s index) without building the valid frame."""
    schema = model if isinstance(model, pa.DataFrameSchema) else model.to_schema()
    entity = entity or schema.name or "row"
    key_columns = list(key_columns)
    work = df if isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1 else None
    if work is None:
        work = df.reset_index(drop=True)
    extra = [c for c in work.columns if c not in schema.columns]
    if extra and schema.strict:
        raise RelationError(entity, str(extra[0]), "is not in the input contract")
    original = work
    work, null_rows = conform(schema, work, entity)
    failures: list[tuple[int, str, str]] = []
    checked, kept = work, None
    if null_rows.any():
        null_pos = np.flatnonzero(null_rows)
        for p, cols in zip(null_pos, null_columns(schema, original, null_pos), strict=True):
            failures.extend((int(p), NOT_NULL_CHECK, f"{c} is null (fails {NOT_NULL_CHECK})") for c in cols)
        kept = np.flatnonzero(~null_rows)
        checked = work.iloc[kept].reset_index(drop=True)
    try:
        schema.validate(checked, lazy=True)
    except pa.errors.SchemaErrors as exc:
        own = _failures(schema, checked, exc.failure_cases)
        failures.extend(own if kept is None else [(int(kept[p]), c, f) for p, c, f in own])
    conformed = work if work is df else work.set_axis(df.index)
    if not failures:
        return np.zeros(len(work), dtype=bool), _empty_rejected(key_columns, work, entity), 0, conformed
    per_row = _group_by_position(failures)
    positions = np.array(sorted(per_row), dtype=np.intp)
    rejected_mask = np.zeros(len(work), dtype=bool)
    rejected_mask[positions] = True

    # keys as the input gave them (a NULL key stays null, not the placeholder `conform` put in its place)
    rejected = original.iloc[positions][[c for c in key_columns if c in work.columns]].reset_index(drop=True)
    for c in key_columns:
        if c not in rejected.columns:
            rejected[c] = pd.Series([pd.NA] * len(rejected), dtype="str")
    rejected.insert(0, "entity_key", _entity_key(rejected, key_columns))
    rejected.insert(0, "entity", pd.Series([entity] * len(rejected), dtype="str"))
    if "creditor_id" in work.columns and "creditor_id" not in key_columns:
        rejected["creditor_id"] = work["creditor_id"].iloc[positions].to_numpy()
    rejected["content_hash"] = row_hashes(work.iloc[positions]).to_numpy()
    rejected["checks"] = pd.Series([per_row[p][0] for p in positions], dtype=object)
    rejected["reason"] = pd.Series(["; ".join(per_row[p][1]) for p in positions], dtype="str")
    return rejected_mask, rejected, len(failures), conformed


def validate_with_reasons(
    model: type[pa.DataFrameModel] | pa.DataFrameSchema,
    df: pd.DataFrame,
    key_columns: Sequence[str],
    *,
    entity: str | None = None,
) -> ValidationOutcome:
    """Validate `df` against `model` collecting every failure; split it into valid rows and rejected rows with
    reasons (see the module docstring). `entity` labels the rejected rows (default: the schema's name)."""
    mask, rejected, n_failures, conformed = _collect(model, df, key_columns, entity)
    valid = conformed[~mask] if mask.any() else conformed
    return ValidationOutcome(valid_df=valid, rejected_df=rejected, failure_cases=n_failures)


# --- invoices + rows -------------------------------------------------------------------------------------


def _money(x: float) -> str:
    return f"{x:.2f}"


def validate_invoices(
    invoices: pd.DataFrame,
    rows: pd.DataFrame,
    *,
    invoice_model: type[pa.DataFrameModel] = InvoiceModel,
    row_model: type[pa.DataFrameModel] = InvoiceRowModel,
) -> InvoiceValidation:
    """Validate invoices and their rows together. An invoice is rejected when it fails a check itself, when
    any of its rows fails one ("row 3: ..."), when it has no rows, or when its totals differ from the sums of its
    rows. Valid rows of rejected invoices are dropped. Rows whose invoice is absent from `invoices` are rejected
    as `invoice_row` entities."""
    _, inv_rejected_df, inv_failures, invoices = _collect(invoice_model, invoices, ["invoice_id"], "invoice")
    _, row_rejected_df, row_failures, rows = _collect(
        row_model, rows, ["invoice_id", "row_number"], "invoice_row"
    )
    failure_cases = inv_failures + row_failures

    # invoice_id -> (checks, fragments)
    per_invoice: dict[str, tuple[list[str], list[str]]] = {}

    def add(invoice_id, checks: Sequence[str], fragment: str) -> None:
        entry = per_invoice.setdefault(invoice_id, ([], []))
        entry[0].extend(c for c in checks if c not in entry[0])
        entry[1].append(fragment)

    for invoice_id, checks, reason in inv_rejected_df[["invoice_id", "checks", "reason"]].itertuples(
        index=False, name=None
    ):
        add(invoice_id, checks, reason)

    has_ids = "invoice_id" in invoices.columns and "invoice_id" in rows.columns
    orphans: list[tuple[object, object, list[str], str]] = []
    orphan_mask = np.zeros(len(rows), dtype=bool)
    if len(row_rejected_df):
        rr = row_rejected_df
        known = (
            ids.arrow_isin(rr["invoice_id"], invoices["invoice_id"]) if has_ids else np.zeros(len(rr), bool)
        )
        for (invoice_id, row_number, checks, reason), ok in zip(
            rr[["invoice_id", "row_number", "checks", "reason"]].itertuples(index=False, name=None),
            known,
            strict=True,
        ):
            if ok:
                add(invoice_id, checks, f"row {format_value(row_number)}: {reason}")

    # signs: a negative row only on a document type that allows one (the rows frame has no type of its own)
    if has_ids and "invoice_type" in invoices.columns and len(rows):
        positions, types = negative_rows(invoices, rows)
        if len(positions):
            sub = rows.iloc[positions]
            values = {c: sub[c].tolist() for c in SIGNED_ROW_COLUMNS}
            for i, (invoice_id, row_number) in enumerate(
                sub[["invoice_id", "row_number"]].itertuples(index=False, name=None)
            ):
                negatives = ", ".join(
                    f"{c} {format_value(values[c][i])}" for c in SIGNED_ROW_COLUMNS if values[c][i] < 0
                )
                add(
                    invoice_id,
                    [ROW_SIGN_CHECK],
                    f"row {format_value(row_number)}: {negatives} negative on invoice_type "
                    f"{format_value(types[i])} (fails {ROW_SIGN_CHECK})",
                )
            failure_cases += len(positions)

    if has_ids and len(rows):
        orphan_mask = ~ids.arrow_isin(rows["invoice_id"], invoices["invoice_id"])
        if orphan_mask.any():
            for invoice_id, row_number in rows.loc[orphan_mask, ["invoice_id", "row_number"]].itertuples(
                index=False, name=None
            ):
                orphans.append(
                    (
                        invoice_id,
                        row_number,
                        [ROW_HAS_INVOICE_CHECK],
                        f"invoice_id {format_value(invoice_id)} of row {format_value(row_number)} is not an "
                        f"invoice in this batch (fails {ROW_HAS_INVOICE_CHECK})",
                    )
                )
            failure_cases += len(orphans)

    # totals vs rows (only meaningful when both frames have the contract columns)
    needed_inv = {"invoice_id", *INVOICE_AMOUNTS}
    if needed_inv <= set(invoices.columns) and needed_inv <= set(rows.columns) and len(invoices):
        sums = row_sums(invoices, rows)
        bad = ~sums[ROW_SUMS_CHECK].to_numpy()
        if bad.any():
            ids_arr = invoices["invoice_id"].to_numpy()
            counts = sums["row_count"].to_numpy()
            totals = {c: invoices[c].to_numpy(dtype=float) for c in INVOICE_AMOUNTS}
            row_totals = {c: sums[f"rows_{c}"].to_numpy() for c in INVOICE_AMOUNTS}
            for pos in np.flatnonzero(bad):
                invoice_id = ids_arr[pos]
                failure_cases += 1
                if counts[pos] == 0:
                    add(invoice_id, [HAS_ROWS_CHECK], f"invoice has no rows (fails {HAS_ROWS_CHECK})")
                    continue
                diffs = [
                    f"{c} {_money(totals[c][pos])} vs rows {_money(row_totals[c][pos])}"
                    for c in INVOICE_AMOUNTS
                    if not abs(totals[c][pos] - row_totals[c][pos]) <= 0.005 + 1e-9
                ]
                add(invoice_id, [ROW_SUMS_CHECK], f"{', '.join(diffs)} (fails {ROW_SUMS_CHECK})")

    rejected_ids = pd.Series(list(per_invoice), dtype="str")
    if per_invoice and len(invoices):
        inv_rejected = ids.arrow_isin(invoices["invoice_id"], rejected_ids)
        valid_invoices = invoices[~inv_rejected]
    else:
        valid_invoices = invoices
    if len(rows) and (per_invoice or orphans):
        valid_rows = rows[ids.arrow_isin(rows["invoice_id"], valid_invoices["invoice_id"])]
    else:
        valid_rows = rows

    creditor_of = (
        dict(zip(invoices["invoice_id"].tolist(), invoices["creditor_id"].tolist(), strict=True))
        if {"invoice_id", "creditor_id"} <= set(invoices.columns)
        else {}
    )
    # content hashes: an invoice's covers its header and all its rows ("changed since rejected")
    hash_of: dict[object, str] = {}
    if per_invoice and len(invoices):
        sub_rows = rows[ids.arrow_isin(rows["invoice_id"], rejected_ids)] if len(rows) else rows
        sub_inv = invoices[inv_rejected]
        for invoice_id, digest in zip(
            sub_inv["invoice_id"].tolist(), invoice_content_hashes(sub_inv, sub_rows).tolist(), strict=True
        ):
            hash_of.setdefault(invoice_id, digest)
    orphan_hashes = row_hashes(rows[orphan_mask]).tolist() if orphans else []

    records = [
        ("invoice", str(invoice_id), invoice_id, creditor_of.get(invoice_id), hash_of.get(invoice_id, ""), checks,
         "; ".join(frags))
        for invoice_id, (checks, frags) in per_invoice.items()
    ]  # fmt: skip
    records += [
        ("invoice_row", f"{invoice_id}/{format_value(row_number)}", invoice_id, None, digest, checks, reason)
        for (invoice_id, row_number, checks, reason), digest in zip(orphans, orphan_hashes, strict=True)
    ]
    rejected = pd.DataFrame.from_records(
        records,
        columns=["entity", "entity_key", "invoice_id", "creditor_id", "content_hash", "checks", "reason"],
    )
    for c in ("entity", "entity_key", "invoice_id", "creditor_id", "content_hash", "reason"):
        rejected[c] = rejected[c].astype("str")
    rejected["checks"] = rejected["checks"].astype(object)
    return InvoiceValidation(
        valid_invoices=valid_invoices,
        valid_rows=valid_rows,
        rejected_df=rejected,
        failure_cases=failure_cases,
    )
