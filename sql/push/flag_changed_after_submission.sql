-- Flag submitted invoices whose source content changed since they were sent (same hash as
-- source_hashes.sql). They are never resent automatically: an operator decides (credit note,
-- action, or nothing).
--
-- Only invoices whose source updated_at differs from the one their last check saw are hashed (or whose
-- updated_at is NULL: a source that does not keep it is hashed every night), so a night with nothing new
-- reads (invoice_id, updated_at) pairs and hashes nothing. Every hashed invoice records the updated_at it
-- was hashed at; its flag is rewritten only when it flips. Returns the number of flags that flipped.
WITH candidates AS (
    SELECT l.invoice_id, l.source_hash, l.changed_after_submission AS flagged, i.updated_at
    FROM confirma.invoice_ledger AS l
    JOIN {invoices} AS i ON i.invoice_id = l.invoice_id
    WHERE l.state = 'submitted'
      AND l.source_hash IS NOT NULL
      AND (i.updated_at IS NULL OR l.source_updated_at IS DISTINCT FROM i.updated_at)
),
current AS (
    SELECT c.invoice_id, c.updated_at, c.flagged,
           md5(ROW({invoice_cols})::text || coalesce(r.rows_text, '')) IS DISTINCT FROM c.source_hash AS changed,
           md5(ROW({invoice_cols})::text || coalesce(r.rows_text, '')) AS source_hash
    FROM candidates AS c
    JOIN {invoices} AS i ON i.invoice_id = c.invoice_id
    LEFT JOIN LATERAL (
        SELECT string_agg(ROW({row_cols})::text, '|' ORDER BY x.row_number) AS rows_text
        FROM {invoice_rows} AS x
        WHERE x.invoice_id = i.invoice_id
    ) AS r ON true
),
written AS (
    UPDATE confirma.invoice_ledger AS l
    SET changed_after_submission = c.changed,
        changed_payload_hash = CASE WHEN c.changed THEN c.source_hash END,
        source_updated_at = c.updated_at,
        updated_at = CASE WHEN c.changed IS DISTINCT FROM c.flagged THEN now() ELSE l.updated_at END
    FROM current AS c
    WHERE c.invoice_id = l.invoice_id
      AND (c.changed IS DISTINCT FROM c.flagged
           OR l.source_updated_at IS DISTINCT FROM c.updated_at
           OR l.changed_payload_hash IS DISTINCT FROM CASE WHEN c.changed THEN c.source_hash END)
    RETURNING c.changed IS DISTINCT FROM c.flagged AS flipped
)
SELECT count(*) FILTER (WHERE flipped) FROM written
