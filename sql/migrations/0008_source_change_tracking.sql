-- "Changed after submission" costs only what changed (issue 16): the nightly check re-hashes a submitted
-- invoice only when its source updated_at differs from the one seen when it was last hashed.
--
-- 1. The ledger remembers the source updated_at its last hash was taken at (NULL: never checked since
--    submission, so the first night after a submission hashes that invoice once).
ALTER TABLE confirma.invoice_ledger ADD COLUMN IF NOT EXISTS source_updated_at timestamptz;

-- 2. The bundled source tables keep updated_at true whoever writes them: an UPDATE that changes an invoice
--    but not its updated_at gets the current time; inserting, changing or deleting rows of a submitted
--    invoice moves its updated_at (rows of an invoice not yet submitted are hashed at submission anyway). (A source configured as another relation must maintain updated_at itself the same
--    way; where updated_at is NULL the invoice is re-hashed every night.)
CREATE OR REPLACE FUNCTION confirma_source.touch_invoice() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at AND NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := clock_timestamp();
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS invoices_touch ON confirma_source.invoices;
CREATE TRIGGER invoices_touch BEFORE UPDATE ON confirma_source.invoices
FOR EACH ROW EXECUTE FUNCTION confirma_source.touch_invoice();

-- One statement per statement (transition tables), not one per row: bulk loads of rows stay cheap. Only
-- submitted invoices are touched (the only ones the check compares): a loader writing a new invoice and its
-- rows keeps the updated_at it wrote.
CREATE OR REPLACE FUNCTION confirma_source.touch_invoice_of_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE confirma_source.invoices AS i SET updated_at = clock_timestamp()
        FROM confirma.invoice_ledger AS l
        WHERE l.invoice_id = i.invoice_id AND l.state = 'submitted'
          AND i.invoice_id IN (SELECT invoice_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE confirma_source.invoices AS i SET updated_at = clock_timestamp()
        FROM confirma.invoice_ledger AS l
        WHERE l.invoice_id = i.invoice_id AND l.state = 'submitted'
          AND i.invoice_id IN (SELECT invoice_id FROM old_rows);
    ELSE
        UPDATE confirma_source.invoices AS i SET updated_at = clock_timestamp()
        FROM confirma.invoice_ledger AS l
        WHERE l.invoice_id = i.invoice_id AND l.state = 'submitted'
          AND i.invoice_id IN (SELECT invoice_id FROM new_rows UNION SELECT invoice_id FROM old_rows);
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS invoice_rows_touch_insert ON confirma_source.invoice_rows;
CREATE TRIGGER invoice_rows_touch_insert AFTER INSERT ON confirma_source.invoice_rows
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION confirma_source.touch_invoice_of_rows();

DROP TRIGGER IF EXISTS invoice_rows_touch_update ON confirma_source.invoice_rows;
CREATE TRIGGER invoice_rows_touch_update AFTER UPDATE ON confirma_source.invoice_rows
REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION confirma_source.touch_invoice_of_rows();

DROP TRIGGER IF EXISTS invoice_rows_touch_delete ON confirma_source.invoice_rows;
CREATE TRIGGER invoice_rows_touch_delete AFTER DELETE ON confirma_source.invoice_rows
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION confirma_source.touch_invoice_of_rows();
