-- Cases of submitted invoices that are still open, or whose details were never fetched.
SELECT l.creditor_id, l.case_id, l.invoice_number
FROM confirma.invoice_ledger l
LEFT JOIN confirma.cases c ON c.case_id = l.case_id
WHERE l.state = 'submitted'
  AND l.case_id IS NOT NULL
  AND l.creditor_id = ANY(%(ids)s::text[])
  AND (c.case_id IS NULL OR c.status IS DISTINCT FROM 'CLOSED')
ORDER BY l.creditor_id, l.case_id
