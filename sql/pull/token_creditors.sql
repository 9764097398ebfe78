-- Every stored client token (validated nightly), whatever its last status.
SELECT t.creditor_id
FROM confirma.client_tokens t
WHERE %(ids)s::text[] IS NULL OR t.creditor_id = ANY(%(ids)s::text[])
ORDER BY t.creditor_id
