"""The invoice submission ledger (`confirma.invoice_ledger`): exactly-once bookkeeping.

Each invoice moves pending -> in_flight -> submitted | rejected | failed. Rows are committed
`in_flight` (in claim batches) before their POSTs; answers are committed in small batches as
they arrive. A crash anywhere leaves at worst `in_flight` rows, which the next run looks up in
the client's distribution records before deciding to resend, so batching the answer commits
costs no safety and saves one fsync per invoice.

"Ledger" in this code base means OUR submission ledgers (this one, `action_ledger.py` and
`accounting_submissions.py`); Confirma's accounting ledger (the vouchers of POST accounting/ledger) is
called "vouchers" on our side (push/accounting.py `VOUCHERS`), except where a name is the API's own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import NamedTuple

import psycopg
from psycopg import sql

from confirma_pipeline.paths import load_sql
from confirma_pipeline.warehouse.source import relation_identifier


@dataclass(frozen=True)
class LedgerEntry:
    invoice_id: str
    creditor_id: str
    invoice_number: int
    payload_hash: str
    source_hash: str | None
    #: the source's updated_at read with source_hash (same statement): lets the nightly check skip the invoice
    source_updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class Outcome:
    invoice_id: str
    state: str  # submitted | rejected | failed | in_flight (outcome unknown) | pending (not sent)
    error: str | None = None
    http_status: int | None = None
    case_id: int | None = None


def done_invoice_ids_sql(max_attempts: int) -> sql.Composable:
    """A query of invoice ids a run must not read again: sent, in flight (recovered separately),
    or failed with the attempt budget spent (an operator looks at those)."""
    return sql.SQL(
        "SELECT invoice_id FROM confirma.invoice_ledger "
        "WHERE state IN ('submitted', 'in_flight') OR (state = 'failed' AND attempts >= {})"
    ).format(sql.Literal(int(max_attempts)))


def done_or_these_sql(max_attempts: int, invoice_ids: Sequence[str]) -> sql.Composable:
    """`done_invoice_ids_sql` and these ids too (a backfill preview leaves out the invoices it would adopt)."""
    return sql.SQL("{} UNION ALL SELECT unnest({}::text[])").format(
        done_invoice_ids_sql(max_attempts), sql.Literal(list(invoice_ids))
    )


def all_but_sql(invoices_relation: str, invoice_ids: Sequence[str]) -> sql.Composable:
    """A query of every source invoice id except these (to re-read just a retry set)."""
    return sql.SQL("SELECT invoice_id FROM {} WHERE NOT (invoice_id = ANY({}::text[]))").format(
        relation_identifier(invoices_relation), sql.Literal(list(invoice_ids))
    )


#: source hash versions: 1 before migration 0009 (without these columns, quantity printed with 3 decimals)
SOURCE_HASH_VERSION = 2
_V1_INVOICE_EXCLUDED = frozenset(
    {
        "creditor_costs_amount", "collection_fees_amount", "interest_type", "interest_percentage",
        "seller_street2", "seller_street3", "buyer_country_name", "recipient_country_name",
    }
)  # fmt: skip
_V1_ROW_EXCLUDED = frozenset({"discount_percentage"})


def _hash_sql(
    name: str, invoices_relation: str, rows_relation: str, version: int = SOURCE_HASH_VERSION
) -> sql.Composable:
    """A hashing statement over the input contract's columns (updated_at excluded: touching a row
    without changing it is not a change). `version` 1 rebuilds the hash as stored before migration 0009."""
    from confirma_pipeline.validation.input_contract import INVOICE_ROWS_CONTRACT, INVOICES_CONTRACT

    def column(alias: str, n: str) -> sql.Composable:
        if version == 1 and n == "quantity":
            return sql.SQL("{}::numeric(14,3)").format(sql.Identifier(alias, n))
        return sql.Identifier(alias, n)

    invoice_excluded = {"updated_at", *(_V1_INVOICE_EXCLUDED if version == 1 else ())}
    row_excluded = _V1_ROW_EXCLUDED if version == 1 else frozenset()
    return sql.SQL(load_sql(name)).format(
        invoices=relation_identifier(invoices_relation),
        invoice_rows=relation_identifier(rows_relation),
        invoice_cols=sql.SQL(", ").join(
            column("i", c) for c in INVOICES_CONTRACT if c not in invoice_excluded
        ),
        row_cols=sql.SQL(", ").join(column("x", c) for c in INVOICE_ROWS_CONTRACT if c not in row_excluded),
    )


class SourceSnapshot(NamedTuple):
    """An invoice's source hash and the updated_at it was read with (one statement, one snapshot)."""

    source_hash: str
    updated_at: dt.datetime | None


def source_snapshots(
    conn: psycopg.Connection,
    invoices_relation: str,
    rows_relation: str,
    invoice_ids: Sequence[str],
    version: int = SOURCE_HASH_VERSION,
) -> dict[str, SourceSnapshot]:
    """Each invoice's source hash with its updated_at: what the ledger stores for an invoice it sends."""
    query = _hash_sql("push/source_hashes.sql", invoices_relation, rows_relation, version)
    rows = conn.execute(query, {"invoice_ids": list(invoice_ids)}).fetchall()
    return {invoice_id: SourceSnapshot(h, updated_at) for invoice_id, h, updated_at in rows}


def source_hashes(
    conn: psycopg.Connection,
    invoices_relation: str,
    rows_relation: str,
    invoice_ids: Sequence[str],
    version: int = SOURCE_HASH_VERSION,
) -> dict[str, str]:
    snapshots = source_snapshots(conn, invoices_relation, rows_relation, invoice_ids, version)
    return {invoice_id: s.source_hash for invoice_id, s in snapshots.items()}


#: Ledger rows whose source hash predates SOURCE_HASH_VERSION. The version is written into the statement, not
#: bound: only a literal lets every plan, a prepared statement's generic plan too (psycopg prepares a statement
#: run five times on one connection), prove the partial index `invoice_ledger_old_hash_idx` (migration 0009,
#: `WHERE source_hash_version < 2`) applies, so a night with nothing to upgrade reads one empty index page
#: instead of the whole ledger. A new SOURCE_HASH_VERSION needs a new partial index (a test asserts the plan).
OLD_HASH_IDS_SQL = sql.SQL(
    "SELECT invoice_id FROM confirma.invoice_ledger WHERE source_hash_version < {} LIMIT %s"
).format(sql.Literal(SOURCE_HASH_VERSION))


def upgrade_source_hashes(
    conn: psycopg.Connection, invoices_relation: str, rows_relation: str, batch: int = 20_000
) -> int:
    """Move hashes stored before migration 0009 to the current version: where the old-style hash still
    matches, nothing changed and the current hash is stored; otherwise the old hash stays, so the invoice is
    flagged as changed. Runs once per invoice after the upgrade (then no version-1 row is left)."""
    upgraded = 0
    while True:
        ids = [r[0] for r in conn.execute(OLD_HASH_IDS_SQL, (batch,)).fetchall()]
        if not ids:
            return upgraded
        old = source_hashes(conn, invoices_relation, rows_relation, ids, version=1)
        new = source_hashes(conn, invoices_relation, rows_relation, ids)
        with conn.transaction():
            conn.execute(
                """
                UPDATE confirma.invoice_ledger AS l
                SET source_hash = CASE WHEN l.source_hash = n.old_hash THEN n.new_hash ELSE l.source_hash END,
                    source_hash_version = %s
                FROM unnest(%s::text[], %s::text[], %s::text[]) AS n(invoice_id, old_hash, new_hash)
                WHERE l.invoice_id = n.invoice_id
                """,
                (SOURCE_HASH_VERSION, ids, [old.get(i) for i in ids], [new.get(i) for i in ids]),
            )
        upgraded += len(ids)


def duplicate_numbers(conn: psycopg.Connection, entries: Sequence[LedgerEntry]) -> set[str]:
    """Invoice ids whose (creditor, number) the ledger already holds under another invoice id:
    sending them would bill a number twice."""
    if not entries:
        return set()
    rows = conn.execute(
        """
        SELECT n.invoice_id
        FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS n(invoice_id, creditor_id, invoice_number)
        JOIN confirma.invoice_ledger l
          ON l.creditor_id = n.creditor_id AND l.invoice_number = n.invoice_number
         AND l.invoice_id <> n.invoice_id
        """,
        (
            [e.invoice_id for e in entries],
            [e.creditor_id for e in entries],
            [e.invoice_number for e in entries],
        ),
    ).fetchall()
    return {r[0] for r in rows}


def ensure_pending(conn: psycopg.Connection, entries: Sequence[LedgerEntry], run_id: str | None) -> None:
    """Register new invoices as `pending`; refresh hashes of rows not yet sent; an invoice the API
    refused is sent again only once its content changed. The source updated_at travels with the source
    hash, so the first nightly check after the invoice is sent has nothing to hash."""
    if not entries:
        return
    with conn.transaction():
        conn.execute(
            """
            INSERT INTO confirma.invoice_ledger
                (invoice_id, creditor_id, invoice_number, state, payload_hash, source_hash, source_updated_at,
                 run_id)
            SELECT id, cid, num, 'pending', ph, sh, su, %s
            FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::text[], %s::text[], %s::timestamptz[])
                 AS n(id, cid, num, ph, sh, su)
            ON CONFLICT (invoice_id) DO UPDATE
            SET payload_hash = EXCLUDED.payload_hash, source_hash = EXCLUDED.source_hash, updated_at = now(),
                source_updated_at = EXCLUDED.source_updated_at,
                source_hash_version = EXCLUDED.source_hash_version,
                -- refused by the API earlier and changed since: send the corrected version
                state = CASE WHEN confirma.invoice_ledger.state = 'rejected' THEN 'pending'
                             ELSE confirma.invoice_ledger.state END,
                attempts = CASE WHEN confirma.invoice_ledger.state = 'rejected' THEN 0
                                ELSE confirma.invoice_ledger.attempts END
            WHERE confirma.invoice_ledger.state IN ('pending', 'failed', 'rejected')
              AND (confirma.invoice_ledger.payload_hash, confirma.invoice_ledger.source_hash)
                  IS DISTINCT FROM (EXCLUDED.payload_hash, EXCLUDED.source_hash)
            """,
            (
                run_id,
                [e.invoice_id for e in entries],
                [e.creditor_id for e in entries],
                [e.invoice_number for e in entries],
                [e.payload_hash for e in entries],
                [e.source_hash for e in entries],
                [e.source_updated_at for e in entries],
            ),
        )


def still_refused(conn: psycopg.Connection, entries: Sequence[LedgerEntry]) -> set[str]:
    """Ids of these entries the ledger holds `rejected` with this very payload: they are not sent again,
    so their open rejected rows must stay open."""
    if not entries:
        return set()
    rows = conn.execute(
        "SELECT l.invoice_id FROM unnest(%s::text[], %s::text[]) AS n(invoice_id, payload_hash) "
        "JOIN confirma.invoice_ledger l USING (invoice_id) "
        "WHERE l.state = 'rejected' AND l.payload_hash = n.payload_hash",
        ([e.invoice_id for e in entries], [e.payload_hash for e in entries]),
    ).fetchall()
    return {r[0] for r in rows}


def register_held(conn: psycopg.Connection, held: Sequence[tuple[LedgerEntry, object]], run_id) -> None:
    """Register invoices a run decided not to send (each with a rejection whose `reason` says why) as
    `rejected`, never sent: a later run leaves them alone unless their payload changes (see `ensure_pending`)
    or a caller releases them on purpose."""
    if not held:
        return
    conn.execute(
        """
        INSERT INTO confirma.invoice_ledger
            (invoice_id, creditor_id, invoice_number, state, payload_hash, source_hash, source_updated_at,
             last_error, run_id)
        SELECT id, cid, num, 'rejected', ph, sh, su, err, %s
        FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::text[], %s::text[], %s::timestamptz[], %s::text[])
             AS n(id, cid, num, ph, sh, su, err)
        ON CONFLICT (invoice_id) DO UPDATE
        SET state = 'rejected', payload_hash = EXCLUDED.payload_hash, source_hash = EXCLUDED.source_hash,
            source_updated_at = EXCLUDED.source_updated_at,
            last_error = EXCLUDED.last_error, last_http_status = NULL, run_id = EXCLUDED.run_id, updated_at = now()
        WHERE confirma.invoice_ledger.state IN ('pending', 'failed', 'rejected')
        """,
        (
            run_id,
            [e.invoice_id for e, _ in held],
            [e.creditor_id for e, _ in held],
            [e.invoice_number for e, _ in held],
            [e.payload_hash for e, _ in held],
            [e.source_hash for e, _ in held],
            [e.source_updated_at for e, _ in held],
            [getattr(r, "reason", None) for _, r in held],
        ),
    )


def claim(
    conn: psycopg.Connection, invoice_ids: Sequence[str], run_id: str | None, max_attempts: int
) -> list[str]:
    """Commit these rows `in_flight` (only those still pending/failed with attempts left)."""
    if not invoice_ids:
        return []
    with conn.transaction():
        rows = conn.execute(
            """
            UPDATE confirma.invoice_ledger
            SET state = 'in_flight', attempts = attempts + 1, in_flight_since = now(), run_id = %s,
                updated_at = now()
            WHERE invoice_id = ANY(%s::text[])
              AND (state = 'pending' OR (state = 'failed' AND attempts < %s))
            RETURNING invoice_id
            """,
            (run_id, list(invoice_ids), max_attempts),
        ).fetchall()
    return [r[0] for r in rows]


def record_outcomes(conn: psycopg.Connection, outcomes: Sequence[Outcome]) -> None:
    """Commit answers for rows this run holds `in_flight`, in one statement and transaction."""
    if not outcomes:
        return
    with conn.transaction():
        conn.execute(
            """
            UPDATE confirma.invoice_ledger AS l
            SET state = o.state,
                last_error = o.error,
                last_http_status = o.http_status,
                case_id = coalesce(o.case_id, l.case_id),
                in_flight_since = CASE WHEN o.state = 'in_flight' THEN l.in_flight_since END,
                submitted_at = CASE WHEN o.state = 'submitted' THEN coalesce(l.submitted_at, now())
                                    ELSE l.submitted_at END,
                attempts = CASE WHEN o.state = 'pending' THEN greatest(l.attempts - 1, 0) ELSE l.attempts END,
                changed_after_submission = false,
                updated_at = now()
            FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[], %s::bigint[])
                 AS o(invoice_id, state, error, http_status, case_id)
            WHERE l.invoice_id = o.invoice_id AND l.state = 'in_flight'
            """,
            (
                [o.invoice_id for o in outcomes],
                [o.state for o in outcomes],
                [o.error for o in outcomes],
                [o.http_status for o in outcomes],
                [o.case_id for o in outcomes],
            ),
        )


@dataclass(frozen=True)
class InFlightRow:
    invoice_id: str
    creditor_id: str
    invoice_number: int
    invoice_date: object | None  # datetime.date from the source; None when the source row is gone
    source_hash: str | None  # as sent


def in_flight_for_recovery(
    conn: psycopg.Connection, invoices_relation: str, creditor_ids: Sequence[str]
) -> list[InFlightRow]:
    """Rows left `in_flight` for these clients, with the invoice's date (from the source) to look them up by."""
    query = sql.SQL(
        "SELECT l.invoice_id, l.creditor_id, l.invoice_number, i.invoice_date, l.source_hash "
        "FROM confirma.invoice_ledger l LEFT JOIN {} i ON i.invoice_id = l.invoice_id "
        "WHERE l.state = 'in_flight' AND l.creditor_id = ANY(%s::text[]) ORDER BY l.creditor_id, l.invoice_number"
    ).format(relation_identifier(invoices_relation))
    return [InFlightRow(*r) for r in conn.execute(query, (list(creditor_ids),)).fetchall()]


def submitted_numbers_between(
    conn: psycopg.Connection, invoices_relation: str, creditor_id: str, start, end
) -> list[int]:
    """Numbers the ledger holds as accepted for this client, unchanged since, dated in [start, end]."""
    query = sql.SQL(
        "SELECT l.invoice_number FROM confirma.invoice_ledger l JOIN {} i ON i.invoice_id = l.invoice_id "
        "WHERE l.creditor_id = %s AND l.state = 'submitted' AND NOT l.changed_after_submission "
        "AND i.invoice_date BETWEEN %s AND %s"
    ).format(relation_identifier(invoices_relation))
    return [r[0] for r in conn.execute(query, (creditor_id, start, end)).fetchall()]


def flag_changed_after_submission(
    conn: psycopg.Connection, invoices_relation: str, rows_relation: str
) -> int:
    """Flag (or unflag) submitted invoices whose source changed since submission; returns how many flipped.
    Hashes only invoices whose source updated_at moved since their last check (see the SQL)."""
    upgrade_source_hashes(conn, invoices_relation, rows_relation)
    query = _hash_sql("push/flag_changed_after_submission.sql", invoices_relation, rows_relation)
    with conn.transaction():
        return conn.execute(query).fetchone()[0]


def state_counts(conn: psycopg.Connection, creditor_ids: Iterable[str] | None = None) -> dict[str, int]:
    ids = list(creditor_ids) if creditor_ids is not None else None
    rows = conn.execute(
        "SELECT state, count(*) FROM confirma.invoice_ledger "
        "WHERE %(ids)s::text[] IS NULL OR creditor_id = ANY(%(ids)s::text[]) GROUP BY state",
        {"ids": ids},
    ).fetchall()
    return dict(rows)


def stuck(conn: psycopg.Connection, max_attempts: int, older_than_minutes: int = 0) -> list[tuple]:
    """Rows needing attention: in_flight left over, or failed with the attempt budget spent."""
    return conn.execute(
        """
        SELECT invoice_id, creditor_id, invoice_number, state, attempts, last_error
        FROM confirma.invoice_ledger
        WHERE (state = 'in_flight' AND in_flight_since < now() - make_interval(mins => %s))
           OR (state = 'failed' AND attempts >= %s)
        ORDER BY creditor_id, invoice_number
        """,
        (older_than_minutes, max_attempts),
    ).fetchall()


def changed_after_submission(conn: psycopg.Connection) -> list[tuple[str, str, int]]:
    return conn.execute(
        "SELECT invoice_id, creditor_id, invoice_number FROM confirma.invoice_ledger "
        "WHERE changed_after_submission ORDER BY creditor_id, invoice_number"
    ).fetchall()


def waiting_for_client(
    conn: psycopg.Connection,
    invoices_relation: str,
    creditor_ids: Sequence[str] | None,
    holds: Callable[[str], bool] | None = None,
) -> int:
    """Invoices not sent because their creditor has no onboarded client with a usable token. `holds`: count
    only the creditors it holds (a shard's, run/shard.py), so that K shards' counts add up to the night's."""
    query = sql.SQL(
        "SELECT i.creditor_id, count(*) FROM {} AS i "
        "WHERE (%(ids)s::text[] IS NULL OR i.creditor_id = ANY(%(ids)s::text[])) "
        "AND NOT EXISTS (SELECT 1 FROM confirma.clients c JOIN confirma.client_tokens t USING (creditor_id) "
        "WHERE c.creditor_id = i.creditor_id AND c.state IN ('created', 'imported') AND t.status <> 'invalid') "
        "AND NOT EXISTS (SELECT 1 FROM confirma.invoice_ledger l WHERE l.invoice_id = i.invoice_id) "
        "GROUP BY i.creditor_id"
    ).format(relation_identifier(invoices_relation))
    rows = conn.execute(query, {"ids": list(creditor_ids) if creditor_ids is not None else None}).fetchall()
    return sum(n for creditor_id, n in rows if holds is None or holds(str(creditor_id)))


def refused_with_same_payload(
    conn: psycopg.Connection, entries: Sequence[LedgerEntry], released_reason: str | None = None
) -> int:
    """How many of these entries the ledger holds `rejected` with this very payload (a real run leaves them
    alone), not counting those whose last error starts with `released_reason` (refusals being released)."""
    if not entries:
        return 0
    return conn.execute(
        "SELECT count(*) FROM unnest(%s::text[], %s::text[]) AS n(invoice_id, payload_hash) "
        "JOIN confirma.invoice_ledger l USING (invoice_id) "
        "WHERE l.state = 'rejected' AND l.payload_hash = n.payload_hash "
        "AND NOT (%s AND starts_with(coalesce(l.last_error, ''), %s))",
        (
            [e.invoice_id for e in entries],
            [e.payload_hash for e in entries],
            released_reason is not None,
            released_reason or "",
        ),
    ).fetchone()[0]


# --- adopting invoices already at Confirma (backfill/adopt.py decides, these read and write) -----------


@dataclass(frozen=True)
class Adopted:
    """One invoice registered `submitted` with origin `adopted` (not sent by this pipeline)."""

    invoice_id: str
    invoice_number: int
    source_hash: str | None
    source_updated_at: dt.datetime | None
    case_id: int | None
    created_at: dt.datetime | None  # when Confirma created it (the distribution record), else now


def adoption_candidates(
    conn: psycopg.Connection,
    invoices_relation: str,
    creditor_id: str,
    start: dt.date,
    end: dt.date,
    numbers: Sequence[int],
) -> list[tuple]:
    """Source invoices of the client holding one of these numbers: (invoice_id, invoice_number, dated in
    [start, end], source invoices with that number, the ledger's invoice_id for the number, its state)."""
    return conn.execute(
        sql.SQL(
            """
            SELECT i.invoice_id, i.invoice_number::bigint, i.invoice_date BETWEEN %(a)s AND %(b)s,
                   count(*) OVER (PARTITION BY i.invoice_number),
                   l.invoice_id, l.state
            FROM {invoices} i
            LEFT JOIN confirma.invoice_ledger l
              ON l.creditor_id = i.creditor_id AND l.invoice_number = i.invoice_number
            WHERE i.creditor_id = %(c)s AND i.invoice_number = ANY(%(numbers)s::bigint[])
            ORDER BY i.invoice_number, i.invoice_id
            """
        ).format(invoices=relation_identifier(invoices_relation)),
        {"c": creditor_id, "a": start, "b": end, "numbers": list(numbers)},
    ).fetchall()


def register_adopted(
    conn: psycopg.Connection,
    creditor_id: str,
    adopted: Sequence[Adopted],
    payload_hash: str,
    run_id: str | None,
) -> int:
    """Register these invoices `submitted` with origin `adopted` (a row not yet sent, pending, failed or
    rejected, becomes adopted; a sent one is left alone); returns how many rows were written."""
    return conn.execute(
        """
        INSERT INTO confirma.invoice_ledger AS l
            (invoice_id, creditor_id, invoice_number, state, payload_hash, source_hash, source_updated_at,
             case_id, submitted_at, run_id, origin)
        SELECT id, %(c)s, num, 'submitted', %(ph)s, sh, su, case_id, coalesce(created_at, now()), %(run)s,
               'adopted'
        FROM unnest(%(invoice_id)s::text[], %(invoice_number)s::bigint[], %(source_hash)s::text[],
                    %(source_updated_at)s::timestamptz[], %(case_id)s::bigint[], %(created_at)s::timestamptz[])
             AS n(id, num, sh, su, case_id, created_at)
        ON CONFLICT (invoice_id) DO UPDATE
        SET state = 'submitted', origin = 'adopted', payload_hash = EXCLUDED.payload_hash,
            source_hash = EXCLUDED.source_hash, source_updated_at = EXCLUDED.source_updated_at, case_id = coalesce(EXCLUDED.case_id, l.case_id),
            submitted_at = EXCLUDED.submitted_at, last_error = NULL, last_http_status = NULL,
            run_id = EXCLUDED.run_id, updated_at = now()
        WHERE l.state IN ('pending', 'failed', 'rejected')
        """,
        {
            "c": creditor_id,
            "ph": payload_hash,
            "run": run_id,
            **{f.name: [getattr(a, f.name) for a in adopted] for f in fields(Adopted)},  # one array per field
        },
    ).rowcount


def release_refused(
    conn: psycopg.Connection,
    invoices_relation: str,
    creditor_id: str,
    start: dt.date,
    end: dt.date,
    reason_prefix: str,
) -> int:
    """Put the client's invoices dated from `start` to `end` that the ledger holds `rejected` with a last
    error starting with `reason_prefix` back to `pending` (attempts reset); returns how many."""
    return conn.execute(
        sql.SQL(
            "UPDATE confirma.invoice_ledger l SET state = 'pending', attempts = 0, last_error = NULL, "
            "updated_at = now() FROM {invoices} i WHERE i.invoice_id = l.invoice_id "
            "AND l.creditor_id = %s AND l.state = 'rejected' AND starts_with(l.last_error, %s) "
            "AND i.invoice_date BETWEEN %s AND %s"
        ).format(invoices=relation_identifier(invoices_relation)),
        (creditor_id, reason_prefix, start, end),
    ).rowcount


def latest_case_id(conn: psycopg.Connection, creditor_id: str) -> int | None:
    """The highest case id the ledger holds for the client (a case to read back), or None."""
    return conn.execute(
        "SELECT max(case_id) FROM confirma.invoice_ledger WHERE creditor_id = %s", (creditor_id,)
    ).fetchone()[0]


def link_case_ids(conn: psycopg.Connection, creditor_ids: Sequence[str]) -> int:
    """Copy each distribution record's case id onto its invoice's ledger row (real changes only); returns how
    many rows changed. Runs in the distribution pull's write transaction."""
    return conn.execute(load_sql("pull/ledger_case_ids.sql"), {"ids": list(creditor_ids)}).rowcount


def buyer_business_ids(
    conn: psycopg.Connection, invoices_relation: str, creditor_ids: Sequence[str]
) -> list[tuple[str, str]]:
    """(creditor id, business id) of the distinct buyer business ids of these clients' submitted invoices,
    read from the source relation, ordered by business id: whose e-invoice addresses to ask for."""
    query = sql.SQL(load_sql("pull/finvoice_business_ids.sql")).format(
        invoices=relation_identifier(invoices_relation)
    )
    return conn.execute(query, {"ids": list(creditor_ids)}).fetchall()
