-- Merge the stage into the target: insert new keys, update rows that changed.
--
-- The LEFT JOIN drops stage rows equal to their stored row before ON CONFLICT sees them:
-- ON CONFLICT DO UPDATE locks (and so writes) every conflicting row even when its WHERE then
-- skips the update, so without the join an unchanged re-sync would dirty every page it touches.
-- The ON CONFLICT ... WHERE still decides for rows inserted or changed concurrently.
-- The SET list may include "touch" columns (e.g. fetched_at), which are not compared: they change
-- only together with a real change. IS DISTINCT FROM treats NULLs as values.
-- xmax = 0 on the returned row version means it was inserted, otherwise updated.
WITH merged AS (
    INSERT INTO {target} AS t ({columns})
    SELECT {stage_columns}
    FROM {stage} AS s
    LEFT JOIN {target} AS o ON ({stored_keys}) = ({stage_keys})
    WHERE {stored_first_key} IS NULL
       OR ({stored_values}) IS DISTINCT FROM ({stage_values})
    ON CONFLICT ({keys}) DO UPDATE
    SET {assignments}
    WHERE ({target_values}) IS DISTINCT FROM ({new_values})
    RETURNING (t.xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted,
       count(*) FILTER (WHERE NOT inserted) AS updated
FROM merged
