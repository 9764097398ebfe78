-- Delete the window's rows whose key is not in the new set (replace_window, strategy 'merge');
-- the rest is merged, so an unchanged re-sync deletes and rewrites nothing.
DELETE FROM {target} AS t
WHERE {in_window}
  AND NOT EXISTS (SELECT 1 FROM {stage} AS s WHERE ({stage_keys}) = ({target_keys}))
