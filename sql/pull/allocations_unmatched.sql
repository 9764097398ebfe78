-- Allocations whose original invoice number matches no invoice submitted by the same client.
SELECT s.creditor_id, a.allocation_id, a.original_invoice_number
FROM confirma.settlement_allocations a
JOIN confirma.settlements s USING (settlement_id)
WHERE NOT EXISTS (
    SELECT 1 FROM confirma.invoice_ledger l
    WHERE l.creditor_id = s.creditor_id
      AND l.state = 'submitted'
      AND l.invoice_number::text = a.original_invoice_number
)
ORDER BY s.creditor_id, a.allocation_id
