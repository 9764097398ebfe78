-- Copy each distribution record's case id onto the invoice's ledger row (only real changes).
UPDATE confirma.invoice_ledger l
SET case_id = d.case_id, updated_at = now()
FROM confirma.distribution d
WHERE d.creditor_id = l.creditor_id
  AND d.invoice_number = l.invoice_number
  AND d.creditor_id = ANY(%(ids)s::text[])
  AND d.case_id IS NOT NULL
  AND l.case_id IS DISTINCT FROM d.case_id
