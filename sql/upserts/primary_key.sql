-- Primary key columns of one table, in key order.
-- Parameter: table, the quoted, schema-qualified name (e.g. "confirma"."payments").
SELECT a.attname
FROM pg_catalog.pg_index AS i
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, ord)
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = to_regclass(%(table)s)
  AND i.indisprimary
ORDER BY k.ord
