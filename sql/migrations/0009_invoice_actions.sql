-- Invoice actions (POST /invoice/action): what a creditor tells the agency happened outside it
-- (a direct payment, a withdrawal, a pause, a new case due date, a payment plan, an objection, a comment).

-- Input: one row per action, keyed by a stable action_id. Amounts are plain numeric (not (14,2)) so a
-- value with more than 2 decimals reaches validation and is rejected with its reason, never rounded away.
CREATE TABLE IF NOT EXISTS confirma_source.invoice_actions (
    action_id                       text PRIMARY KEY,
    invoice_id                      text NOT NULL,
    code                            text NOT NULL,
    comment                         text,
    due_date                        date,           -- DUEDATE: the new case due date
    payment_method                  text,           -- DIRECTPAYMENT
    amount                          numeric,
    currency                        text,
    payment_date                    date,
    reference                       text,
    outstanding_capital_amount      numeric,
    outstanding_interest_amount     numeric,
    outstanding_costs_amount        numeric,
    updated_at                      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS invoice_actions_invoice_idx ON confirma_source.invoice_actions (invoice_id);

-- The action ledger: one row per action, the exactly-once state machine
-- waiting -> pending -> in_flight -> sent | rejected | failed. An action is not idempotent (a DIRECTPAYMENT
-- sent twice records a payment twice), so an in_flight row is never resent automatically: it is settled from
-- the case details where the effect shows (settled_by 'case_details') or by an operator ('operator').
CREATE TABLE IF NOT EXISTS confirma.invoice_action_ledger (
    action_id           text PRIMARY KEY,
    invoice_id          text NOT NULL,
    creditor_id         text,
    code                text NOT NULL,
    invoice_number      bigint,
    case_id             bigint,
    state               text NOT NULL
        CHECK (state IN ('waiting', 'pending', 'in_flight', 'sent', 'rejected', 'failed')),
    waiting_reason      text,
    attempts            integer NOT NULL DEFAULT 0,
    payload             jsonb,
    payload_hash        text,
    last_error          text,
    last_http_status    integer,
    settled_by          text CHECK (settled_by IN ('api', 'case_details', 'operator')),
    in_flight_since     timestamptz,
    sent_at             timestamptz,
    run_id              text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS invoice_action_ledger_state_idx ON confirma.invoice_action_ledger (state);

-- Action reasons (validation, waiting for a case) live beside the other rejected rows: the entity check is
-- widened with 'invoice_action' (whatever it already allows is kept, not restated).
DO $$
DECLARE
    existing text;
    expr text;
BEGIN
    SELECT conname, pg_get_constraintdef(oid) INTO existing, expr
    FROM pg_constraint
    WHERE conrelid = 'confirma.rejected_rows'::regclass AND contype = 'c'
      AND pg_get_constraintdef(oid) LIKE '%entity%'
      AND pg_get_constraintdef(oid) NOT LIKE '%invoice_action%'
    LIMIT 1;
    IF existing IS NOT NULL THEN
        EXECUTE format('ALTER TABLE confirma.rejected_rows DROP CONSTRAINT %I', existing);
        EXECUTE format(
            'ALTER TABLE confirma.rejected_rows ADD CONSTRAINT %I CHECK ((%s) OR entity = %L)',
            existing, substring(expr FROM '^CHECK \((.*)\)$'), 'invoice_action'
        );
    END IF;
END $$;

-- What the agency shows of a case after actions: its due date (DUEDATE) and paused flag (PAUSE).
ALTER TABLE confirma.cases ADD COLUMN IF NOT EXISTS due_date date;
ALTER TABLE confirma.cases ADD COLUMN IF NOT EXISTS paused boolean;

-- The complete invoice body: collection costs and interest (Lifecycle invoices going overdue), street2/3 of
-- the seller, countryName of buyer and recipient, a discount per row, and quantities with the 4 decimals
-- api/contract.py allows.
ALTER TABLE confirma_source.invoices ADD COLUMN IF NOT EXISTS creditor_costs_amount numeric(14,2);
ALTER TABLE confirma_source.invoices ADD COLUMN IF NOT EXISTS collection_fees_amount numeric(14,2);
ALTER TABLE confirma_source.invoices ADD COLUMN IF NOT EXISTS interest_type text;
ALTER TABLE confirma_source.invoices ADD COLUMN IF NOT EXISTS interest_percentage numeric(7,4);
ALTER TABLE confirma_source.invoices ADD COLUMN IF NOT EXISTS seller_street2 text;
ALTER TABLE confirma_source.invoices ADD COLUMN IF NOT EXISTS seller_street3 text;
ALTER TABLE confirma_source.invoices ADD COLUMN IF NOT EXISTS buyer_country_name text;
ALTER TABLE confirma_source.invoices ADD COLUMN IF NOT EXISTS recipient_country_name text;
ALTER TABLE confirma_source.invoice_rows ADD COLUMN IF NOT EXISTS discount_percentage numeric(5,2);
ALTER TABLE confirma_source.invoice_rows ALTER COLUMN quantity TYPE numeric(14,4);

-- Those changes change the source hash of every invoice (new columns, quantity printed with 4 decimals).
-- Hashes stored before are version 1: the next run recomputes a version-1 hash, and where it still matches
-- (nothing changed) stores the version-2 hash, so the upgrade alone flags nothing "changed after submission".
ALTER TABLE confirma.invoice_ledger ADD COLUMN IF NOT EXISTS source_hash_version smallint NOT NULL DEFAULT 1;
ALTER TABLE confirma.invoice_ledger ALTER COLUMN source_hash_version SET DEFAULT 2;
-- the nightly look for version-1 rows reads this (empty once upgraded) index, not the whole ledger
CREATE INDEX IF NOT EXISTS invoice_ledger_old_hash_idx ON confirma.invoice_ledger (invoice_id)
    WHERE source_hash_version < 2;
