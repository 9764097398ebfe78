UPDATE confirma.api_inbox SET processed_at = now(), last_error = NULL WHERE id = %(id)s
