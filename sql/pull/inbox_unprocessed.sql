-- The settlements gap: answers the API has already marked fetched that are not in the tables yet.
SELECT creditor_id, count(*) AS answers, min(fetched_at) AS oldest, max(last_error) AS last_error
FROM confirma.api_inbox
WHERE kind = %(kind)s AND processed_at IS NULL
GROUP BY creditor_id
ORDER BY creditor_id
