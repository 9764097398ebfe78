-- md5 of an invoice's source content: its contract columns except updated_at, plus its rows in
-- order. ROW(...)::text is several times cheaper than to_jsonb and just as deterministic.
-- updated_at is returned beside the hash, read in the same statement (same snapshot), so the ledger can
-- store both: the nightly changed-after-submission check then skips every invoice untouched since.
-- Placeholders: {invoices}, {invoice_rows} (relations), {invoice_cols}, {row_cols} (column lists);
-- %(invoice_ids)s an array or NULL.
SELECT i.invoice_id,
       md5(ROW({invoice_cols})::text || coalesce(r.rows_text, '')) AS source_hash,
       i.updated_at AS source_updated_at
FROM {invoices} AS i
LEFT JOIN LATERAL (
    SELECT string_agg(ROW({row_cols})::text, '|' ORDER BY x.row_number) AS rows_text
    FROM {invoice_rows} AS x
    WHERE x.invoice_id = i.invoice_id
) AS r ON true
WHERE %(invoice_ids)s::text[] IS NULL OR i.invoice_id = ANY(%(invoice_ids)s::text[])
