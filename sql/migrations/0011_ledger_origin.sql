-- Where a ledger row came from: 'pushed' (this pipeline sent it) or 'adopted' (a client backfill
-- found it already at Confirma, sent by another system or by hand, and registered it without a POST).
ALTER TABLE confirma.invoice_ledger ADD COLUMN IF NOT EXISTS origin text NOT NULL DEFAULT 'pushed';
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'invoice_ledger_origin_check') THEN
        ALTER TABLE confirma.invoice_ledger
            ADD CONSTRAINT invoice_ledger_origin_check CHECK (origin IN ('pushed', 'adopted'));
    END IF;
END $$;
