-- Merge the stage into the target when there is nothing to compare (no non-key, non-touch
-- columns): insert new keys, leave existing rows alone.
WITH merged AS (
    INSERT INTO {target} AS t ({columns})
    SELECT {stage_columns} FROM {stage} AS s
    ON CONFLICT ({keys}) DO NOTHING
    RETURNING 1
)
SELECT count(*) AS inserted, 0 AS updated
FROM merged
