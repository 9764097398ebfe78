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

Only the failing rows are explained, a column at a time: `reason_texts` builds each failed check's fragments
in one Arrow concatenation and joins each row's fragments in one list join (the texts are `format_value`'s).

`validate_invoices(invoices, rows)` adds what no single frame can decide: an invoice is rejected when any of
its rows fails (the reason names the row number and its checks), when it has no rows, or when its totals differ
from the sums of its rows; the rows of rejected invoices are dropped. Whether the invoice's creditor is known
and onboarded is the caller's business, not this module's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_
import pyarrow.compute as pc

from confirma_pipeline.api.contract import row_amounts
from confirma_pipeline.validation import identifiers as ids
from confirma_pipeline.validation import reason_texts as rt
from confirma_pipeline.validation._checks import MAX_LENGTH_CHECK
from confirma_pipeline.validation.check_masks import (
    COLUMN_CHECK,
    DUPLICATE,
    DUPLICATE_KEY,
    NULL,
    ROW_CHECK,
    DtypeMismatch,
    Failed,
    Unsupported,
    failed_checks,
)
from confirma_pipeline.validation.conform import NOT_NULL_CHECK, RelationError, conform, null_columns
from confirma_pipeline.validation.creditors import CREDITOR_MAX_LENGTHS
from confirma_pipeline.validation.input_contract import STR_DTYPE
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
from confirma_pipeline.validation.reason_texts import format_value
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
    frame has one), `content_hash` (`validation.row_hashes.row_hashes` of the input row; '' when not asked
    for), `checks` (list of check
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


def _explain_one(quantity, unit_price, vat_percentage, discount) -> str:
    """The expected amounts of one row by `contract.row_amounts` itself (Decimal of each float's repr)."""
    try:
        q, p, v = (Decimal(repr(float(x))) for x in (quantity, unit_price, vat_percentage))
        d = None if discount is None or pd.isna(discount) else Decimal(repr(float(discount)))
        net, vat, gross = row_amounts(q, p, v, d)
    except Exception:
        return ""
    return f" (expected net {net}, vat {vat}, gross {gross})"


def _round_half_up_cents(cents: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cents rounded half away from zero, settled): settled where `cents` is farther from a half cent than
    its float error could be (1e-12 of `scale`, a thousand times the few ulps of the computation)."""
    magnitude = np.abs(cents)
    floor = np.floor(magnitude)
    settled = np.abs(magnitude - floor - 0.5) > 1e-12 * scale + 1e-9
    rounded = np.where(magnitude - floor >= 0.5, floor + 1, floor)
    return np.copysign(rounded, cents), settled


def _ten_thousandths(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x * 10^4 as int64, exact): exact where x's repr has at most four decimals (below 1e9 a float has
    at most one such decimal in its rounding interval, so that decimal IS its repr)."""
    with np.errstate(all="ignore"):
        scaled = np.rint(x * 1e4)
        exact = np.isfinite(x) & (np.abs(x) < 1e9) & (scaled / 1e4 == x)
    return np.where(exact, scaled, 0).astype(np.int64), exact


def _half_up_millionths(numerator: np.ndarray) -> np.ndarray:
    """round(numerator / 10^6) half away from zero, in int64."""
    whole, rest = np.divmod(np.abs(numerator), 10**6)
    return np.sign(numerator) * (whole + (2 * rest >= 10**6))


def _explain_row_amounts(work: pd.DataFrame, positions: np.ndarray) -> pa_.Array:
    """ " (expected net N, vat V, gross G)" per row, exactly as `contract.row_amounts` (ROUND_HALF_UP on the
    Decimal of each float's repr) gives them, without a Decimal per row where that provably gives the same:
    in floats where the value is farther from a half cent than the float error; at a (near) half cent, in
    integers when the inputs have at most four decimals (quantity 9.5 x price 453.81 is a true tie). The
    rest (non-finite or huge values, a discount at a tie, a zero result: Decimal prints a signed zero) go
    through `row_amounts` one by one."""
    needed = ["quantity", "unit_price", "vat_percentage", "discount_percentage"]
    sub = work[[c for c in needed if c in work.columns]].iloc[positions]
    q, p, v = (sub[c].to_numpy(dtype=float) for c in ("quantity", "unit_price", "vat_percentage"))
    has_d = "discount_percentage" in sub.columns
    d = sub["discount_percentage"].to_numpy(dtype=float) if has_d else np.full(len(sub), np.nan)
    no_discount = np.isnan(d)
    (q4, q_exact), (p4, p_exact), (v4, v_exact) = (_ten_thousandths(x) for x in (q, p, v))
    with np.errstate(all="ignore"):
        share = np.where(no_discount, 1.0, 1 - np.nan_to_num(d) / 100)
        product = q * p
        net, net_ok = _round_half_up_cents(
            product * share * 100, np.abs(product) * 100 * np.maximum(1, np.abs(share))
        )
        tie = np.flatnonzero(~net_ok & no_discount & q_exact & p_exact & (np.abs(product) < 9e10))
        net[tie] = _half_up_millionths(q4[tie] * p4[tie])
        net_ok[tie] = True
        vat, vat_ok = _round_half_up_cents(net * v / 100, np.abs(net * v) / 100)
        tie = np.flatnonzero(~vat_ok & net_ok & v_exact & (np.abs(net * v) < 9e14))
        vat[tie] = _half_up_millionths(net[tie].astype(np.int64) * v4[tie])
        vat_ok[tie] = True
        bounded = (np.abs(q) < 1e9) & (np.abs(p) < 1e9) & (np.abs(v) < 1e9) & (np.abs(product) < 1e9)
        bounded &= no_discount | (np.abs(d) < 1e9)
        positive_zero_vat = (vat == 0) & (net > 0) & ~np.signbit(v)
        fast = bounded & net_ok & vat_ok & (net != 0) & ((vat != 0) | positive_zero_vat) & (net + vat != 0)
    not_a_number = np.isnan(q) | np.isnan(p)
    out = pa_.repeat(rt.lit(" (expected net NaN, vat NaN, gross NaN)"), len(sub)).cast(rt.TEXT)
    at = np.flatnonzero(fast)
    if len(at):
        net_c, vat_c = net[at].astype(np.int64), vat[at].astype(np.int64)
        money = [rt.money_texts(net_c), rt.money_texts(vat_c), rt.money_texts(net_c + vat_c)]
        texts = rt.concat(
            [" (expected net ", money[0], ", vat ", money[1], ", gross ", money[2], ")"], len(at)
        )
        out = pc.replace_with_mask(out, pa_.array(fast), texts)
    slow = ~fast & ~not_a_number
    if slow.any():
        d_values = sub["discount_percentage"].tolist() if has_d else [None] * len(sub)
        texts = rt.texts([_explain_one(q[i], p[i], v[i], d_values[i]) for i in np.flatnonzero(slow).tolist()])
        out = pc.replace_with_mask(out, pa_.array(slow), texts)
    return out


#: Row checks whose reason gains the expected values: check name -> explainer (frame, positions) -> texts.
EXPLAINERS = {"row_amounts_match_quantity_price_vat": _explain_row_amounts}


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


# --- failed checks -> (check name, one fragment per failing row) ------------------------------------------


def _fragments(schema: pa.DataFrameSchema, work: pd.DataFrame, failed: Failed) -> tuple[str, pa_.Array]:
    """The check name a rejected row lists, and the reason fragment of each of `failed.positions` (one
    element-wise concatenation per check, see `reason_texts`)."""
    positions, column = failed.positions, failed.column
    n = len(positions)
    if failed.kind == NULL:
        return NOT_NULL_CHECK, rt.concat([f"{column} is null (fails {NOT_NULL_CHECK})"], n)
    if failed.kind == DUPLICATE:
        name = _unique_name([column])
        values = rt.value_texts(work[column].iloc[positions])
        return name, rt.concat([f"{column} ", values, f" is duplicated (fails {name})"], n)
    if failed.kind == COLUMN_CHECK:
        label = failed.name or _check_label(schema.columns[column].checks[failed.number])
        if label == MAX_LENGTH_CHECK:
            limit = MAX_LENGTHS.get(schema.name, {}).get(column)
            lengths = pc.cast(pc.utf8_length(rt.arrow_text(work[column].iloc[positions])), rt.TEXT)
            return label, rt.concat(
                [f"{column} has ", lengths, f" characters, more than {limit} (fails {label})"], n
            )
        values = rt.value_texts(work[column].iloc[positions])
        return label, rt.concat([f"{column} ", values, f" fails {label}"], n)
    if failed.kind == DUPLICATE_KEY:
        cols = list(failed.columns)
        name = _unique_name(cols)
        return name, rt.concat(
            ["(", *rt.column_pairs(work, cols, positions), f") is duplicated (fails {name})"], n
        )
    check = schema.checks[failed.number]
    name = check.name or "check"
    stats = check.statistics or {}
    subjects, context = list(stats.get("columns", ())), list(stats.get("context", ()))
    judged = rt.column_pairs(work, subjects, positions)
    verb = "fails" if len(subjects) <= 1 else "fail"
    parts = [*judged, f" {verb} {name}"] if judged else [f"row fails {name}"]
    given = rt.column_pairs(work, context, positions)
    if given:
        parts += [" for ", *given]
    explain = EXPLAINERS.get(name)
    if explain is not None:
        parts.append(explain(work, positions))
    return name, rt.concat(parts, n)


def _from_failure_cases(schema: pa.DataFrameSchema, work: pd.DataFrame, fc: pd.DataFrame) -> list[Failed]:
    """pandera's `SchemaErrors.failure_cases` as `Failed` checks (the fallback of `check_masks.Unsupported`);
    a failure without rows (a dtype, a missing column, a check that could not run) is the relation's."""
    entity = schema.name or "input"
    fc = fc.assign(
        _pos=pd.to_numeric(fc["index"], errors="coerce"),
        _cn=pd.to_numeric(fc["check_number"], errors="coerce"),
    )
    out: list[Failed] = []
    is_column = (fc["schema_context"] == "Column").to_numpy()
    for (column, check, cn), group in fc[is_column].groupby(
        ["column", "check", "_cn"], dropna=False, sort=False
    ):
        column, check = str(column), str(check)
        positions = np.sort(group["_pos"].dropna().astype(np.int64).unique())
        if check.startswith("dtype("):
            actual = str(work[column].dtype) if column in work.columns else "missing"
            raise RelationError(
                entity, column, f"has dtype {actual}, expected {check[len('dtype(') : -1].strip(chr(39))}"
            )
        if not (len(positions) and group["_pos"].notna().all()):
            raise RelationError(entity, column, f"fails {check} ({str(group['failure_case'].iloc[0])[:120]})")
        if check == "not_nullable":
            out.append(Failed(NULL, positions, column=column))
        elif check == "field_uniqueness":
            out.append(Failed(DUPLICATE, positions, column=column))
        elif not pd.isna(cn) and column in schema.columns and int(cn) < len(schema.columns[column].checks):
            out.append(Failed(COLUMN_CHECK, positions, column=column, number=int(cn)))
        else:
            out.append(Failed(COLUMN_CHECK, positions, column=column, name=check))
    for (check, cn), group in fc[~is_column].groupby(["check", "_cn"], dropna=False, sort=False):
        check = str(check)
        positions = np.sort(group["_pos"].dropna().astype(np.int64).unique())
        has_rows = len(positions) > 0 and group["_pos"].notna().all()
        if check == "multiple_fields_uniqueness" and has_rows:
            out.append(Failed(DUPLICATE_KEY, positions, columns=tuple(schema.unique or [])))
            continue
        if not pd.isna(cn) and has_rows and int(cn) < len(schema.checks):
            out.append(Failed(ROW_CHECK, positions, number=int(cn)))
            continue
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


def _model_failures(schema: pa.DataFrameSchema, work: pd.DataFrame) -> list[Failed]:
    """The model's failed checks on `work`: as masks (`check_masks`), or through pandera where that cannot."""
    try:
        return failed_checks(schema, work)
    except DtypeMismatch as exc:
        detail = f"has dtype {exc.actual}, expected {exc.expected}"
        raise RelationError(schema.name or "input", exc.column, detail) from None
    except Unsupported:
        pass
    try:
        schema.validate(work, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _from_failure_cases(schema, work, exc.failure_cases)
    return []


def _key_text(values: pd.Series) -> pa_.Array:
    """A key column as the text of `entity_key` (NULL as ''): Arrow casts for integers and text."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return pc.cast(pa_.array(values.to_numpy()), rt.TEXT)
    if isinstance(dtype, pd.StringDtype):
        return pc.fill_null(rt.arrow_text(values), rt.lit(""))
    return pa_.array(values.astype(object).where(values.notna(), "").astype("str").tolist(), rt.TEXT)


def _entity_key(frame: pd.DataFrame, key_columns: Sequence[str]) -> pd.Series:
    if not key_columns:
        return pd.Series([""] * len(frame), index=frame.index, dtype="str")
    parts = [_key_text(frame[c]) for c in key_columns]
    key = pc.binary_join_element_wise(*parts, rt.lit("/")) if len(parts) > 1 else parts[0]
    return rt.as_str_series(key, STR_DTYPE).set_axis(frame.index)


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
    content_hashes: bool = True,
) -> tuple[np.ndarray, pd.DataFrame, int, pd.DataFrame]:
    """(rejected mask by position, rejected frame, number of failures, the input with the contract's dtypes
    and `df`'s index) without building the valid frame. `content_hashes=False`: `content_hash` is '' (the
    caller records another hash, or none)."""
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
    groups: list[tuple[np.ndarray, str, pa_.Array]] = []
    checked, kept = work, None
    if null_rows.any():
        null_pos = np.flatnonzero(null_rows)
        for column, at in null_columns(schema, original, null_pos):
            groups.append(
                (at, NOT_NULL_CHECK, rt.concat([f"{column} is null (fails {NOT_NULL_CHECK})"], len(at)))
            )
        kept = np.flatnonzero(~null_rows)
        checked = work.iloc[kept].reset_index(drop=True)
    for failed in _model_failures(schema, checked):
        name, fragments = _fragments(schema, checked, failed)
        positions = failed.positions if kept is None else kept[failed.positions]
        groups.append((positions, name, fragments))
    conformed = work if work is df else work.set_axis(df.index)
    positions, checks, reasons, n_failures = rt.per_row(groups)
    if not len(positions):
        return np.zeros(len(work), dtype=bool), _empty_rejected(key_columns, work, entity), 0, conformed
    rejected_mask = np.zeros(len(work), dtype=bool)
    rejected_mask[positions] = True

    # keys as the input gave them (a NULL key stays null, not the placeholder `conform` put in its place)
    rejected = original[[c for c in key_columns if c in work.columns]].iloc[positions].reset_index(drop=True)
    for c in key_columns:
        if c not in rejected.columns:
            rejected[c] = pd.Series([pd.NA] * len(rejected), dtype="str")
    rejected.insert(0, "entity_key", _entity_key(rejected, key_columns))
    rejected.insert(0, "entity", pd.Series([entity] * len(rejected), dtype="str"))
    if "creditor_id" in work.columns and "creditor_id" not in key_columns:
        rejected["creditor_id"] = work["creditor_id"].iloc[positions].to_numpy()
    if content_hashes:
        rejected["content_hash"] = row_hashes(work.iloc[positions]).to_numpy()
    else:
        rejected["content_hash"] = rt.as_str_series(pa_.repeat(rt.lit(""), len(positions)), STR_DTYPE)
    rejected["checks"] = pd.Series(checks, dtype=object)
    rejected["reason"] = rt.as_str_series(reasons, STR_DTYPE)
    return rejected_mask, rejected, n_failures, conformed


def validate_with_reasons(
    model: type[pa.DataFrameModel] | pa.DataFrameSchema,
    df: pd.DataFrame,
    key_columns: Sequence[str],
    *,
    entity: str | None = None,
    content_hashes: bool = True,
) -> ValidationOutcome:
    """Validate `df` against `model` collecting every failure; split it into valid rows and rejected rows with
    reasons (see the module docstring). `entity` labels the rejected rows (default: the schema's name).
    `content_hashes=False` leaves `content_hash` '' for a caller that records another hash (hashing a
    rejected row is a sha256 over its canonical text: a third of the time of a 10 %-bad chunk)."""
    mask, rejected, n_failures, conformed = _collect(model, df, key_columns, entity, content_hashes)
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
    content_hashes: bool = True,
) -> InvoiceValidation:
    """Validate invoices and their rows together. An invoice is rejected when it fails a check itself, when
    any of its rows fails one ("row 3: ..."), when it has no rows, or when its totals differ from the sums of its
    rows. Valid rows of rejected invoices are dropped. Rows whose invoice is absent from `invoices` are rejected
    as `invoice_row` entities. `content_hashes=False` leaves `content_hash` '' (the push records the
    source rows' hash it read from the warehouse instead). The hashes of single rejected invoice headers and
    rows are never computed: an invoice's hash covers its header and all its rows."""
    _, inv_rejected_df, inv_failures, invoices = _collect(
        invoice_model, invoices, ["invoice_id"], "invoice", content_hashes=False
    )
    _, row_rejected_df, row_failures, rows = _collect(
        row_model, rows, ["invoice_id", "row_number"], "invoice_row", content_hashes=False
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
    if content_hashes and per_invoice and len(invoices):
        sub_rows = rows[ids.arrow_isin(rows["invoice_id"], rejected_ids)] if len(rows) else rows
        sub_inv = invoices[inv_rejected]
        for invoice_id, digest in zip(
            sub_inv["invoice_id"].tolist(), invoice_content_hashes(sub_inv, sub_rows).tolist(), strict=True
        ):
            hash_of.setdefault(invoice_id, digest)
    orphan_hashes = (
        row_hashes(rows[orphan_mask]).tolist() if orphans and content_hashes else [""] * len(orphans)
    )

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
