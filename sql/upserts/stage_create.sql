-- Staging table for one bulk write: the target's column types (numeric(14,2) stays numeric(14,2)),
-- restricted to the frame's columns, with no indexes, constraints or defaults (every stage column
-- is filled from the frame; the target's defaults apply when the merge inserts). TEMP, so no WAL.
-- Dropped by the caller when done, and ON COMMIT DROP as a safety net.
CREATE TEMP TABLE {stage} ON COMMIT DROP AS
SELECT {columns} FROM {target}
WITH NO DATA
