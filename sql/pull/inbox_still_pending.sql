SELECT id FROM confirma.api_inbox WHERE id = ANY(%(ids)s::bigint[]) AND processed_at IS NULL
