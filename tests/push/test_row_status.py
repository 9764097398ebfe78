"""Nothing unexplained: every invoice, orphan row and creditor that was not sent has a state and a reason in
confirma.row_status, and `confirma-pipeline status` prints it. Run against a user's relaxed copy of the input
tables (no NOT NULL, no foreign keys), as a user's own relations would be."""

from __future__ import annotations

import psycopg
import pytest

from confirma_pipeline.cli import main
from confirma_pipeline.cli.status import status_lines
from confirma_pipeline.push.invoices import push_invoices
from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.warehouse.rejections import rejections_in_run
from confirma_pipeline.warehouse.source import Relations

RELAXED = Relations("mine.creditors", "mine.invoices", "mine.invoice_rows")


def relax(conn) -> None:
    """Copies of the input tables without constraints (CREATE TABLE AS keeps no NOT NULL, key or FK)."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS mine")
    for table in ("creditors", "invoices", "invoice_rows"):
        conn.execute(f"CREATE TABLE mine.{table} AS SELECT * FROM confirma_source.{table}")


def _status(conn) -> dict[tuple[str, str], tuple]:
    rows = conn.execute(
        "SELECT entity, entity_key, creditor_id, state, open_reasons, http_status, attempts, last_run_id "
        "FROM confirma.row_status"
    ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_unsent_rows_are_explained_in_row_status(seeded, sandbox, api, vault, sample):
    bad_creditor = next(k for k, v in sample.invalid.items() if k.startswith("CRED"))
    good = [c for c in sample.creditors["creditor_id"] if c != bad_creditor]
    valid_ids = [
        i for i, c in zip(sample.invoices["invoice_id"], sample.invoices["creditor_id"], strict=True)
        if c in good and i not in sample.invalid
    ]  # fmt: skip
    lost, null_bool, refused_creditor = valid_ids[0], valid_ids[1], good[-1]
    with psycopg.connect(seeded, autocommit=True) as conn:
        relax(conn)
        conn.execute("UPDATE mine.invoices SET creditor_id = 'NO-SUCH' WHERE invoice_id = %s", (lost,))
        conn.execute(
            "UPDATE mine.invoices SET payment_control_enabled = NULL WHERE invoice_id = %s", (null_bool,)
        )
        conn.execute(
            "INSERT INTO mine.invoice_rows SELECT 'GHOST-1', row_number, product_code, name, quantity, unit_code, "
            "unit_price, vat_percentage, net_amount, vat_amount, gross_amount FROM mine.invoice_rows LIMIT 2"
        )
    onboard_clients(RunContext(seeded, api, vault, relations=RELAXED, run_id="r1"))
    first_batch = [c for c in good if c != refused_creditor]
    push_invoices(RunContext(seeded, api, vault, relations=RELAXED, run_id="r1", creditor_ids=first_batch))
    sandbox.control.set_faults(error_rate=1.0, error_statuses=[400])
    report = push_invoices(RunContext(seeded, api, vault, relations=RELAXED, run_id="r2"))
    sandbox.control.clear_faults()
    assert report.rejected_api > 0

    with psycopg.connect(seeded) as conn:
        status = _status(conn)
        # an unknown creditor: rejected, named
        creditor, state, reasons, *_ = status[("invoice", lost)]
        assert (creditor, state) == ("NO-SUCH", "rejected")
        assert reasons == ["creditor 'NO-SUCH' does not exist in mine.creditors (fails creditor_exists)"]
        # a NULL in a NOT NULL boolean of the user's relation: that invoice only
        assert status[("invoice", null_bool)][1:3] == (
            "rejected",
            ["payment_control_enabled is null (fails not_null)"],
        )
        # orphan rows
        for n in (1, 2):
            assert status[("invoice_row", f"GHOST-1/{n}")][1] == "rejected"
            assert "fails row_belongs_to_an_invoice" in status[("invoice_row", f"GHOST-1/{n}")][2][0]
        # invoices of the rejected creditor wait for it, saying why
        waiting = [v for (e, _), v in status.items() if e == "invoice" and v[0] == bad_creditor]
        assert waiting and all(v[1] == "waiting_for_creditor" for v in waiting)
        assert all(
            v[2][0].startswith(f"creditor '{bad_creditor}' waiting for its creditor, which was rejected: ")
            for v in waiting
        )
        assert status[("creditor", bad_creditor)][1] == "rejected"
        # API refusals: recorded with their status and the server's field message, counted by the check
        refused = [v for (e, _), v in status.items() if e == "invoice" and v[0] == refused_creditor]
        assert refused and all(v[1] == "rejected" and v[3] == 400 for v in refused)
        assert all("invoice: refused (injected)" in v[2][0] for v in refused)
        count, _ = rejections_in_run(conn, "r2", ["invoice", "invoice_row"])
        api_rows = conn.execute(
            "SELECT count(*) FROM confirma.rejected_rows WHERE run_id = 'r2' AND source = 'api'"
        ).fetchone()[0]
        assert api_rows == len(refused) and count >= api_rows + 3  # + unknown creditor + 2 orphans
        # every other invoice was sent; nothing else is unexplained
        unexplained = [
            (k, v) for k, v in status.items() if v[1] not in ("submitted", "onboarded") and not v[2]
        ]
        assert unexplained == []
        lines = status_lines(conn, invoice_id=lost)
        assert lines[0] == f"invoice {lost} (creditor NO-SUCH): rejected"
        assert "creditor 'NO-SUCH' does not exist" in lines[-1]
        creditor_lines = status_lines(conn, creditor_id=bad_creditor)
        assert creditor_lines[0] == f"creditor {bad_creditor}: rejected"
        assert any("waiting_for_creditor" in line for line in creditor_lines)

    # a second run: the same reasons, not multiplied; a fixed creditor reference resolves its reason
    with psycopg.connect(seeded, autocommit=True) as conn:
        conn.execute(
            "UPDATE mine.invoices SET creditor_id = %s WHERE invoice_id = %s", (first_batch[0], lost)
        )
    push_invoices(RunContext(seeded, api, vault, relations=RELAXED, run_id="r3"))
    with psycopg.connect(seeded) as conn:
        status = _status(conn)
        assert status[("invoice", lost)][1] == "submitted"
        assert (
            conn.execute(
                "SELECT count(*) FROM confirma.rejected_rows WHERE entity = 'invoice_row' AND resolved_at IS NULL"
            ).fetchone()[0]
            == 2
        )


def test_status_command_prints_one_row(seeded, sandbox, api, vault, sample, capsys, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DSN", seeded)
    onboard_clients(RunContext(seeded, api, vault, run_id="r1"))
    push_invoices(RunContext(seeded, api, vault, run_id="r1"))
    bad_invoice = next(k for k in sample.invalid if k.startswith("INV"))
    assert main(["status", "--invoice-id", bad_invoice]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"invoice {bad_invoice} (creditor ") and ": rejected\n" in out
    assert f"(fails {sample.invalid[bad_invoice]})" in out or sample.invalid[bad_invoice] in out
    assert main(["status", "--creditor-id", sample.creditors["creditor_id"].iloc[0]]) == 0
    assert "invoices: " in capsys.readouterr().out
    assert main(["status"]) == 2  # ExitCode.USAGE: give an id
    assert (
        "give exactly one of --invoice-id ID, --creditor-id ID or --action-id ID" in capsys.readouterr().err
    )


def test_a_column_that_cannot_be_read_stops_the_run_naming_relation_and_column(seeded, api, vault):
    with psycopg.connect(seeded, autocommit=True) as conn:
        relax(conn)
        conn.execute("ALTER TABLE mine.invoices ALTER COLUMN distribution_enabled TYPE text")
        conn.execute("UPDATE mine.invoices SET distribution_enabled = 'maybe'")
    onboard_clients(RunContext(seeded, api, vault, relations=RELAXED, run_id="r1"))
    from confirma_pipeline.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        push_invoices(RunContext(seeded, api, vault, relations=RELAXED, run_id="r1"))
    message = str(err.value)
    assert message == (
        "cannot read mine.invoices: column distribution_enabled has a value that cannot be read as bool "
        "(the input contract's type)"
    )
