-- md5 of an invoice's source content (header row without updated_at, plus its rows in order).
-- Parameters: {invoices}, {invoice_rows} are relation identifiers; %(invoice_ids)s an array or NULL.
SELECT i.invoice_id,
       md5((to_jsonb(i) - 'updated_at')::text || coalesce(r.rows_text, '')) AS source_hash
FROM {invoices} AS i
LEFT JOIN LATERAL (
    SELECT string_agg((to_jsonb(x))::text, '|' ORDER BY x.row_number) AS rows_text
    FROM {invoice_rows} AS x
    WHERE x.invoice_id = i.invoice_id
) AS r ON true
WHERE %(invoice_ids)s::text[] IS NULL OR i.invoice_id = ANY(%(invoice_ids)s::text[])
