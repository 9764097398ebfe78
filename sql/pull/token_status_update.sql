-- Record what validation (and renewal) found; last_renewed_at is kept unless this run renewed.
UPDATE confirma.client_tokens
SET status = %(status)s,
    status_message = %(status_message)s,
    expires_at = %(expires_at)s,
    last_validated_at = %(last_validated_at)s,
    last_renewed_at = coalesce(%(last_renewed_at)s, last_renewed_at),
    updated_at = now()
WHERE creditor_id = %(creditor_id)s
