-- Distinct buyer business ids of submitted invoices, per client ({invoices} = the source relation).
SELECT DISTINCT l.creditor_id, btrim(i.buyer_business_id) AS business_id
FROM confirma.invoice_ledger l
JOIN {invoices} i ON i.invoice_id = l.invoice_id
WHERE l.state = 'submitted'
  AND l.creditor_id = ANY(%(ids)s::text[])
  AND nullif(btrim(i.buyer_business_id), '') IS NOT NULL
ORDER BY 2, 1
