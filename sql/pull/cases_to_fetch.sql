-- Cases still open, or whose details were never fetched, of every case id known for these clients:
-- from the distribution records (which include invoices the pipeline did not send: adopted, or sent by
-- hand or another system) and from the ledger (an id known before its distribution record arrives).
SELECT DISTINCT ON (k.case_id) k.creditor_id, k.case_id, k.invoice_number
FROM (
    SELECT d.creditor_id, d.case_id, d.invoice_number
    FROM confirma.distribution d
    WHERE d.case_id IS NOT NULL AND d.creditor_id = ANY(%(ids)s::text[])
    UNION ALL
    SELECT l.creditor_id, l.case_id, l.invoice_number
    FROM confirma.invoice_ledger l
    WHERE l.state = 'submitted' AND l.case_id IS NOT NULL AND l.creditor_id = ANY(%(ids)s::text[])
) AS k
LEFT JOIN confirma.cases c ON c.case_id = k.case_id
WHERE c.case_id IS NULL OR c.status IS DISTINCT FROM 'CLOSED'
ORDER BY k.case_id, k.creditor_id
