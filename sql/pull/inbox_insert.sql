-- Keep a raw API answer before anything else can fail (its own committed transaction).
INSERT INTO confirma.api_inbox (creditor_id, kind, payload)
VALUES (%(creditor_id)s, %(kind)s, %(payload)s::jsonb)
RETURNING id
