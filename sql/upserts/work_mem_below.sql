-- Whether work_mem is below a size (e.g. '256MB').
SELECT pg_size_bytes(current_setting('work_mem')) < pg_size_bytes(%(value)s)
