-- Plain insert of the whole stage (replace_window, strategy 'delete_insert'): a key that still
-- exists after the window delete is an error, not an update.
INSERT INTO {target} ({columns})
SELECT {columns} FROM {stage}
