-- Raw answers fetched but not yet written (leftovers of an interrupted or failed run), oldest first.
SELECT id, creditor_id
FROM confirma.api_inbox
WHERE kind = %(kind)s AND processed_at IS NULL
  AND (%(ids)s::text[] IS NULL OR creditor_id = ANY(%(ids)s::text[]))
ORDER BY id
