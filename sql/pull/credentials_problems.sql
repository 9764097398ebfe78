-- Tokens that are not usable (after this run's renewals), for the credentials check.
SELECT creditor_id, status, status_message, last_validated_at, last_renewed_at
FROM confirma.client_tokens
WHERE status IN ('invalid', 'expired')
ORDER BY creditor_id
