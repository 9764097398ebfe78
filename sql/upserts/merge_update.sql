-- Merge the stage into the target: insert new keys; update an existing row only when one of the
-- compared columns differs (IS DISTINCT FROM treats NULLs as values), so an unchanged re-sync writes
-- no row versions. The SET list may also set "touch" columns (e.g. fetched_at), which are not
-- compared: they change only together with a real change.
-- xmax = 0 on the returned row version means it was inserted, otherwise updated.
WITH merged AS (
    INSERT INTO {target} AS t ({columns})
    SELECT {columns} FROM {stage}
    ON CONFLICT ({keys}) DO UPDATE
    SET {assignments}
    WHERE ({target_values}) IS DISTINCT FROM ({new_values})
    RETURNING (t.xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted,
       count(*) FILTER (WHERE NOT inserted) AS updated
FROM merged
