UPDATE confirma.api_inbox SET last_error = %(error)s WHERE id = %(id)s AND processed_at IS NULL
