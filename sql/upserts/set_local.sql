-- Change one setting until the end of the transaction (or until set back); returns its old value.
SELECT current_setting(%(name)s) AS previous, set_config(%(name)s, %(value)s, true) AS current
