-- The ledger remembers a hash of the source rows (invoice + its rows, without updated_at) as
-- they were when submitted, so a nightly run can flag "changed after submission" in SQL without
-- re-reading, re-validating and re-mapping every invoice ever sent.
ALTER TABLE confirma.invoice_ledger ADD COLUMN IF NOT EXISTS source_hash text;
ALTER TABLE confirma.invoice_ledger ADD COLUMN IF NOT EXISTS run_id text;
ALTER TABLE confirma.clients ADD COLUMN IF NOT EXISTS run_id text;
CREATE INDEX IF NOT EXISTS invoice_ledger_creditor_state_idx ON confirma.invoice_ledger (creditor_id, state);
