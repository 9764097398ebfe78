-- Lock one unprocessed inbox row for this transaction; another run already holding it is skipped.
SELECT payload::text
FROM confirma.api_inbox
WHERE id = %(id)s AND processed_at IS NULL
FOR UPDATE SKIP LOCKED
