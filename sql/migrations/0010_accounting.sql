-- Accounting integration (Partner API sections 2.11-2.14): ledger vouchers and accounting payments the
-- creditor's bookkeeping sends through Confirma to Netvisor, Procountor or NetBaron, and their sync status.
--
-- Input contract (confirma_source): one column per SEEN field of the ledger and payment examples.
-- Amounts are unconstrained `numeric` on purpose: numeric(14,2) would silently round 10.005 on load, where
-- the pipeline must reject it with a reason (money has at most 2 decimals). is_vat_row is a smallint, not a
-- boolean, because the API flag is the integer 0 or 1 and a 2 must be caught, not coerced.
-- The creditor chooses ledger_identifier and payment_identifier; they are the natural keys the status
-- endpoints echo as sourceIdentifier, unique per creditor.

CREATE TABLE IF NOT EXISTS confirma_source.ledger_vouchers (
    creditor_id             text NOT NULL,
    ledger_identifier       text NOT NULL,
    company_identifier      text,
    document_type           text,
    document_name           text,
    document_date           date,
    document_description    text,
    calculation_mode        text,
    updated_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (creditor_id, ledger_identifier)
);

CREATE TABLE IF NOT EXISTS confirma_source.ledger_voucher_rows (
    creditor_id             text NOT NULL,
    ledger_identifier       text NOT NULL,
    row_number              integer NOT NULL,
    booking_date            date,
    account_number          text,
    vat_account_number      text,
    vat_type                text,
    vat_percentage          numeric,
    vat_code                text,
    amount                  numeric,
    net_amount              numeric,
    is_vat_row              smallint,
    project_number          text,
    transaction_type        text,
    transaction_description text,
    PRIMARY KEY (creditor_id, ledger_identifier, row_number)
);

CREATE TABLE IF NOT EXISTS confirma_source.ledger_row_dimensions (
    creditor_id             text NOT NULL,
    ledger_identifier       text NOT NULL,
    row_number              integer NOT NULL,
    dimension_number        integer NOT NULL,
    dimension_type          text,
    dimension_value         text,
    PRIMARY KEY (creditor_id, ledger_identifier, row_number, dimension_number)
);

CREATE TABLE IF NOT EXISTS confirma_source.accounting_payments (
    creditor_id             text NOT NULL,
    payment_identifier      text NOT NULL,
    invoice_number          text,
    payment_date            date,
    booking_date            date,
    amount                  numeric,
    currency                text,
    target_identifier       text,
    payment_reference       text,
    source_name             text,
    updated_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (creditor_id, payment_identifier)
);

-- Our submission ledger for the accounting add-on (not to be confused with Confirma's ledger vouchers):
-- one row per voucher or payment, the exactly-once state machine
-- pending -> in_flight -> submitted | rejected | failed. item_date (documentDate / paymentDate) bounds the
-- status look-up of an interrupted send.
CREATE TABLE IF NOT EXISTS confirma.accounting_submissions (
    kind                text NOT NULL CHECK (kind IN ('ledger', 'payment')),
    creditor_id         text NOT NULL REFERENCES confirma.clients (creditor_id),
    identifier          text NOT NULL,
    item_date           date NOT NULL,
    state               text NOT NULL CHECK (state IN ('pending', 'in_flight', 'submitted', 'rejected', 'failed')),
    attempts            integer NOT NULL DEFAULT 0,
    payload_hash        text NOT NULL,
    last_error          text,
    last_http_status    integer,
    in_flight_since     timestamptz,
    submitted_at        timestamptz,
    run_id              text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, creditor_id, identifier)
);
CREATE INDEX IF NOT EXISTS accounting_submissions_state_idx
    ON confirma.accounting_submissions (creditor_id, kind, state);

-- Sync status as Confirma reports it (GET accounting/ledger and accounting/payment).
CREATE TABLE IF NOT EXISTS confirma.accounting_sync (
    creditor_id         text NOT NULL REFERENCES confirma.clients (creditor_id),
    kind                text NOT NULL CHECK (kind IN ('ledger', 'payment')),
    source_identifier   text NOT NULL,
    document_name       text,
    invoice_number      text,
    document_status     text,
    item_date           date,
    sync_date           date,
    status              integer NOT NULL,
    status_text         text,
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    fetched_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (creditor_id, kind, source_identifier)
);

-- Rejected rows may now be vouchers and accounting payments. The entity check is widened by composing
-- with whatever check is in place (other migrations may have widened it too), not by restating a list.
DO $$
DECLARE
    existing text;
    expr text;
BEGIN
    SELECT conname, pg_get_constraintdef(oid) INTO existing, expr
    FROM pg_constraint
    WHERE conrelid = 'confirma.rejected_rows'::regclass AND contype = 'c'
      AND pg_get_constraintdef(oid) LIKE '%entity%'
      AND pg_get_constraintdef(oid) NOT LIKE '%ledger_voucher%'
    LIMIT 1;
    IF existing IS NOT NULL THEN
        EXECUTE format('ALTER TABLE confirma.rejected_rows DROP CONSTRAINT %I', existing);
        EXECUTE format(
            'ALTER TABLE confirma.rejected_rows ADD CONSTRAINT %I CHECK ((%s) OR entity IN (%L, %L))',
            existing, substring(expr FROM '^CHECK \((.*)\)$'), 'ledger_voucher', 'accounting_payment'
        );
    END IF;
END $$;
