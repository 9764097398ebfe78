-- The result columns (names and types) of a query, without running it.
SELECT * FROM ({query}) AS q LIMIT 0
