-- Columns of one table, in order, with their (domain-resolved) base type.
-- Parameter: table, the quoted, schema-qualified name (e.g. "confirma"."payments").
SELECT a.attname                            AS name,
       b.typname                            AS type_name,
       format_type(a.atttypid, a.atttypmod) AS sql_type,
       b.typcategory                        AS category
FROM pg_catalog.pg_attribute AS a
JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
JOIN pg_catalog.pg_type AS b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
WHERE a.attrelid = to_regclass(%(table)s)
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attnum
