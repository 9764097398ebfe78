"""The corpus test: 1,000+ source rows, more than 30 kinds of bad ones (NULLs of every dtype in a relaxed copy
of the input tables, unknown creditors, orphan rows, hostile text ...) mixed with good ones, pushed through the
command line twice. Every bad row ends in confirma.row_status with a reason naming its check, every good
invoice is accepted by the sandbox exactly once, and no run exits non-zero or prints a traceback."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import psycopg
from push_helpers import PROVISIONING_TOKEN, journal_invoices

from confirma_pipeline.cli import main
from confirma_pipeline.validation.corpus import CREDITOR_KINDS, INVOICE_KINDS, build_corpus

TABLES = (("creditors", "creditors"), ("invoices", "invoices"), ("invoice_rows", "rows"))


def relax_source_tables(conn) -> None:
    """Make confirma_source what a user's own relation may be: no NOT NULL (but the keys), no foreign key."""
    for table, _ in TABLES:
        keys = {"creditors": {"creditor_id"}, "invoices": {"invoice_id"}}.get(
            table, {"invoice_id", "row_number"}
        )
        columns = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'confirma_source' "
            "AND table_name = %s AND is_nullable = 'NO'",
            (table,),
        ).fetchall()
        for (column,) in columns:
            if column not in keys:
                conn.execute(f'ALTER TABLE confirma_source.{table} ALTER COLUMN "{column}" DROP NOT NULL')
    for (name,) in conn.execute(
        "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid = 'confirma_source.invoice_rows'::regclass"
    ).fetchall():
        conn.execute(f'ALTER TABLE confirma_source.invoice_rows DROP CONSTRAINT "{name}"')


def load(conn, corpus) -> None:
    for table, attr in TABLES:
        frame = getattr(corpus, attr)
        values = frame.astype(object).where(frame.notna(), None)
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        with conn.cursor().copy(f"COPY confirma_source.{table} ({columns}) FROM STDIN") as copy:
            for record in values.itertuples(index=False, name=None):
                copy.write_row(record)


def _run(argv, capsys) -> str:
    code = main(argv)
    out = capsys.readouterr()
    text = out.out + out.err
    assert code == 0, text
    assert "Traceback" not in text
    return text


def test_every_bad_row_explained_every_good_row_sent_once(warehouse_dsn, sandbox, vault, capsys, monkeypatch):
    corpus = build_corpus(700, 8, orphan_rows=12, database=True)
    kinds = {kind for kind, _ in corpus.bad.values()}
    assert len(kinds) >= 30 and len(corpus.invoices) + len(corpus.rows) >= 1000
    storable = [k for k in INVOICE_KINDS if k.storable]
    assert len(kinds) == len(storable) + len(CREDITOR_KINDS) + 1
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        relax_source_tables(conn)
        load(conn, corpus)
    monkeypatch.setenv("WAREHOUSE_DSN", warehouse_dsn)
    monkeypatch.setenv("CONFIRMA_SANDBOX_URL", sandbox.url)
    monkeypatch.setenv("CONFIRMA_PROVISIONING_TOKEN", PROVISIONING_TOKEN)

    _run(["push"], capsys)
    _run(["push"], capsys)  # a second run sends nothing again (checked below: each once)

    good = corpus.good_invoice_ids
    numbers = dict(zip(corpus.invoices["invoice_id"], corpus.invoices["invoice_number"], strict=True))
    sent = Counter(journal_invoices(sandbox))
    assert sorted(sent.elements()) == sorted(int(numbers[i]) for i in good), _debug(corpus, sent, numbers)

    with psycopg.connect(warehouse_dsn) as conn:
        status = {
            (e, k): (state, reasons)
            for e, k, state, reasons in conn.execute(
                "SELECT entity, entity_key, state, open_reasons FROM confirma.row_status"
            ).fetchall()
        }
    missing = []
    for key, (kind, check) in corpus.bad.items():
        state, reasons = status.get(key, (None, []))
        if state not in ("rejected", "waiting_for_creditor") or not any(f"{check}" in r for r in reasons):
            missing.append((key, kind, check, state, [r[:160] for r in reasons]))
    assert missing == [], missing[:5]
    for invoice_id in good:
        assert status[("invoice", invoice_id)] == ("submitted", [])
    waiting = corpus.invoices.loc[corpus.invoices["creditor_id"].isin(corpus.bad_creditor_ids), "invoice_id"]
    for invoice_id in waiting:
        state, reasons = status[("invoice", invoice_id)]
        assert state == "waiting_for_creditor" and "fails creditor_onboarded" in reasons[0], reasons
    # nothing else is unexplained
    assert not [
        k for k, (state, reasons) in status.items() if state not in ("submitted", "onboarded") and not reasons
    ]

    key, (_, check) = next((k, v) for (e, k), v in corpus.bad.items() if e == "invoice")
    lines = _run(["status", "--invoice-id", key], capsys)
    assert f"invoice {key} (creditor " in lines and ": rejected\n" in lines and f"fails {check}" in lines


def _debug(corpus, sent, numbers):
    by_number = {int(n): i for i, n in numbers.items() if not pd.isna(n)}
    good = set(corpus.good_invoice_ids)
    extra = [by_number.get(n) for n in sent if by_number.get(n) not in good]
    lost = [i for i in good if int(numbers[i]) not in sent]
    return [(i, corpus.bad.get(("invoice", i))) for i in extra][:10], lost[:10]
