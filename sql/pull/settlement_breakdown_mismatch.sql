-- Allocations whose breakdown items do not add up to the allocated total.
SELECT a.allocation_id, a.settlement_id, a.allocated_total_amount, sum(b.amount) AS breakdown_sum
FROM confirma.settlement_allocations a
JOIN confirma.allocation_breakdown b USING (allocation_id)
GROUP BY a.allocation_id, a.settlement_id, a.allocated_total_amount
HAVING sum(b.amount) <> a.allocated_total_amount
ORDER BY a.allocation_id
