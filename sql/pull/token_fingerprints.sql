SELECT creditor_id, fingerprint FROM confirma.client_tokens WHERE creditor_id = ANY(%(ids)s::text[])
