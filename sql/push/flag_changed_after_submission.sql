-- Flag submitted invoices whose source content changed since they were sent (same hash as
-- source_hashes.sql). They are never resent automatically: an operator decides (credit note,
-- action, or nothing).
WITH current AS (
    SELECT i.invoice_id,
           md5(ROW({invoice_cols})::text || coalesce(r.rows_text, '')) AS source_hash
    FROM {invoices} AS i
    JOIN confirma.invoice_ledger AS l ON l.invoice_id = i.invoice_id AND l.state = 'submitted'
    LEFT JOIN LATERAL (
        SELECT string_agg(ROW({row_cols})::text, '|' ORDER BY x.row_number) AS rows_text
        FROM {invoice_rows} AS x
        WHERE x.invoice_id = i.invoice_id
    ) AS r ON true
)
UPDATE confirma.invoice_ledger AS l
SET changed_after_submission = (c.source_hash IS DISTINCT FROM l.source_hash),
    changed_payload_hash = CASE WHEN c.source_hash IS DISTINCT FROM l.source_hash THEN c.source_hash END,
    updated_at = now()
FROM current AS c
WHERE c.invoice_id = l.invoice_id
  AND l.source_hash IS NOT NULL
  AND l.changed_after_submission IS DISTINCT FROM (c.source_hash IS DISTINCT FROM l.source_hash)
