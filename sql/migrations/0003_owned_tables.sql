-- Tables the pipeline owns (schema confirma). Everything is keyed by the warehouse's stable
-- creditor_id (a client imported by hand may not know its Confirma clientIdentifier).
-- Ids the API gives as integers are bigint (settlementId exceeds int32); money numeric(14,2);
-- plain API dates are date, API date-times are timestamptz.

-- Client registry: one row per creditor the pipeline has tried to onboard (or imported).
CREATE TABLE IF NOT EXISTS confirma.clients (
    creditor_id                 text PRIMARY KEY,
    state                       text NOT NULL
        CHECK (state IN ('in_flight', 'created', 'imported', 'rejected', 'failed', 'not_created')),
    client_identifier           bigint UNIQUE,
    customer_code               bigint,
    payment_reference_prefix    bigint,
    content_hash                text,
    attempts                    integer NOT NULL DEFAULT 0,
    last_error                  text,
    in_flight_since             timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now()
);

-- Client API tokens, encrypted at rest (see confirma_pipeline/vault.py). Never plaintext.
CREATE TABLE IF NOT EXISTS confirma.client_tokens (
    creditor_id         text PRIMARY KEY REFERENCES confirma.clients (creditor_id) ON DELETE CASCADE,
    token_ciphertext    bytea NOT NULL,
    key_id              text NOT NULL,
    fingerprint         text NOT NULL,
    status              text NOT NULL DEFAULT 'unknown'
        CHECK (status IN ('unknown', 'valid', 'expiring', 'expired', 'invalid')),
    status_message      text,
    expires_at          timestamptz,
    last_validated_at   timestamptz,
    last_renewed_at     timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- What analysts see of credentials: everything but the ciphertext.
CREATE OR REPLACE VIEW confirma.client_credentials AS
SELECT creditor_id, fingerprint, status, status_message, expires_at, last_validated_at,
       last_renewed_at, updated_at
FROM confirma.client_tokens;

-- Invoice submission ledger: one row per invoice, the exactly-once state machine
-- pending -> in_flight -> submitted | rejected | failed.
CREATE TABLE IF NOT EXISTS confirma.invoice_ledger (
    invoice_id                  text PRIMARY KEY,
    creditor_id                 text NOT NULL REFERENCES confirma.clients (creditor_id),
    invoice_number              bigint NOT NULL,
    state                       text NOT NULL
        CHECK (state IN ('pending', 'in_flight', 'submitted', 'rejected', 'failed')),
    attempts                    integer NOT NULL DEFAULT 0,
    payload_hash                text NOT NULL,
    last_error                  text,
    last_http_status            integer,
    changed_after_submission    boolean NOT NULL DEFAULT false,
    changed_payload_hash        text,
    case_id                     bigint,
    in_flight_since             timestamptz,
    submitted_at                timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (creditor_id, invoice_number)
);
CREATE INDEX IF NOT EXISTS invoice_ledger_state_idx ON confirma.invoice_ledger (state);

-- Rejected rows: one row per (entity, key, content version), with every failed check.
CREATE TABLE IF NOT EXISTS confirma.rejected_rows (
    entity          text NOT NULL CHECK (entity IN ('creditor', 'invoice', 'invoice_row', 'api')),
    entity_key      text NOT NULL,
    content_hash    text NOT NULL,
    creditor_id     text,
    checks          text[] NOT NULL,
    reason          text NOT NULL,
    source          text NOT NULL DEFAULT 'validation' CHECK (source IN ('validation', 'api')),
    run_id          text,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    PRIMARY KEY (entity, entity_key, content_hash)
);

-- Distribution (delivery) records per client and invoice number.
CREATE TABLE IF NOT EXISTS confirma.distribution (
    creditor_id             text NOT NULL REFERENCES confirma.clients (creditor_id),
    invoice_number          bigint NOT NULL,
    invoice_date            date,
    distribution_method     text,
    distribution_status     text,
    distributed_at          timestamptz,
    payment_control_status  text,
    case_id                 bigint,
    created_at              timestamptz,
    fetched_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (creditor_id, invoice_number)
);
CREATE INDEX IF NOT EXISTS distribution_date_idx ON confirma.distribution (creditor_id, invoice_date);

-- Case details (payment control / collection) per case.
CREATE TABLE IF NOT EXISTS confirma.cases (
    case_id             bigint PRIMARY KEY,
    creditor_id         text NOT NULL REFERENCES confirma.clients (creditor_id),
    invoice_number      bigint,
    status              text,
    stage               text,
    created_at          timestamptz,
    closed_at           date,
    active_days         integer,
    creditor            text,
    currency            text,
    agency              text,
    capital_amount      numeric(14,2),
    interest_amount     numeric(14,2),
    costs_amount        numeric(14,2),
    total_amount        numeric(14,2),
    fetched_at          timestamptz NOT NULL DEFAULT now()
);

-- Payments: may still change until settled, so a day window is replaced as a whole.
-- payment_key is a content hash (the API gives no payment id) made unique per client.
CREATE TABLE IF NOT EXISTS confirma.payments (
    creditor_id                 text NOT NULL REFERENCES confirma.clients (creditor_id),
    payment_key                 text NOT NULL,
    payment_day                 date NOT NULL,
    case_id                     bigint,
    invoice_number              text,
    invoice_payment_reference   text,
    original_payment_reference  text,
    account_name                text,
    booking_date                timestamptz,
    payment_date                timestamptz,
    amount                      numeric(14,2),
    currency                    text,
    fetched_at                  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (creditor_id, payment_key)
);
CREATE INDEX IF NOT EXISTS payments_day_idx ON confirma.payments (creditor_id, payment_day);

-- Settlements (payouts), their allocations and the allocation breakdown items.
CREATE TABLE IF NOT EXISTS confirma.settlements (
    settlement_id           bigint PRIMARY KEY,
    creditor_id             text NOT NULL REFERENCES confirma.clients (creditor_id),
    settlement_date         date NOT NULL,
    agency                  text,
    remittance_reference    text,
    beneficiary_name        text,
    beneficiary_iban        text,
    beneficiary_bic         text,
    settlement_amount       numeric(14,2) NOT NULL,
    currency                text,
    api_fetch_date          timestamptz,
    fetched_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS settlements_date_idx ON confirma.settlements (creditor_id, settlement_date);

CREATE TABLE IF NOT EXISTS confirma.settlement_allocations (
    allocation_id               bigint PRIMARY KEY,
    settlement_id               bigint NOT NULL REFERENCES confirma.settlements (settlement_id) ON DELETE CASCADE,
    allocated_total_amount      numeric(14,2) NOT NULL,
    allocation_date             date,
    currency                    text,
    case_id                     bigint,
    original_invoice_number     text,
    original_payment_reference  text
);
CREATE INDEX IF NOT EXISTS allocations_settlement_idx ON confirma.settlement_allocations (settlement_id);

CREATE TABLE IF NOT EXISTS confirma.allocation_breakdown (
    allocation_id   bigint NOT NULL REFERENCES confirma.settlement_allocations (allocation_id) ON DELETE CASCADE,
    line_no         integer NOT NULL,
    type            text NOT NULL,
    amount          numeric(14,2) NOT NULL,
    PRIMARY KEY (allocation_id, line_no)
);

-- Raw API answers that must not be lost between fetch and write (settlements fetched with
-- unfetchedOnly=true are marked fetched by the API on read). Written in its own transaction
-- right after the fetch; processed_at is set in the same transaction as the normalized rows.
CREATE TABLE IF NOT EXISTS confirma.api_inbox (
    id              bigserial PRIMARY KEY,
    creditor_id     text NOT NULL REFERENCES confirma.clients (creditor_id),
    kind            text NOT NULL,
    fetched_at      timestamptz NOT NULL DEFAULT now(),
    payload         jsonb NOT NULL,
    processed_at    timestamptz,
    last_error      text
);
CREATE INDEX IF NOT EXISTS api_inbox_pending_idx ON confirma.api_inbox (kind) WHERE processed_at IS NULL;

-- Finvoice (e-invoice) addresses of buyers, by business id (Y-tunnus).
CREATE TABLE IF NOT EXISTS confirma.finvoice_credentials (
    business_id             text NOT NULL,
    e_invoice_address       text NOT NULL,
    e_invoice_operator_id   text NOT NULL DEFAULT '',
    e_invoice_address_name  text,
    e_invoice_address_type  text,
    e_invoice_operator_name text,
    last_modified           timestamptz,
    fetched_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (business_id, e_invoice_address, e_invoice_operator_id)
);
