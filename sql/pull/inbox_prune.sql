-- Processed raw answers are an audit trail for a while, then dropped. Unprocessed ones are never dropped.
DELETE FROM confirma.api_inbox
WHERE kind = %(kind)s AND processed_at IS NOT NULL
  AND processed_at < now() - make_interval(days => %(days)s)
