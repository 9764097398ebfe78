-- Settlements whose allocations do not add up to the settlement amount (no allocations = 0).
SELECT s.settlement_id, s.creditor_id, s.settlement_amount, coalesce(sum(a.allocated_total_amount), 0) AS allocated
FROM confirma.settlements s
LEFT JOIN confirma.settlement_allocations a USING (settlement_id)
GROUP BY s.settlement_id, s.creditor_id, s.settlement_amount
HAVING coalesce(sum(a.allocated_total_amount), 0) <> s.settlement_amount
ORDER BY s.settlement_id
