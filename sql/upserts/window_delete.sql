-- Delete every row of the window (replace_window, strategy 'delete_insert').
DELETE FROM {target} AS t WHERE {in_window}
